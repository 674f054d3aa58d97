"""The event indexer: contract events -> SQL tables the API reads (SQLite or PostgreSQL)."""
