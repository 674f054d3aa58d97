"""Alembic environment: migrates the connection that ``outbox.migrate`` passes in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from outbox.schema import metadata

connection = context.config.attributes["connection"]
# render_as_batch: SQLite alters a table by copying it; Alembic's batch mode does that.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
