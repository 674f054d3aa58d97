"""SQLite connection settings, set on every new connection of an engine (the outbox's and the index's).

Both stores run SQLite in WAL mode, so one process writes while others read. They differ in
durability: the outbox holds what cannot be rebuilt (signatures, transaction hashes) and syncs
every commit (FULL survives a kill -9 and a power cut); the index can be rebuilt from the chain
and uses NORMAL (with WAL a crash may lose the last commits, never corrupt the file).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Engine, event


def configure_sqlite(
    engine: Engine, *, synchronous: Literal["FULL", "NORMAL"], busy_timeout_ms: int, set_wal: bool = True
) -> None:
    """Every connection ``engine`` opens from now on: this sync level and lock wait, and WAL.

    WAL is a property of the file, kept once set: a process that only opens a store someone
    else made (the API on the oracle's outbox) passes ``set_wal=False`` and so writes nothing
    to a file that turns out not to be that store."""

    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if set_wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    event.listen(engine, "connect", _pragmas)
