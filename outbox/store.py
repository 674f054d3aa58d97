"""The durable outbox: every accepted line and every report, with its state, in SQLite.

Nothing is lost and nothing is counted twice because of three rules kept here:
- a line is stored once per (licensee, line id); reading the same file again finds it;
- a (licence, period) gets at most one report row, ever (a unique key), and a report row is
  written with its lines' ``report_id`` in the same transaction;
- a report's state moves signed -> sent -> settled, or -> rejected with the decoded reason;
  the one step back is sent -> signed, when a sent transaction failed or was lost and the
  report is signed again (``resign``). Settled and rejected are final. Every state change is an
  ``UPDATE ... WHERE state IN (...)`` that names the states it may start from, and a change
  from any other state raises ReportStateError instead of rewriting history. `sent` rows are
  reconciled with the chain before anything is sent again.

The schema belongs to ``outbox.migrate``: ``Outbox(path)`` (the oracle) creates or upgrades it,
``Outbox.existing(path)`` (the API) only checks it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from oracle.validate import ValidLine
from outbox import migrate
from outbox.migrate import OutboxError, OutboxMissing
from outbox.schema import (
    LineState,
    ReportState,
    closed_periods_table,
    files_table,
    lines_table,
    rejections_table,
    reports_table,
)
from outbox.sqlite import configure_sqlite

# The states each change may start from (see the module docstring).
_FROM: dict[ReportState, tuple[ReportState, ...]] = {
    ReportState.SENT: (ReportState.SIGNED,),
    ReportState.SETTLED: (ReportState.SIGNED, ReportState.SENT),
    ReportState.REJECTED: (ReportState.SIGNED, ReportState.SENT),
    ReportState.SIGNED: (ReportState.SIGNED, ReportState.SENT),  # resign
}


class ReportStateError(OutboxError):
    """A report was asked to move to a state it may not reach from the one it is in."""

    def __init__(self, report_ids: Sequence[int], to: ReportState, states: dict[int, str | None]) -> None:
        self.report_ids = list(report_ids)
        self.to = to
        self.states = states
        found = ", ".join(f"report {i} is {s or 'missing'}" for i, s in sorted(states.items()))
        allowed = " or ".join(_FROM[to])
        super().__init__(f"cannot mark {to}: {found} (only {allowed} reports can be)")


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
    signatures: tuple[bytes, ...]
    state: ReportState
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


def _engine(url: str, *, set_wal: bool) -> Engine:
    engine = create_engine(url)
    # synchronous=FULL: a committed transaction survives a kill -9 of this process (and a power cut).
    configure_sqlite(engine, synchronous="FULL", busy_timeout_ms=10_000, set_wal=set_wal)
    return engine


def open_engine(path: Path) -> Engine:
    """The oracle's open path: creates the file if needed and upgrades its schema to the head revision."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(f"sqlite:///{path}", set_wal=True)
    try:
        migrate.upgrade(engine, path)
    except BaseException:
        engine.dispose()
        raise
    return engine


def existing_engine(path: Path) -> Engine:
    """An engine on the outbox at ``path`` after checking it is one at the head revision.

    Creates nothing: SQLite opens the file read-write without creating it (``mode=rw``), so a
    mistyped path fails here instead of leaving an empty database behind.
    """
    if not path.is_file():
        raise OutboxMissing(f"there is no outbox at {path}: start the oracle (royalty-oracle) to create it")
    engine = _engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=rw&uri=true", set_wal=False)
    try:
        migrate.check(engine, path)
    except BaseException:
        engine.dispose()
        raise
    return engine


