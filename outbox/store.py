"""The durable outbox: every accepted line and every report, with its state, in SQLite.

Nothing is lost and nothing is counted twice because of three rules kept here:
- a line is stored once per (licensee, line id); reading the same file again finds it;
- a (licence, period) gets at most one report row, ever (a unique key), and a report row is
  written with its lines' ``report_id`` in the same transaction;
- a report's state moves only as ``outbox.reports`` allows (signed -> sent -> settled |
  rejected, and sent -> signed when re-signed), checked in SQL; `sent` rows are reconciled
  with the chain before anything is sent again.

The schema belongs to ``outbox.migrate``: ``Outbox(path)`` (the oracle) creates or upgrades it,
``Outbox.existing(path)`` (the API) only checks it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from intake.validate import ValidLine
from outbox import migrate
from outbox.benchmarks import Benchmarks
from outbox.indices import Indices
from outbox.migrate import OutboxMissing
from outbox.rates import Rates
from outbox.reports import Reports
from outbox.schema import (
    LineState,
    closed_periods_table,
    files_table,
    lines_table,
    rejections_table,
    reports_table,
)
from outbox.sqlite import configure_sqlite

_LINE_COLUMNS = (
    "licensee, line_id, licence_id, period, sale_day, territory, field, channel, units, gross, deductions, leaf, "
    "in_scope, source, line_number, revision, kind, returns_line_id, currency, minor_units, state"
)
_INSERT_LINES_SQLITE = f"INSERT OR IGNORE INTO lines ({_LINE_COLUMNS}) VALUES ({', '.join(['?'] * 20)}, 'waiting')"
_INSERT_LINES_POSTGRESQL = (
    f"INSERT INTO lines ({_LINE_COLUMNS}) VALUES ({', '.join(['%s'] * 20)}, 'waiting') ON CONFLICT DO NOTHING"
)


def _now() -> int:
    return int(time.time())


def line_of_row(row: dict[str, Any], year: int) -> ValidLine:
    """A stored line as the validator and the aggregator see it (``year`` is not stored); a line
    in another currency has its code and minor units (NULL in the row: the licence's currency)."""
    currency = row.get("currency") or ""
    return ValidLine(
        int(row["line_number"]),
        row["line_id"],
        int(row["licence_id"]),
        int(row["period"]),
        year,
        int(row["sale_day"]),
        int(row["territory"]),
        int(row["field"]),
        int(row["channel"]),
        int(row["units"]),
        int(row["gross"]),
        int(row["deductions"]),
        bytes(row["leaf"]),
        bool(row["in_scope"]),
        int(row["kind"]),
        int(row["revision"]),
        row["returns_line_id"] or "",
        None,
        currency,
        int(row["minor_units"]) if currency else 0,
    )


def is_url(location: Path | str) -> bool:
    """Whether an outbox location is a SQLAlchemy URL (PostgreSQL) rather than a SQLite file path."""
    return "://" in str(location)


def _server_engine(url: str) -> Engine:
    """An engine on an outbox in a database server (PostgreSQL, by SQLAlchemy URL)."""
    return create_engine(url, pool_pre_ping=True)


def _engine(url: str, *, set_wal: bool) -> Engine:
    engine = create_engine(url)
    # synchronous=FULL: a committed transaction survives a kill -9 of this process (and a power cut).
    configure_sqlite(engine, synchronous="FULL", busy_timeout_ms=10_000, set_wal=set_wal)
    return engine


def open_engine(location: Path | str) -> Engine:
    """The oracle's open path: creates the file if needed (a URL names a database that exists) and
    upgrades its schema to the head revision."""
    if is_url(location):
        engine = _server_engine(str(location))
    else:
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = _engine(f"sqlite:///{path}", set_wal=True)
    try:
        migrate.upgrade(engine, location)
    except BaseException:
        engine.dispose()
        raise
    return engine


def existing_engine(location: Path | str) -> Engine:
    """An engine on the outbox at ``path`` after checking it is one at the head revision.

    Creates nothing: SQLite opens the file read-write without creating it (``mode=rw``), so a
    mistyped path fails here instead of leaving an empty database behind.
    """
    if is_url(location):
        engine = _server_engine(str(location))
        try:
            migrate.check(engine, location)
        except BaseException:
            engine.dispose()
            raise
        return engine
    path = Path(location)
    if not path.is_file():
        raise OutboxMissing(f"there is no outbox at {path}: start the oracle (royalty-oracle) to create it")
    engine = _engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=rw&uri=true", set_wal=False)
    try:
        migrate.check(engine, path)
    except BaseException:
        engine.dispose()
        raise
    return engine


class Outbox(Reports, Rates, Indices, Benchmarks):
    """All outbox reads and writes; one writer (this process) at a time."""

    def __init__(self, path: Path | str, *, engine: Engine | None = None) -> None:
        """Opens the outbox at ``path`` (a SQLite file, or a PostgreSQL database by SQLAlchemy URL)
        as its owner: created or upgraded to the head revision."""
        self.path = path
        self.engine = engine if engine is not None else open_engine(path)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    @classmethod
    def existing(cls, path: Path | str) -> Outbox:
        """Opens an outbox that the oracle made, at the head revision, or raises OutboxError."""
        return cls(path, engine=existing_engine(path))

    def close(self) -> None:
        """Closes the pooled connections (connections still checked out close when returned)."""
        self.engine.dispose()

    def connect(self) -> Connection:
        return self.engine.connect()

    # -------------------------------------------------------------- files and lines

    def start_file(self, conn: Connection, path: str, *, resume: bool = False) -> int:
        """A ``files`` row for reading ``path``; with ``resume``, the latest row of that path
        (the watch service reading a claimed feed again after a crash), its rejections cleared
        so that this reading stores them once."""
        if resume:
            row = conn.execute(
                select(files_table.c.id).where(files_table.c.path == path).order_by(files_table.c.id.desc()).limit(1)
            ).first()
            if row is not None:
                file_id = int(row[0])
                conn.execute(delete(rejections_table).where(rejections_table.c.file_id == file_id))
                conn.execute(
                    update(files_table)
                    .where(files_table.c.id == file_id)
                    .values(started_at=_now(), finished_at=None, lines_read=0, valid=0, rejected=0, duplicates=0)
                )
                conn.commit()
                return file_id
        result = conn.execute(insert(files_table).values(path=path, started_at=_now()))
        conn.commit()
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_file(self, conn: Connection, file_id: int, counts: dict[str, int]) -> None:
        conn.execute(update(files_table).where(files_table.c.id == file_id).values(finished_at=_now(), **counts))
        conn.commit()

    def store_lines(
        self, conn: Connection, licensee_of: dict[int, str], lines: Iterable[ValidLine], source: str
    ) -> int:
        """Inserts a batch of validated lines (their ids were claimed by OutboxSeenLines); the
        number of rows added (a line already stored for its licensee is ignored, not counted).
        A line in another currency keeps its code and its amounts as given, in the currency's
        minor units (``currency``, ``minor_units``); the licence's currency stores NULL for both.

        Rows go to the driver as tuples in one executemany: SQLAlchemy's per-row parameter
        processing cost a third of the oracle's ingest time.
        """
        rows = [
            (
                licensee_of[line.licence_id],
                line.line_id,
                line.licence_id,
                line.period,
                line.sale_day,
                line.territory,
                line.field,
                line.channel,
                str(line.units),
                str(line.gross),
                str(line.deductions),
                line.leaf,
                bool(line.in_scope),
                source,
                line.line_number,
                line.revision,
                line.kind,
                line.returns_line_id or None,
                line.currency or None,
                line.minor_units if line.currency else None,
            )
            for line in lines
        ]
        if not rows:
            return 0
        # sqlite3 and psycopg sum an executemany's changes: the rows this insert added, not the
        # ones it ignored.
        sql = _INSERT_LINES_POSTGRESQL if conn.dialect.name == "postgresql" else _INSERT_LINES_SQLITE
        return int(conn.exec_driver_sql(sql, rows).rowcount)

    def store_rejections(self, conn: Connection, file_id: int, rejections: Iterable[Any]) -> None:
        rows = [
            {
                "file_id": file_id,
                "line_number": r.line_number,
                "field": r.field,
                "value": r.value,
                "reason": r.reason,
            }
            for r in rejections
        ]
        if rows:
            if conn.dialect.name == "postgresql":
                stmt = postgresql.insert(rejections_table)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["file_id", "line_number"],
                        set_={c: stmt.excluded[c] for c in ("field", "value", "reason")},
                    ),
                    rows,
                )
            else:
                conn.execute(insert(rejections_table).prefix_with("OR REPLACE"), rows)

    def known_leaf(self, conn: Connection, licensee: str, line_id: str) -> bytes | None:
        """The leaf of the line as first accepted (revision 0), or None for an id never seen."""
        row = conn.execute(
            select(lines_table.c.leaf).where(
                lines_table.c.licensee == licensee, lines_table.c.line_id == line_id, lines_table.c.revision == 0
            )
        ).first()
        return bytes(row[0]) if row else None

    def latest_line(self, conn: Connection, licensee: str, line_id: str) -> ValidLine | None:
        """The line's latest version (its highest revision) as a ValidLine with ``year`` -1 (the
        year follows from the sale day by the licence's calendar), or None."""
        row = conn.execute(
            select(lines_table)
            .where(lines_table.c.licensee == licensee, lines_table.c.line_id == line_id)
            .order_by(lines_table.c.revision.desc())
            .limit(1)
        ).first()
        return None if row is None else line_of_row(dict(row._mapping), -1)

    def find_line(self, conn: Connection, line_id: str, licensee: str | None = None) -> list[dict[str, Any]]:
        """Every version of the line (oldest first), each with the report that carried it."""
        query = select(lines_table).where(lines_table.c.line_id == line_id)
        if licensee:
            query = query.where(lines_table.c.licensee == licensee.lower())
        query = query.order_by(lines_table.c.licensee, lines_table.c.revision)
        return [dict(row._mapping) for row in conn.execute(query)]

    def period_leaves(
        self, conn: Connection, licence_id: int, period: int, report_id: int | None = None
    ) -> list[bytes]:
        query = select(lines_table.c.leaf).where(lines_table.c.licence_id == licence_id, lines_table.c.period == period)
        query = query.where(
            lines_table.c.report_id == report_id if report_id is not None else lines_table.c.state == LineState.WAITING
        )
        return [bytes(row[0]) for row in conn.execute(query)]

    def waiting_periods(self, conn: Connection) -> list[tuple[int, int, int]]:
        """(licence_id, period, line count) of every period with lines not yet reported."""
        query = (
            select(lines_table.c.licence_id, lines_table.c.period, func.count())
            .where(lines_table.c.state == LineState.WAITING)
            .group_by(lines_table.c.licence_id, lines_table.c.period)
            .order_by(lines_table.c.licence_id, lines_table.c.period)
        )
        return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query)]

    def previous_versions(self, conn: Connection, licence_id: int, period: int) -> dict[tuple[str, str, int], Any]:
        """For the waiting cancels and replaces of the period: (licensee, line id, revision) of
        the version each one removes -> that version's row (its state says whether it waits too)."""
        current = lines_table.alias("current")
        previous = lines_table.alias("previous")
        query = (
            select(previous)
            .join(
                current,
                (current.c.licensee == previous.c.licensee)
                & (current.c.line_id == previous.c.line_id)
                & (current.c.revision == previous.c.revision + 1),
            )
            .where(
                current.c.licence_id == licence_id,
                current.c.period == period,
                current.c.state == LineState.WAITING,
                current.c.revision > 0,
            )
        )
        found = {}
        for row in conn.execute(query):
            m = dict(row._mapping)
            found[m["licensee"], m["line_id"], int(m["revision"])] = m
        return found

    def waiting_lines(self, conn: Connection, licence_id: int, period: int) -> Iterator[dict[str, Any]]:
        query = select(lines_table).where(
            lines_table.c.licence_id == licence_id,
            lines_table.c.period == period,
            lines_table.c.state == LineState.WAITING,
        )
        for row in conn.execute(query):
            yield dict(row._mapping)

    def mark_late(self, conn: Connection, licence_id: int, period: int) -> int:
        """Lines that arrived after their period was reported cannot be reported any more."""
        result = conn.execute(
            update(lines_table)
            .where(
                lines_table.c.licence_id == licence_id,
                lines_table.c.period == period,
                lines_table.c.state == LineState.WAITING,
            )
            .values(state=LineState.LATE)
        )
        return int(result.rowcount or 0)

    def close_period(self, conn: Connection, licence_id: int, period: int) -> None:
        values = {"licence_id": licence_id, "period": period, "closed_at": _now()}
        if conn.dialect.name == "postgresql":
            conn.execute(postgresql.insert(closed_periods_table).values(**values).on_conflict_do_nothing())
        else:
            conn.execute(insert(closed_periods_table).prefix_with("OR IGNORE").values(**values))
        conn.commit()

    def is_closed(self, conn: Connection, licence_id: int, period: int) -> bool:
        row = conn.execute(
            select(closed_periods_table.c.period).where(
                closed_periods_table.c.licence_id == licence_id,
                closed_periods_table.c.period == period,
            )
        ).first()
        return row is not None

    def counts(self, conn: Connection) -> dict[str, int]:
        result: dict[str, int] = {}
        for state, count in conn.execute(select(lines_table.c.state, func.count()).group_by(lines_table.c.state)):
            result[f"lines_{state}"] = int(count)
        for state, count in conn.execute(select(reports_table.c.state, func.count()).group_by(reports_table.c.state)):
            result[f"reports_{state}"] = int(count)
        return result
