"""Alembic migrations of the outbox schema (run by ``outbox.migrate``, not by an alembic.ini)."""