class Outbox:
    """All outbox reads and writes; one writer (this process) at a time."""

    def __init__(self, path: Path, *, engine: Engine | None = None) -> None:
        """Opens the outbox at ``path`` as its owner: created or upgraded to the head revision."""
        self.path = path
        self.engine = engine if engine is not None else open_engine(path)

    @classmethod
    def existing(cls, path: Path) -> Outbox:
        """Opens an outbox that the oracle made, at the head revision, or raises OutboxError."""
        return cls(path, engine=existing_engine(path))

    def close(self) -> None:
        """Closes the pooled connections (connections still checked out close when returned)."""
        self.engine.dispose()

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
        """Inserts a batch of validated lines (their ids were claimed by OutboxSeenLines); the
        number of rows added (a line already stored for its licensee is ignored, not counted).

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
        if not rows:
            return 0
        # sqlite3 sums an executemany's changes: the rows this insert added, not the ones it ignored.
        return int(conn.exec_driver_sql(_INSERT_LINES, rows).rowcount)

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
                state=ReportState.SIGNED,
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
                lines_table.c.state == LineState.WAITING,
            )
            .values(state=LineState.REPORTED, report_id=report_id)
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
        signatures: Sequence[bytes],
    ) -> None:
        """New sequence, deadline and signatures for a signed or sent report, which is signed again."""
        self._move(
            conn,
            [report_id],
            ReportState.SIGNED,
            sequence=sequence,
            deadline=deadline,
            signatures=json.dumps(["0x" + s.hex() for s in signatures]),
            tx_hash=None,
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

    def reports_in(self, conn: Connection, *states: ReportState | str) -> list[StoredReport]:
        query = (
            select(reports_table)
            .where(reports_table.c.state.in_(states))
            .order_by(reports_table.c.licence_id, reports_table.c.sequence)
        )
        return [_report(row) for row in conn.execute(query)]

    def all_reports(self, conn: Connection) -> list[StoredReport]:
        query = select(reports_table).order_by(reports_table.c.id)
        return [_report(row) for row in conn.execute(query)]

    def _move(self, conn: Connection, report_ids: Sequence[int], to: ReportState, **values: Any) -> None:
        """Sets ``state=to`` and ``values`` on these reports, each of which must be in a state ``to``
        may follow; else ReportStateError and nothing changed.

        The states are read first so that a batch moves all or nothing; the UPDATE names the
        allowed states again, so the database itself never applies a move from another state."""
        ids = sorted(set(report_ids))
        rows = conn.execute(select(reports_table.c.id, reports_table.c.state).where(reports_table.c.id.in_(ids)))
        found: dict[int, str] = {int(report_id): str(state) for report_id, state in rows}
        refused = {i: found.get(i) for i in ids if found.get(i) not in _FROM[to]}
        if not refused:
            result = conn.execute(
                update(reports_table)
                .where(reports_table.c.id.in_(ids), reports_table.c.state.in_(_FROM[to]))
                .values(state=to, updated_at=_now(), **values)
            )
            if result.rowcount == len(ids):
                return
            refused = {i: None for i in ids}  # only another writer could get here: name every id
        raise ReportStateError(ids, to, refused)

    def mark_sent(self, conn: Connection, report_ids: list[int], tx_hash: str) -> None:
        self._move(conn, report_ids, ReportState.SENT, tx_hash=tx_hash, attempts=reports_table.c.attempts + 1)
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
        values: dict[str, Any] = {"settlement_id": settlement_id, "error": None}
        if royalty is not None:
            values["royalty"] = str(royalty)
        if paid is not None:
            values["paid"] = str(paid)
        if tx_hash:
            values["tx_hash"] = tx_hash
        self._move(conn, [report_id], ReportState.SETTLED, **values)
        if commit:  # the chain already holds the settlement: a lost commit is reconciled again
            conn.commit()

    def mark_rejected(self, conn: Connection, report_id: int, error: str) -> None:
        self._move(conn, [report_id], ReportState.REJECTED, error=error)
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
        signatures=tuple(bytes.fromhex(s[2:]) for s in json.loads(m["signatures"])),
        state=ReportState(m["state"]),
        tx_hash=m["tx_hash"],
        settlement_id=m["settlement_id"],
        royalty=int(m["royalty"]) if m["royalty"] is not None else None,
        error=m["error"],
        attempts=int(m["attempts"]),
    )
