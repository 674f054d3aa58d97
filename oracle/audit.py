"""Audit findings: an operator's feed of what an audit found, signed into an audit adjustment.

An audit of a settled period finds lines the licensee did not report (new sales), lines it
reported wrongly (replaces) or that should not have been there (cancels), in the feed format of
``examples/FEED_SCHEMA.md``, and states what the audit cost. ``queue_audit`` judges the feed with
the same intake as any feed (``intake.judge``), and then, only if every line is good, new and of
the licence and period named, stores the lines and their audit report in one transaction: an
adjustment of the period (``corrects`` its latest settlement on chain) signed with ``audit`` true
and the cost, by the licence's oracle set like any report. The normal sender sends it.

On chain (SettlementModule ``_correction`` / ``_chargeAudit``) the finding settles as kind Audit;
when the underpayment it reveals exceeds the licence's ``auditThresholdBps`` of the period's
settled royalty (``underpayment * 10,000 > bps * settled``), it is due from the period's original
due date (late interest runs from then) and the cost is charged as a settlement of kind
AuditCost; otherwise it is due when it settles and the cost is not charged. An audit that found
nothing (no lines) reveals no underpayment, so its cost is never charged.

Anything wrong (an unknown licence, a period not settled on chain, a cost that is not a
non-negative amount in the token's decimals, a bad line, a line of another licence or period, a
line the outbox holds already, a report of the period still on its way, lines of the period
waiting for an adjustment, a reference used before, a sale in another currency without its
exchange rate) raises :class:`AuditError`, naming it, and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.judge import judge
from intake.validate import LicenceInfo, ValidLine
from oracle.conversion import ConversionHeld
from oracle.directory import LicenceDirectory
from oracle.reports import AuditFinding, ReportBuilder
from outbox import Outbox, OutboxSeenLines, ReportedPeriods, ReportState, StoredReport
from royalty_chain.client import Chain
from royalty_chain.units import AmountError, format_amount, parse_amount

log = structlog.get_logger("oracle")

UINT32_MAX = (1 << 32) - 1
MAX_FINDING_REF = 200
# Problems an AuditError lists in full; the message says how many more there were.
SHOWN_PROBLEMS = 20
# A report of the period in these states may still settle: the finding waits for it.
_UNFINISHED = (ReportState.SIGNED, ReportState.SENT)


class AuditError(Exception):
    """An audit finding that was not queued: the message says which input and why, ``problems``
    lists the lines at fault (line number, field or line id, reason). Nothing was stored."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class QueuedAudit:
    """An audit finding signed into the outbox, waiting for the sender."""

    report: StoredReport
    period_name: str
    currency: str
    decimals: int

    @property
    def cost(self) -> str:
        """The cost the finding states, as the operator wrote it (in the token's decimals)."""
        return format_amount(self.report.audit_cost, self.decimals)

    @property
    def found_nothing(self) -> bool:
        """No line changes: the finding reveals no underpayment, so its cost is never charged."""
        return not self.report.buckets and not self.report.returned


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What the chain made of a settled audit finding (its AuditSettled event, and the interest
    charged on what it drew from the period's original due date)."""

    settlement_id: int
    underpayment: int  # negative for an overpayment
    reported_royalty: int  # the royalty the period was settled at before the finding
    threshold_bps: int
    exceeded: bool
    audit_cost_id: int  # the AuditCost settlement, 0 when the cost was not charged
    audit_cost: int  # charged: the finding's cost when exceeded, else 0
    interest: list[tuple[int, int, int, int]] = field(default_factory=list)  # (settlement, from, to, amount)


def parse_cost(text: str, info: LicenceInfo) -> int:
    """The audit's cost in token units, from a decimal like a feed's amounts (``3000.00``)."""
    try:
        return parse_amount(text, info.decimals)
    except AmountError as err:
        if err.reason == "is negative":
            raise AuditError(
                f"--cost {text!r} is negative: an audit's cost is what the licensee is charged for it, 0 or more"
            ) from None
        raise AuditError(
            f"--cost {text!r} {err.reason}: give it in {info.currency} with at most {info.decimals} decimals, "
            "like a feed's amounts (3000.00)"
        ) from None


def queue_audit(
    chain: Chain,
    outbox: Outbox,
    conn: Connection,
    directory: LicenceDirectory,
    builder: ReportBuilder,
    feed: Path,
    *,
    licence_id: int,
    period: int,
    cost: str,
    finding_ref: str | None = None,
    chain_time: int,
) -> QueuedAudit:
    """Judges ``feed`` as the audit finding of ``licence_id``'s ``period`` stating ``cost`` and
    signs it into the outbox with its lines, in one transaction; AuditError and nothing stored
    when anything is wrong (module docstring)."""
    info = directory.get(licence_id) if licence_id > 0 else None
    if info is None:
        raise AuditError(f"--licence {licence_id}: there is no licence {licence_id} in the registry")
    if not 0 <= period <= UINT32_MAX:
        raise AuditError(f"--period {period}: a period is an index from 0 (the term's first period) to 2**32-1")
    name = info.rule.period_name(period)
    shown = f"licence {licence_id} period {period} ({name})"
    audit_cost = parse_cost(cost, info)
    reference = _reference(finding_ref)
    if reference is not None:
        earlier = outbox.audit_with_reference(conn, licence_id, reference)
        if earlier is not None:
            raise AuditError(
                f"--finding-ref {reference!r}: licence {licence_id} has that finding already, report {earlier.id} "
                f"of period {earlier.period} ({earlier.state}); an audit is queued once"
            )
    threshold, held = builder.signing_keys(licence_id)
    if held < threshold:
        raise AuditError(
            f"licence {licence_id} needs {threshold} oracle signatures; this oracle holds {held} of its signer keys"
        )
    latest = chain.ledger.latest_of_period(licence_id, period)
    if latest == 0:
        raise AuditError(
            f"{shown} is not settled on chain: an audit finding corrects a settled period "
            "(a report of it on its way settles with `royalty-oracle send`)"
        )
    _period_is_quiet(outbox, conn, licence_id, period, shown)
    lines = _judge(feed, outbox, conn, directory, chain_time, licence_id, period, info)
    try:
        stored = outbox.store_lines(conn, {licence_id: info.licensee.lower()}, lines, str(feed))
        waiting = sum(n for lid, p, n in outbox.waiting_periods(conn) if (lid, p) == (licence_id, period))
        if stored != len(lines) or waiting != len(lines):
            raise AuditError(
                f"{shown}: other lines of the period reached the outbox while the audit was read "
                f"({len(lines)} audit lines, {stored} stored, {waiting} waiting); run the audit again"
            )
        try:
            report_id = builder.build_audit(licence_id, period, latest, AuditFinding(audit_cost, reference))
        except ConversionHeld as held:
            if held.waits_for_rates:
                message = f"the finding {held.reason}: load them (`royalty-oracle rates load`) and queue it again"
            else:
                message = f"the finding cannot be converted: {held.reason}"
            raise AuditError(f"{shown}: {message}") from held
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    report = outbox.get_report(conn, report_id)
    log.info(
        "audit_queued",
        report=report_id,
        licence=licence_id,
        period=period,
        period_name=name,
        corrects=latest,
        lines=report.line_count,
        audit_cost=audit_cost,
        finding_ref=reference,
    )
    return QueuedAudit(report, name, info.currency, info.decimals)


def audit_outcome(chain: Chain, settlement_id: int) -> AuditOutcome | None:
    """The chain's AuditSettled event of the audit settlement, with the interest charged on it;
    None when there is none (not an audit's settlement)."""
    found = chain.ledger.events("AuditSettled", settlementId=settlement_id)
    if not found:
        return None
    args = found[0].args
    interest = [
        (int(e.args["settlementId"]), int(e.args["from"]), int(e.args["to"]), int(e.args["interest"]))
        for e in chain.ledger.events("InterestCharged", onSettlementId=settlement_id)
    ]
    return AuditOutcome(
        settlement_id=settlement_id,
        underpayment=int(args["underpayment"]),
        reported_royalty=int(args["reportedRoyalty"]),
        threshold_bps=int(args["thresholdBps"]),
        exceeded=bool(args["exceeded"]),
        audit_cost_id=int(args["auditCostId"]),
        audit_cost=int(args["auditCost"]),
        interest=interest,
    )


def _reference(finding_ref: str | None) -> str | None:
    if finding_ref is None:
        return None
    if not finding_ref.strip():
        raise AuditError("--finding-ref is empty: leave it out, or name the finding (an audit report's number)")
    if finding_ref != finding_ref.strip():
        raise AuditError(f"--finding-ref {finding_ref!r} has leading or trailing whitespace")
    if len(finding_ref) > MAX_FINDING_REF:
        raise AuditError(f"--finding-ref is {len(finding_ref)} characters long: at most {MAX_FINDING_REF}")
    return finding_ref


def _period_is_quiet(outbox: Outbox, conn: Connection, licence_id: int, period: int, shown: str) -> None:
    """No report of the period on its way and no line of it waiting: the finding then carries
    exactly its own lines and corrects the period's settlement as the chain has it."""
    on_the_way = [r for r in outbox.period_reports(conn, licence_id, period) if r.state in _UNFINISHED]
    if on_the_way:
        r = on_the_way[0]
        raise AuditError(
            f"{shown}: its {r.kind} report {r.id} is on its way ({r.state}): let it settle first "
            "(`royalty-oracle send`), so that the finding corrects the period as settled"
        )
    waiting = sum(n for lid, p, n in outbox.waiting_periods(conn) if (lid, p) == (licence_id, period))
    if waiting:
        raise AuditError(
            f"{shown}: {waiting} line(s) of the period wait for an adjustment: let them settle first "
            "(`royalty-oracle send`), so that the finding carries only its own lines"
        )


def _judge(
    feed: Path,
    outbox: Outbox,
    conn: Connection,
    directory: LicenceDirectory,
    chain_time: int,
    licence_id: int,
    period: int,
    info: LicenceInfo,
) -> list[ValidLine]:
    """The feed's lines, each judged as any feed's and each of the licence and period; else
    AuditError listing every line at fault. Reads the outbox, stores nothing."""
    seen = OutboxSeenLines(outbox, conn)
    verdicts, stats = judge(feed, directory.all(), seen, ReportedPeriods(outbox, conn), chain_time=chain_time)
    lines: list[ValidLine] = []
    problems: list[str] = []
    rejected = misplaced = 0
    for item in verdicts:  # read to the end: the parsing process finishes with the feed
        if type(item) is Rejection:
            rejected += 1
            problems.append(str(item))
            continue
        line: ValidLine = item  # type: ignore[assignment]
        if line.licence_id != licence_id:
            misplaced += 1
            problems.append(
                f"line {line.line_number}: line_id {line.line_id!r} is of licence {line.licence_id}, not of "
                f"licence {licence_id}"
            )
        elif line.period != period:
            misplaced += 1
            problems.append(
                f"line {line.line_number}: line_id {line.line_id!r} is in period {line.period} "
                f"({info.rule.period_name(line.period)}), not in period {period} ({info.rule.period_name(period)})"
            )
        lines.append(line)
    if problems:
        what = []
        if rejected:
            what.append(f"{rejected} line(s) rejected")
        if misplaced:
            what.append(f"{misplaced} line(s) of another licence or period")
        more = len(problems) - SHOWN_PROBLEMS
        shown = problems[:SHOWN_PROBLEMS] + ([f"... {more} more"] if more > 0 else [])
        raise AuditError(
            f"{feed.name}: {' and '.join(what)}: an audit finding is signed whole, for one licence and period, "
            "so every line must be good",
            shown,
        )
    if stats.duplicates:
        raise AuditError(
            f"{feed.name}: {stats.duplicates} line(s) are in the outbox already with the same content (was this "
            "audit queued before? `royalty-oracle status` lists the reports): a finding carries only new lines, "
            "cancels and replaces that change a line"
        )
    return lines
