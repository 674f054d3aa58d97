"""How the index's tables change: create, then version; no migration scripts.

Everything in the index can be rebuilt (the chain is the source of truth), so unlike the
oracle's outbox (Alembic, ``outbox/migrations``) the index does not keep migration scripts.
At every start ``upgrade_schema`` compares each table's columns in the database with the model
(``api.indexer.models``) and:

- creates the tables that are missing;
- a projection table (``PROJECTIONS``) whose columns differ is dropped and created again, and
  ``index_state.projection_version`` is cleared, so the indexer replays every projection from
  the stored ``events`` table (no chain reads);
- ``index_state``, ``events`` or ``blocks`` gaining nullable columns get them with
  ``ALTER TABLE ... ADD COLUMN`` (kept data stays valid);
- any other change to those three (a column removed, renamed or made required) drops the whole
  index, which the indexer then rebuilds from the chain.

A change of what a projection computes, without a column change, is a bump of
``Projector.VERSION``: the indexer sees the stored version differ and replays. The same code
runs on SQLite and PostgreSQL (only column names are compared, and both dialects add nullable
columns in place).
"""

from __future__ import annotations

import structlog
from sqlalchemy import Engine, Table, inspect, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from api.indexer.models import PROJECTIONS, Base, IndexState

log = structlog.get_logger("api.indexer")


def upgrade_schema(engine: Engine) -> None:
    """Bring the index's tables to the models' columns (see the module docstring)."""
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        projection_tables = {model.__table__.name for model in PROJECTIONS}  # type: ignore[attr-defined]
        inspector = inspect(conn)
        replay = False
        for table in Base.metadata.sorted_tables:
            have = {column["name"] for column in inspector.get_columns(table.name)}
            want = {column.name for column in table.columns}
            if have == want:
                continue
            if table.name in projection_tables:
                log.warning("index_projection_table_recreated", table=table.name)
                table.drop(conn)
                table.create(conn)
                replay = True
            elif have < want and all(table.columns[name].nullable for name in want - have):
                _add_columns(conn, table, sorted(want - have))
            else:
                log.warning("index_dropped", table=table.name, reason="columns changed: rebuilt from the chain")
                Base.metadata.drop_all(conn)
                Base.metadata.create_all(conn)
                return
        if replay:
            conn.execute(update(IndexState).values(projection_version=None))


def _add_columns(conn: Connection, table: Table, names: list[str]) -> None:
    for name in names:
        column = CreateColumn(table.columns[name]).compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column}"))
        log.info("index_column_added", table=table.name, column=name)
