"""One file per revision of the outbox schema; 0001 is the schema the outbox had before Alembic."""
