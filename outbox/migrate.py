"""The outbox schema's versions: the oracle upgrades an outbox, everyone else only checks it.

The outbox holds what cannot be rebuilt (line ids, signatures, transaction hashes), so its schema
changes by Alembic migrations (``outbox/migrations/versions``), never by dropping a table.

- ``upgrade`` (the oracle's open path, ``Outbox(path)``): a new file gets every revision; an
  outbox made before Alembic (tables, no ``alembic_version``) is checked against the baseline
  revision, stamped with it, then upgraded; an outbox at the head revision is left alone.
- ``check`` (the API's open path, ``Outbox.existing(path)``): never creates or alters anything;
  an outbox not at the head revision is refused with a message that says what to do.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.engine import Connection

BASELINE = "0001"
_VERSION_TABLE = "alembic_version"


class OutboxError(Exception):
    """The outbox cannot be used: the message names the file and what to do."""


class OutboxMissing(OutboxError):
    """There is no outbox at the path given (nothing was created there)."""


class OutboxSchemaError(OutboxError):
    """The file is not an outbox, or not at the schema revision this code needs."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "outbox:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The revision this code's schema (``outbox.schema``) is at."""
    revision = _scripts().get_current_head()
    assert revision is not None, "outbox/migrations has no revision"
    return revision


Tables = dict[str, frozenset[tuple[str, str, bool]]]


def _state(conn: Connection) -> tuple[str | None, Tables]:
    """The stored revision (None without a version table) and the other tables: (column, type, nullable)."""
    inspector = inspect(conn)
    tables = {
        name: frozenset((c["name"], str(c["type"]), bool(c["nullable"])) for c in inspector.get_columns(name))
        for name in inspector.get_table_names()
        if name != _VERSION_TABLE
    }
    revision = MigrationContext.configure(conn).get_current_revision()
    return revision, tables


@cache
def _baseline_tables() -> Tables:
    """The tables the baseline revision makes, as SQLite reports them (built in memory, once)."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), BASELINE)
            return _state(conn)[1]
    finally:
        engine.dispose()


def _is_baseline(tables: Tables, dialect: str = "sqlite") -> bool:
    """Whether these tables are an outbox made before Alembic (only ever a SQLite file: an outbox
    in PostgreSQL has had schema versions from its first day)."""
    return dialect == "sqlite" and tables == _baseline_tables()


def shown(location: Path | str) -> str:
    """An outbox's location for a message: a URL without its password."""
    if "://" not in str(location):
        return str(location)
    return make_url(str(location)).render_as_string(hide_password=True)


def upgrade(engine: Engine, path: Path | str) -> str | None:
    """Bring the outbox at ``path`` to the head revision; the revision it was at (None: new file)."""
    dialect = engine.dialect.name
    path = shown(path)
    with engine.begin() as conn:
        revision, tables = _state(conn)
        if revision == head():
            return revision
        if revision is None and tables:
            if not _is_baseline(tables, dialect):
                raise OutboxSchemaError(
                    f"{path} has tables {sorted(tables)} but no schema version, and they are not an outbox's: "
                    "is this the right file?"
                )
            command.stamp(_config(conn), BASELINE)  # made by create_all before Alembic: the baseline
            revision = BASELINE
        try:
            command.upgrade(_config(conn), "head")
        except CommandError as err:
            raise OutboxSchemaError(
                f"{path} is at schema revision {revision}, which this code does not know "
                f"(its newest is {head()}): was it upgraded by a newer version? ({err})"
            ) from err
    return revision


def check(engine: Engine, path: Path | str) -> None:
    """OutboxSchemaError unless the outbox at ``path`` is at the head revision; changes nothing."""
    path = shown(path)
    with engine.connect() as conn:
        revision, tables = _state(conn)
    if revision == head():
        return
    if revision is None:
        if _is_baseline(tables, engine.dialect.name):
            raise OutboxSchemaError(
                f"{path} was made before the outbox had schema versions: start the oracle "
                "(royalty-oracle) once to upgrade it"
            )
        raise OutboxSchemaError(f"{path} is not an oracle outbox (tables: {sorted(tables) or 'none'})")
    try:
        known = _scripts().get_revision(revision) is not None
    except CommandError:
        known = False
    if known:
        raise OutboxSchemaError(
            f"{path} is at schema revision {revision}, this code needs {head()}: start the oracle "
            "(royalty-oracle) once to upgrade it"
        )
    raise OutboxSchemaError(
        f"{path} is at schema revision {revision}, which this code does not know (its newest is {head()})"
    )


def new_revision(message: str) -> Path:
    """Writes an empty revision after the head (numbered 0002, 0003, ...) for a schema change; its path."""
    rev_id = f"{int(head()) + 1:04d}"
    script = command.revision(_config(), message=message, rev_id=rev_id)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
