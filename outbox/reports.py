"""The outbox's reports and the moves of their state.

A report's state moves signed -> sent -> settled, or -> rejected with the decoded reason; the
steps back are sent -> signed, when a sent transaction failed or was lost and the report is signed
again (``resign``), and settled -> signed when the chain itself lost the settlement (a node
restored from an older state: ``reopen_lost``). Rejected is final. Every move is an
``UPDATE ... WHERE state IN (...)`` naming the states it may start from, and a move from any
other state raises ReportStateError instead of rewriting history.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from outbox.migrate import OutboxError
from outbox.schema import LineState, ReportState, lines_table, rate_holds_table, reports_table

# A bucket of a report signed before revision 0002: [t, f, c, units, gross, deductions].
LEGACY_BUCKET_LENGTH = 6


def _now() -> int:
    return int(time.time())


# The states each change may start from (see the module docstring).
_FROM: dict[ReportState, tuple[ReportState, ...]] = {
    ReportState.SENT: (ReportState.SIGNED,),
    ReportState.SETTLED: (ReportState.SIGNED, ReportState.SENT),
    ReportState.REJECTED: (ReportState.SIGNED, ReportState.SENT),
    ReportState.SIGNED: (ReportState.SIGNED, ReportState.SENT),  # resign
}
# The one move out of settled: the chain no longer holds the settlement (see reopen_lost).
_REOPEN: tuple[ReportState, ...] = (ReportState.SETTLED,)


class ReportStateError(OutboxError):
    """A report was asked to move to a state it may not reach from the one it is in."""

    def __init__(
        self,
        report_ids: Sequence[int],
        to: ReportState,
        states: dict[int, str | None],
        allowed_from: Sequence[ReportState] | None = None,
    ) -> None:
        self.report_ids = list(report_ids)
        self.to = to
        self.states = states
        found = ", ".join(f"report {i} is {s or 'missing'}" for i, s in sorted(states.items()))
        allowed = " or ".join(allowed_from or _FROM[to])
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
    returned: list[list[int]] = dataclass_field(default_factory=list)
    adjustment: int = 0
    corrects: int = 0
    # An audit finding: an adjustment signed with audit=true and the cost it states (token units),
    # and the operator's reference for it (the outbox's only; not signed).
    audit: bool = False
    audit_cost: int = 0
    finding_ref: str | None = None
    # The conversions of its sales in other currencies (revision 0007): dicts of bucket, currency,
    # minor_units, rate_day, rate, gross, deductions (oracle.conversion.ConversionRecord), in order.
    fx: list[dict[str, Any]] = dataclass_field(default_factory=list)

    @property
    def kind(self) -> str:
        """One of "original" (the period's first report), "adjustment" (a correction of it, which
        settles only the difference to the settlement it ``corrects``) or "audit" (an adjustment
        that is an audit finding: settled as kind Audit, and its cost charged when the
        underpayment it reveals exceeds the licence's threshold)."""
        if self.audit:
            return "audit"
        return "adjustment" if self.adjustment else "original"

    @property
    def legacy(self) -> bool:
        """Whether this report was signed for the ledger before contract years (six-int buckets,
        no year): history only, never sent (see outbox/migrations/versions/0002_bucket_years.py)."""
        return any(len(bucket) == LEGACY_BUCKET_LENGTH for bucket in self.buckets)


class Reports:
    """The report half of ``Outbox`` (a base class of it): reads and state moves of report rows."""

    def report_for(self, conn: Connection, licence_id: int, period: int) -> StoredReport | None:
        """The period's original report, or None."""
        row = conn.execute(
            select(reports_table).where(
                reports_table.c.licence_id == licence_id,
                reports_table.c.period == period,
                reports_table.c.adjustment == 0,
            )
        ).first()
        return _report(row) if row else None

    def period_reports(self, conn: Connection, licence_id: int, period: int) -> list[StoredReport]:
        """The period's original report and its adjustments, in order."""
        query = (
            select(reports_table)
            .where(reports_table.c.licence_id == licence_id, reports_table.c.period == period)
            .order_by(reports_table.c.adjustment)
        )
        return [_report(row) for row in conn.execute(query)]

    def audit_with_reference(self, conn: Connection, licence_id: int, finding_ref: str) -> StoredReport | None:
        """The licence's audit finding queued with this reference (in any state), or None."""
        row = conn.execute(
            select(reports_table)
            .where(
                reports_table.c.licence_id == licence_id,
                reports_table.c.audit.is_(True),
                reports_table.c.finding_ref == finding_ref,
            )
            .order_by(reports_table.c.id)
            .limit(1)
        ).first()
        return _report(row) if row else None

    def report_periods(self, conn: Connection, licence_ids: Sequence[int]) -> dict[int, set[int]]:
        """The periods with a report (in any state, nil reports included) of each licence given."""
        found: dict[int, set[int]] = {licence_id: set() for licence_id in licence_ids}
        ids = sorted(found)
        for start in range(0, len(ids), 500):
            query = select(reports_table.c.licence_id, reports_table.c.period).where(
                reports_table.c.licence_id.in_(ids[start : start + 500])
            )
            for licence_id, period in conn.execute(query):
                found[int(licence_id)].add(int(period))
        return found

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
        returned: list[list[int]] | None = None,
        adjustment: int = 0,
        corrects: int = 0,
        audit: bool = False,
        audit_cost: int = 0,
        finding_ref: str | None = None,
        fx: Sequence[dict[str, Any]] = (),
    ) -> int:
        """Stores a signed report and ties its waiting lines to it, in one transaction: the
        period's original (``adjustment`` 0), or its n-th adjustment, correcting ``corrects``;
        with ``audit``, an audit finding stating ``audit_cost`` (``finding_ref``: its reference).
        ``fx`` are its conversions (StoredReport.fx), signed with it.

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
                returned=json.dumps(returned or []),
                adjustment=adjustment,
                corrects=corrects,
                audit=audit,
                audit_cost=str(audit_cost),
                finding_ref=finding_ref,
                fx=json.dumps(list(fx)),
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
        # The period's lines are reported: whatever held them for rates holds nothing any more.
        conn.execute(
            delete(rate_holds_table).where(
                rate_holds_table.c.licence_id == licence_id, rate_holds_table.c.period == period
            )
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
        corrects: int | None = None,
    ) -> None:
        """New sequence, deadline and signatures for a signed or sent report, which is signed
        again; an adjustment may name a new settlement it ``corrects``."""
        values: dict[str, Any] = {} if corrects is None else {"corrects": corrects}
        self._move(
            conn,
            [report_id],
            ReportState.SIGNED,
            sequence=sequence,
            deadline=deadline,
            signatures=json.dumps(["0x" + s.hex() for s in signatures]),
            tx_hash=None,
            **values,
        )
        conn.commit()

    def reopen_lost(self, conn: Connection, report_ids: Sequence[int]) -> None:
        """Settled reports whose settlements the chain no longer holds are signed reports again,
        to be sent as they are (or re-signed when their sequence or deadline no longer do); their
        lines stay tied to them."""
        self._move(
            conn, report_ids, ReportState.SIGNED, allowed_from=_REOPEN,
            settlement_id=None, royalty=None, paid=None, tx_hash=None, error="its settlement was lost by the chain",
        )  # fmt: skip
        conn.commit()

    def settled_newest_first(self, conn: Connection, below: int | None, limit: int) -> list[StoredReport]:
        """Settled reports by settlement id, newest first, those below settlement ``below`` if given."""
        query = select(reports_table).where(
            reports_table.c.state == ReportState.SETTLED, reports_table.c.settlement_id.is_not(None)
        )
        if below is not None:
            query = query.where(reports_table.c.settlement_id < below)
        query = query.order_by(reports_table.c.settlement_id.desc()).limit(limit)
        return [_report(row) for row in conn.execute(query)]

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

    def settled_net_sales(self, conn: Connection, licence_id: int) -> tuple[int, int]:
        """The licence's cumulative net sales over its settled reports in this outbox, in token
        units, and how many reports that is: each bucket's gross less its deductions (the last
        two of a bucket, in the licence's currency, converted parts included), less the returned
        buckets' (returns, cancelled or replaced lines of an adjustment). What the reviews
        contract's volume trigger compares with its threshold."""
        query = select(reports_table.c.buckets, reports_table.c.returned).where(
            (reports_table.c.licence_id == licence_id) & (reports_table.c.state == ReportState.SETTLED)
        )
        net, count = 0, 0
        for buckets, returned in conn.execute(query):
            count += 1
            net += sum(b[-2] - b[-1] for b in json.loads(buckets))
            net -= sum(b[-2] - b[-1] for b in json.loads(returned))
        return net, count

    def all_reports(self, conn: Connection) -> list[StoredReport]:
        query = select(reports_table).order_by(reports_table.c.id)
        return [_report(row) for row in conn.execute(query)]

    def _move(
        self,
        conn: Connection,
        report_ids: Sequence[int],
        to: ReportState,
        allowed_from: tuple[ReportState, ...] | None = None,
        **values: Any,
    ) -> None:
        """Sets ``state=to`` and ``values`` on these reports, each of which must be in a state ``to``
        may follow (or one of ``allowed_from``); else ReportStateError and nothing changed.

        The states are read first so that a batch moves all or nothing; the UPDATE names the
        allowed states again, so the database itself never applies a move from another state."""
        ids = sorted(set(report_ids))
        allowed = allowed_from or _FROM[to]
        rows = conn.execute(select(reports_table.c.id, reports_table.c.state).where(reports_table.c.id.in_(ids)))
        found: dict[int, str] = {int(report_id): str(state) for report_id, state in rows}
        refused = {i: found.get(i) for i in ids if found.get(i) not in allowed}
        if not refused:
            result = conn.execute(
                update(reports_table)
                .where(reports_table.c.id.in_(ids), reports_table.c.state.in_(allowed))
                .values(state=to, updated_at=_now(), **values)
            )
            if result.rowcount == len(ids):
                return
            refused = {i: None for i in ids}  # only another writer could get here: name every id
        raise ReportStateError(ids, to, refused, allowed)

    def mark_sent(
        self, conn: Connection, report_ids: list[int], tx_hash: str, fence: Callable[[Connection], None] | None = None
    ) -> None:
        """Records the transaction about to be broadcast for these reports. With ``fence`` (the
        sender lease's, ``outbox.lease``), it is checked in the same transaction: an instance
        that lost the lease records nothing (LeaseLost) and so never broadcasts."""
        try:
            if fence is not None:
                fence(conn)
            self._move(conn, report_ids, ReportState.SENT, tx_hash=tx_hash, attempts=reports_table.c.attempts + 1)
        except BaseException:
            conn.rollback()
            raise
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
        returned=json.loads(m["returned"]),
        adjustment=int(m["adjustment"]),
        corrects=int(m["corrects"]),
        audit=bool(m["audit"]),
        audit_cost=int(m["audit_cost"]),
        finding_ref=m["finding_ref"],
        fx=json.loads(m["fx"]),
    )
