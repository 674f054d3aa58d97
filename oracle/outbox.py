"""The durable outbox: every accepted line and every report, with its state, in SQLite.

Nothing is lost and nothing is counted twice because of three rules kept here:
- a line is stored once per (licensee, line id); reading the same file again finds it;
- a (licence, period) gets at most one report row, ever (a unique key), and a report row is
  written with its lines' ``report_id`` in the same transaction;
- a report's state only moves forward: signed -> sent -> settled, or -> rejected with the
  decoded reason; `sent` rows are reconciled with the chain before anything is sent again.

Amounts are stored as decimal strings (uint128 does not fit SQLite's integers).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

from intake.validate import SeenLines, ValidLine
from oracle.seen import DEFAULT_BLOOM_BITS, LineIdBloom

metadata = MetaData()

lines_table = Table(
    "lines",
    metadata,
    Column("licensee", String, primary_key=True),
    Column("line_id", String, primary_key=True),
    Column("licence_id", Integer, nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("sale_day", Integer, nullable=False),
    Column("territory", Integer, nullable=False),
    Column("field", Integer, nullable=False),
    Column("channel", Integer, nullable=False),
    Column("units", String, nullable=False),
    Column("gross", String, nullable=False),
    Column("deductions", String, nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("in_scope", Boolean, nullable=False),
    Column("source", String, nullable=False),
    Column("line_number", Integer, nullable=False),
    # waiting: not yet in a report; reported: in report_id; late: its period was already reported
    Column("state", String, nullable=False, default="waiting"),
    Column("report_id", Integer, nullable=True),
)

reports_table = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("licence_id", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("deadline", Integer, nullable=False),
    Column("lines_root", LargeBinary, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("buckets", Text, nullable=False),  # JSON list of [t, f, c, units, gross, deductions]
    Column("signatures", Text, nullable=False),  # JSON list of 0x-hex signatures
    # signed -> sent -> settled | rejected
    Column("state", String, nullable=False),
    Column("tx_hash", String, nullable=True),
    Column("settlement_id", Integer, nullable=True),
    Column("royalty", String, nullable=True),
    Column("paid", String, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
    UniqueConstraint("licence_id", "period", name="one_report_per_period"),
)

closed_periods_table = Table(
    "closed_periods",
    metadata,
    Column("licence_id", Integer, primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("closed_at", Integer, nullable=False),
)

files_table = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", String, nullable=False),
    Column("started_at", Integer, nullable=False),
    Column("finished_at", Integer, nullable=True),
    Column("lines_read", Integer, nullable=False, default=0),
    Column("valid", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
)

rejections_table = Table(
    "rejections",
    metadata,
    Column("file_id", Integer, primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("field", String, nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
)


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: int
    licence_id: int
    period: int
    sequence: int
    deadline: int
    lines_root: bytes
    line_count: int
    buckets: list[list[int]]
    signatures: list[bytes]
    state: str
    tx_hash: str | None
    settlement_id: int | None
    royalty: int | None
    error: str | None
    attempts: int


_LINE_COLUMNS = (
    "licensee, line_id, licence_id, period, sale_day, territory, field, channel, units, gross, deductions, leaf, "
    "in_scope, source, line_number, state"
)
_INSERT_LINES = f"INSERT OR IGNORE INTO lines ({_LINE_COLUMNS}) VALUES ({', '.join(['?'] * 15)}, 'waiting')"


def _now() -> int:
    return int(time.time())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL + synchronous=FULL: a committed transaction survives a kill -9 of this process.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine


class Outbox:
    """All outbox reads and writes; one writer (this process) at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine = open_engine(path)

    def connect(self) -> Connection:
        return self.engine.connect()

    # -------------------------------------------------------------- files and lines

    def start_file(self, conn: Connection, path: str) -> int:
        result = conn.execute(insert(files_table).values(path=path, started_at=_now()))
        conn.commit()
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def finish_file(self, conn: Connection, file_id: int, counts: dict[str, int]) -> None:
        conn.execute(update(files_table).where(files_table.c.id == file_id).values(finished_at=_now(), **counts))
        conn.commit()

    def store_lines(
        self, conn: Connection, licensee_of: dict[int, str], lines: Iterable[ValidLine], source: str
    ) -> int:
        """Inserts a batch of validated lines (their ids were claimed by OutboxSeenLines).

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
                1 if line.in_scope else 0,
                source,
                line.line_number,
            )
            for line in lines
        ]
        if rows:
            conn.exec_driver_sql(_INSERT_LINES, rows)
        return len(rows)

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
            conn.execute(insert(rejections_table).prefix_with("OR REPLACE"), rows)

    def known_leaf(self, conn: Connection, licensee: str, line_id: str) -> bytes | None:
        row = conn.execute(
            select(lines_table.c.leaf).where(lines_table.c.licensee == licensee, lines_table.c.line_id == line_id)
        ).first()
        return bytes(row[0]) if row else None

    def find_line(self, conn: Connection, line_id: str, licensee: str | None = None) -> list[dict[str, Any]]:
        query = select(lines_table).where(lines_table.c.line_id == line_id)
        if licensee:
            query = query.where(lines_table.c.licensee == licensee.lower())
        return [dict(row._mapping) for row in conn.execute(query)]

    def period_leaves(
        self, conn: Connection, licence_id: int, period: int, report_id: int | None = None
    ) -> list[bytes]:
        query = select(lines_table.c.leaf).where(lines_table.c.licence_id == licence_id, lines_table.c.period == period)
        query = query.where(
            lines_table.c.report_id == report_id if report_id is not None else lines_table.c.state == "waiting"
        )
        return [bytes(row[0]) for row in conn.execute(query)]

    def waiting_periods(self, conn: Connection) -> list[tuple[int, int, int]]:
        """(licence_id, period, line count) of every period with lines not yet reported."""
        query = (
            select(lines_table.c.licence_id, lines_table.c.period, func.count())
            .where(lines_table.c.state == "waiting")
            .group_by(lines_table.c.licence_id, lines_table.c.period)
            .order_by(lines_table.c.licence_id, lines_table.c.period)
        )
        return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query)]

    def waiting_lines(self, conn: Connection, licence_id: int, period: int) -> Iterator[dict[str, Any]]:
        query = select(lines_table).where(
            lines_table.c.licence_id == licence_id,
            lines_table.c.period == period,
            lines_table.c.state == "waiting",
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
                lines_table.c.state == "waiting",
            )
            .values(state="late")
        )
        return int(result.rowcount or 0)

    def close_period(self, conn: Connection, licence_id: int, period: int) -> None:
        conn.execute(
            insert(closed_periods_table)
            .prefix_with("OR IGNORE")
            .values(licence_id=licence_id, period=period, closed_at=_now())
        )
        conn.commit()

    def is_closed(self, conn: Connection, licence_id: int, period: int) -> bool:
        row = conn.execute(
            select(closed_periods_table.c.period).where(
                closed_periods_table.c.licence_id == licence_id,
                closed_periods_table.c.period == period,
            )
        ).first()
        return row is not None

    # -------------------------------------------------------------- reports

    def report_for(self, conn: Connection, licence_id: int, period: int) -> StoredReport | None:
        row = conn.execute(
            select(reports_table).where(reports_table.c.licence_id == licence_id, reports_table.c.period == period)
        ).first()
        return _report(row) if row else None

    def next_sequence(self, conn: Connection, licence_id: int, chain_last: int) -> int:
        row = conn.execute(
            select(func.max(reports_table.c.sequence)).where(reports_table.c.licence_id == licence_id)
        ).first()
        local_last = int(row[0]) if row and row[0] is not None else 0
        return max(local_last, chain_last) + 1

    def add_report(
        self,
        conn: Connection,
        *,
        licence_id: int,
        period: int,
        sequence: int,
        deadline: int,
        lines_root: bytes,
        line_count: int,
        buckets: list[list[int]],
        signatures: list[bytes],
        commit: bool = True,
    ) -> int:
        """Stores a signed report and ties its waiting lines to it, in one transaction.

        With ``commit=False`` the caller commits several reports at once (one fsync a round);
        a crash before that loses only signatures, which the next round makes again."""
        now = _now()
        result = conn.execute(
            insert(reports_table).values(
                licence_id=licence_id,
                period=period,
                sequence=sequence,
                deadline=deadline,
                lines_root=lines_root,
                line_count=line_count,
                buckets=json.dumps(buckets),
                signatures=json.dumps(["0x" + s.hex() for s in signatures]),
                state="signed",
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )
        report_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        conn.execute(
            update(lines_table)
            .where(
                lines_table.c.licence_id == licence_id,
                lines_table.c.period == period,
                lines_table.c.state == "waiting",
            )
            .values(state="reported", report_id=report_id)
        )
        if commit:
            conn.commit()
        return report_id

    def resign(
        self,
        conn: Connection,
        report_id: int,
        sequence: int,
        deadline: int,
        signatures: list[bytes],
    ) -> None:
        conn.execute(
            update(reports_table)
            .where(reports_table.c.id == report_id)
            .values(
                sequence=sequence,
                deadline=deadline,
                signatures=json.dumps(["0x" + s.hex() for s in signatures]),
                state="signed",
                tx_hash=None,
                updated_at=_now(),
            )
        )
        conn.commit()

    def get_report(self, conn: Connection, report_id: int) -> StoredReport:
        row = conn.execute(select(reports_table).where(reports_table.c.id == report_id)).first()
        if row is None:
            raise LookupError(f"no report {report_id} in the outbox")
        return _report(row)

    def get_reports(self, conn: Connection, report_ids: list[int]) -> list[StoredReport]:
        """The reports with these ids, in the order given (one query per 500 ids)."""
        found: dict[int, StoredReport] = {}
        for start in range(0, len(report_ids), 500):
            chunk = report_ids[start : start + 500]
            for row in conn.execute(select(reports_table).where(reports_table.c.id.in_(chunk))):
                found[int(row.id)] = _report(row)
        missing = [i for i in report_ids if i not in found]
        if missing:
            raise LookupError(f"no report {missing[0]} in the outbox")
        return [found[i] for i in report_ids]

    def reports_in(self, conn: Connection, *states: str) -> list[StoredReport]:
        query = (
            select(reports_table)
            .where(reports_table.c.state.in_(states))
            .order_by(reports_table.c.licence_id, reports_table.c.sequence)
        )
        return [_report(row) for row in conn.execute(query)]

    def all_reports(self, conn: Connection) -> list[StoredReport]:
        query = select(reports_table).order_by(reports_table.c.id)
        return [_report(row) for row in conn.execute(query)]

    def mark_sent(self, conn: Connection, report_ids: list[int], tx_hash: str) -> None:
        conn.execute(
            update(reports_table)
            .where(reports_table.c.id.in_(report_ids))
            .values(
                state="sent",
                tx_hash=tx_hash,
                attempts=reports_table.c.attempts + 1,
                updated_at=_now(),
            )
        )
        conn.commit()

    def mark_settled(
        self,
        conn: Connection,
        report_id: int,
        settlement_id: int,
        royalty: int | None,
        paid: int | None,
        tx_hash: str | None,
        commit: bool = True,
    ) -> None:
        values: dict[str, Any] = {
            "state": "settled",
            "settlement_id": settlement_id,
            "updated_at": _now(),
            "error": None,
        }
        if royalty is not None:
            values["royalty"] = str(royalty)
        if paid is not None:
            values["paid"] = str(paid)
        if tx_hash:
            values["tx_hash"] = tx_hash
        conn.execute(update(reports_table).where(reports_table.c.id == report_id).values(**values))
        if commit:  # the chain already holds the settlement: a lost commit is reconciled again
            conn.commit()

    def mark_rejected(self, conn: Connection, report_id: int, error: str) -> None:
        conn.execute(
            update(reports_table)
            .where(reports_table.c.id == report_id)
            .values(state="rejected", error=error, updated_at=_now())
        )
        conn.commit()

    def note_error(self, conn: Connection, report_id: int, error: str) -> None:
        conn.execute(
            update(reports_table).where(reports_table.c.id == report_id).values(error=error, updated_at=_now())
        )
        conn.commit()

    def counts(self, conn: Connection) -> dict[str, int]:
        result: dict[str, int] = {}
        for state, count in conn.execute(select(lines_table.c.state, func.count()).group_by(lines_table.c.state)):
            result[f"lines_{state}"] = int(count)
        for state, count in conn.execute(select(reports_table.c.state, func.count()).group_by(reports_table.c.state)):
            result[f"reports_{state}"] = int(count)
        return result


def _report(row: Any) -> StoredReport:
    m = row._mapping
    return StoredReport(
        id=int(m["id"]),
        licence_id=int(m["licence_id"]),
        period=int(m["period"]),
        sequence=int(m["sequence"]),
        deadline=int(m["deadline"]),
        lines_root=bytes(m["lines_root"]),
        line_count=int(m["line_count"]),
        buckets=json.loads(m["buckets"]),
        signatures=[bytes.fromhex(s[2:]) for s in json.loads(m["signatures"])],
        state=str(m["state"]),
        tx_hash=m["tx_hash"],
        settlement_id=m["settlement_id"],
        royalty=int(m["royalty"]) if m["royalty"] is not None else None,
        error=m["error"],
        attempts=int(m["attempts"]),
    )


class OutboxSeenLines(SeenLines):
    """SeenLines backed by the outbox: ids stored in earlier runs are found in the database,
    ids of the batch being read are found in memory until the batch is stored.

    A Bloom filter of every (licensee, line id) in the outbox spares most claims the database:
    when the filter says an id is new, it is (the usual case, no query); only its positives
    (repeated lines, and a fraction of a percent of new ids) are looked up. The filter is read
    from the lines table once ``bloom_after`` claims were made, so a caller that claims a few
    lines (an API upload) does not read the whole table for them. Lines that another process
    (the API) stores meanwhile are added to the filter each time a batch is stored (they are
    the rows above the highest rowid read so far), so, as without a filter, only a line stored
    elsewhere while this batch is read can be missed; if both store it, the first one stored
    stays (``store_lines`` inserts OR IGNORE).
    """

    def __init__(
        self, outbox: Outbox, conn: Connection, *, bloom_bits: int | None = None, bloom_after: int = 1000
    ) -> None:
        self._outbox = outbox
        self._conn = conn
        self._batch: dict[tuple[str, str], bytes] = {}
        self._bloom: LineIdBloom | None = None
        self._bloom_bits = DEFAULT_BLOOM_BITS if bloom_bits is None else LineIdBloom.checked_bits(bloom_bits)
        self._claims_left = bloom_after  # claims before the filter is read
        self._read_up_to = 0  # the highest rowid of the lines table in the filter
        self.bloom_positives = 0
        self.db_lookups = 0

    def claim(self, licensee: str, line_id: str, leaf: bytes) -> bytes | None:
        key = (licensee, line_id)
        bloom = self._bloom
        if bloom is None:
            self._claims_left -= 1
            if self._claims_left < 0:
                self._read_bloom()
                bloom = self._bloom
        if bloom is not None:
            if not bloom.add(licensee, line_id):
                self._batch[key] = leaf
                return None
            self.bloom_positives += 1
        known = self._batch.get(key)
        if known is not None:
            return known
        self.db_lookups += 1
        known = self._outbox.known_leaf(self._conn, licensee, line_id)
        if known is not None:
            return known
        self._batch[key] = leaf
        return None

    def _read_bloom(self) -> None:
        """Fill the filter with every stored line and the batch; claims ask it from now on."""
        self._bloom = LineIdBloom(self._bloom_bits)
        self._read_stored()
        for licensee, line_id in self._batch:
            self._bloom.add(licensee, line_id)

    def _read_stored(self) -> None:
        """Add the lines stored since the last look (by anyone) to the filter."""
        assert self._bloom is not None
        bloom, highest = self._bloom, self._read_up_to
        rows = self._conn.execute(
            text("SELECT rowid, licensee, line_id FROM lines WHERE rowid > :after ORDER BY rowid"),
            {"after": highest},
        ).yield_per(10_000)
        for rowid, licensee, line_id in rows:
            bloom.add(licensee, line_id)
            highest = rowid
        self._read_up_to = highest

    def release(self, licensee: str, line_id: str) -> None:
        """Forget a claim of this batch (its line came too late); the filter may keep the id,
        which only costs a lookup."""
        self._batch.pop((licensee, line_id), None)

    def flushed(self) -> None:
        """The batch was stored; its ids are now found in the database."""
        self._batch.clear()
        if self._bloom is not None:
            self._read_stored()


class ReportedPeriods:
    """Which (licence, period) already went into a report (intake.validate.ReportedPeriods):
    the validator refuses a new line for one of them as late, since a period settles once and
    a correction needs an explicit adjustment report."""

    def __init__(self, outbox: Outbox, conn: Connection) -> None:
        self._outbox = outbox
        self._conn = conn

    def report_of(self, licence_id: int, period: int) -> int | None:
        existing = self._outbox.report_for(self._conn, licence_id, period)
        return existing.id if existing else None
