"""Building reports: which periods are due, their buckets and Merkle root, k oracle signatures.

A period is due once it ended (its end by the licence's calendar rule, by chain time) plus the
grace period, or once an operator closed it. Its waiting lines are aggregated into buckets (one
per contract year, territory, field and channel: a sale is priced in the contract year of its
date) and a Merkle root, signed by k oracle keys, and stored with the lines tied to it in one
transaction (one commit a round). A report whose sequence went stale or whose deadline nears is
signed again (``resign``) before it is sent.

Nil reports: a period without sales still has to settle (its fixed fee is owed, and the
contract year's guarantee needs every period settled), so every licence this oracle serves
(it holds at least the licence's threshold of oracle keys) gets a signed report with no buckets,
no lines and the empty lines root (``bytes(32)``, intake.merkle's convention; the ledger checks
no root) for each period whose due date passed (and that ended + grace), starts before the end
of the term and sell-off,
has no report in the outbox, has no waiting lines and is not settled on chain. Because a nil
report settles its period for good, the scan is conservative about where it starts:

- a licence with no report settled on chain (``lastSequence`` 0): from its first period;
- else, if this outbox has reports of the licence: from the earliest of them (this oracle has
  served it since);
- else (another oracle, or an earlier outbox, reported it): only periods that were still running
  when this builder first served the licence. Earlier gaps are left to whoever served it then.

At most ``nil_reports_per_licence`` nil reports are built per licence per round, in period
order, each logged (``nil_report``); periods found settled on chain are remembered and skipped.

Adjustments: lines that wait for a period that already has a report (a late line, a return
dated in it, a cancel or replace of one of its lines) go into an adjustment of the period,
signed once the period's latest report is settled on chain (``latestOfPeriod`` not 0: before
that the ledger would refuse it with PeriodNotSettled, so the lines wait) and no other report
of the period is on its way. Its buckets are what it adds (new lines, the new values of replaced
ones), its returned buckets what it takes away (returns, cancelled lines, the old values of
replaced ones), its root and line count its own lines', and it ``corrects`` the period's latest
settlement, read when it is signed and again whenever it is signed anew (``resign``).

Audit findings (``build_audit``, called by oracle.audit): an adjustment signed with ``audit``
true and the cost the audit states, from lines that never wait (they are stored with the report
in one transaction), or from none (an audit that found nothing). ``resign`` keeps both fields.

Within one report, a version that a later one takes away (a line cancelled or replaced before
it was reported) counts only in the root: the line adds its last version, and takes away the
version an earlier report carried, if any.

Sales in other currencies (docs/currencies.md): a report's lines in another currency than the
licence's are converted by its clause at the rates of the outbox's stored quotes
(oracle.conversion); its buckets hold the converted parts and its conversions are stored with it
(``StoredReport.fx``) and signed again with it. A report that needs a rate not stored is not
signed: its period is held (the outbox's ``rate_holds``, shown by ``royalty-oracle status``), its
lines keep waiting, one ``report_waits_for_rates`` line per currency is logged (licence, period,
currency, source, the days without a rate) when the hold is new or changes, and every round tries
it again, so the round after ``royalty-oracle rates load`` signs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Connection

from intake.merkle import LINE_CANCEL, ZERO_ROOT
from intake.validate import LicenceInfo
from oracle.aggregate import Aggregator, BucketSums
from oracle.conversion import (
    ConversionHeld,
    ConversionRecord,
    FxRule,
    prepare_conversions,
    records_of,
    with_conversions,
)
from oracle.directory import LicenceDirectory
from oracle.hooks import FaultHook, no_fault
from outbox import Outbox, ReportState, StoredReport
from outbox.store import line_of_row
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.client import Chain
from royalty_chain.models import SettlementContext
from royalty_chain.terms import Bucket, Report

log = structlog.get_logger("oracle")

DEFAULT_NIL_REPORTS_PER_LICENCE = 4


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """What makes an adjustment an audit finding: the cost it states (token units; the ledger
    charges it only when the underpayment exceeds the licence's threshold) and the operator's
    reference for it (kept in the outbox, not signed)."""

    cost: int
    reference: str | None = None


class ReportBuilder:
    """Signs the reports of due periods into the outbox; holds this oracle's signer keys."""

    def __init__(
        self,
        chain: Chain,
        outbox: Outbox,
        conn: Connection,
        directory: LicenceDirectory,
        signers: list[LocalAccount],
        *,
        grace_seconds: int = 0,
        report_ttl_seconds: int = 86_400,
        nil_reports: bool = True,
        nil_reports_per_licence: int = DEFAULT_NIL_REPORTS_PER_LICENCE,
        fault: FaultHook = no_fault,
    ) -> None:
        if nil_reports_per_licence < 1:
            raise ValueError(f"nil_reports_per_licence must be at least 1, not {nil_reports_per_licence}")
        self.chain = chain
        self.outbox = outbox
        self.conn = conn
        self.directory = directory
        self.signers = {a.address.lower(): a for a in signers}
        self.grace_seconds = grace_seconds
        self.report_ttl_seconds = report_ttl_seconds
        self.nil_reports = nil_reports
        self.nil_reports_per_licence = nil_reports_per_licence
        self._fault = fault
        self._signer_cache: dict[int, tuple[int, list[LocalAccount]]] = {}
        self._round_time = 0
        self._last_sequences: dict[int, int] = {}
        # Nil report scan state per licence: chain time of the first round that served it, the
        # periods found settled on chain by someone else, and the lowest period not known covered.
        self._first_served: dict[int, int] = {}
        self._settled_elsewhere: dict[int, set[int]] = {}
        self._nil_cursor: dict[int, int] = {}
        # The licences read this round (the directory asks the node for new logs at each read).
        self._infos: dict[int, LicenceInfo] = {}
        self._rules: dict[int, LicenceCalendar] = {}  # for period_name
        # The periods of the last round whose report waits (for exchange rates, or an operator).
        self.held: list[ConversionHeld] = []

    def chain_time(self) -> int:
        # RPC failures are retried with backoff by the provider (royalty_chain.client.Chain).
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def due_periods(self, now: int | None = None) -> list[tuple[int, int, int]]:
        """(licence, period, waiting lines) of every period with lines that is due."""
        now = self.chain_time() if now is None else now
        waiting = self.outbox.waiting_periods(self.conn)
        licences = self.directory.many(sorted({licence_id for licence_id, _, _ in waiting}))
        self._infos.update(licences)
        due = []
        for licence_id, period, count in waiting:
            info = licences.get(licence_id)
            if info is None:
                continue
            period_end = info.rule.period_bounds(period)[1]
            if now >= period_end + self.grace_seconds or self.outbox.is_closed(self.conn, licence_id, period):
                due.append((licence_id, period, count))
        return due

    def nil_periods(self, now: int | None = None) -> list[tuple[int, int]]:
        """(licence, period) of the nil reports due, in (licence, period) order (module docstring)."""
        now = self.chain_time() if now is None else now
        licences = self.directory.all()
        self._infos.update(licences)
        self._prefetch_signers(sorted(licences))
        served = [i for i in sorted(licences) if self._serves(i)]
        if not served:
            return []
        for licence_id in served:
            self._first_served.setdefault(licence_id, now)
        reported = self.outbox.report_periods(self.conn, served)
        waiting = {(licence_id, period) for licence_id, period, _ in self.outbox.waiting_periods(self.conn)}
        chain_last = self._read_many("lastSequence", served)
        self._last_sequences.update(chain_last)
        candidates: dict[int, list[int]] = {}
        for licence_id in served:
            info = licences[licence_id]
            floor = self._nil_floor(licence_id, info, reported[licence_id], chain_last[licence_id])
            covered = reported[licence_id] | self._settled_elsewhere.get(licence_id, set())
            found: list[int] = []
            period = max(floor, self._nil_cursor.get(licence_id, 0))
            cursor_moves = True
            while len(found) < self.nil_reports_per_licence:
                start, end = info.rule.period_bounds(period)
                # Zero sales is only known when the licensee's report is due: a feed may still come
                # until the period's due date (a nil report would make its lines late).
                if start >= info.sell_off_end or max(end + self.grace_seconds, info.rule.period_due_at(period)) > now:
                    break
                if period in covered:
                    if cursor_moves:
                        self._nil_cursor[licence_id] = period + 1
                elif (licence_id, period) in waiting:
                    cursor_moves = False
                else:
                    found.append(period)
                    cursor_moves = False
                period += 1
            if found:
                candidates[licence_id] = found
        # Settled on chain already (by another oracle, or a report this outbox no longer has):
        # remembered, so the next round looks further.
        keys = [(licence_id, period) for licence_id, periods in candidates.items() for period in periods]
        settled = self._read_pairs("settledPeriod", keys)
        nil = []
        for key in keys:
            if settled[key]:
                self._settled_elsewhere.setdefault(key[0], set()).add(key[1])
            else:
                nil.append(key)
        return nil

    def _nil_floor(self, licence_id: int, info: LicenceInfo, reported: set[int], chain_last: int) -> int:
        """The first period the nil report scan of a licence may look at (module docstring)."""
        if chain_last == 0:
            return 0
        if reported:
            return min(reported)
        first_served = self._first_served[licence_id]
        return info.rule.period_of(first_served) if first_served >= info.term_start else 0

    def _serves(self, licence_id: int) -> bool:
        threshold, mine = self._signer_cache[licence_id]
        return len(mine) >= threshold

    def build_reports(self) -> list[int]:
        """Signs every due period (with lines, or a nil report without) into the outbox, in
        (licence, period) order so that each licence's sequences follow its periods."""
        built = []
        self.held = []
        self._round_time = now = self.chain_time()
        due = self.due_periods(now)
        nil = self.nil_periods(now) if self.nil_reports else []
        work = sorted([(licence_id, period, True) for licence_id, period, _ in due] + [(*k, False) for k in nil])
        # One JSON-RPC batch for what every report of the round needs from the chain.
        missing = sorted({licence_id for licence_id, _, _ in work} - set(self._last_sequences))
        self._last_sequences.update(self._read_many("lastSequence", missing))
        self._prefetch_signers([licence_id for licence_id, _, _ in work])
        reported = {
            (licence_id, period): reports
            for licence_id, period, has_lines in work
            if has_lines and (reports := self.outbox.period_reports(self.conn, licence_id, period))
        }
        latest = self._read_pairs("latestOfPeriod", sorted(reported))
        for licence_id, period, has_lines in work:
            if not has_lines:
                built.append(self._build_nil(licence_id, period))
                continue
            earlier = reported.get((licence_id, period))
            if earlier is None:
                report_id = self._build(licence_id, period)
                if report_id is not None:  # None: held for exchange rates
                    built.append(report_id)
                continue
            adjustment = self._adjustment(licence_id, period, earlier, latest[licence_id, period])
            if adjustment is not None:
                built.append(adjustment)
        # One commit (one fsync) for the round: a crash before it loses only signatures.
        self.conn.commit()
        self._last_sequences = {}
        self._infos = {}
        return built

    def _adjustment(self, licence_id: int, period: int, reports: list[StoredReport], latest: int) -> int | None:
        """The adjustment of a reported period for its waiting lines, or None while it must wait
        (module docstring)."""
        on_the_way = [r.id for r in reports if r.state in (ReportState.SIGNED, ReportState.SENT)]
        if on_the_way or latest == 0:
            log.info(
                "adjustment_waits",
                licence=licence_id,
                period=period,
                period_name=self.period_name(licence_id, period),
                reason=f"report {on_the_way[0]} is on its way" if on_the_way else "the period is not settled on chain",
            )
            return None
        return self._build(licence_id, period, adjustment=max(r.adjustment for r in reports) + 1, corrects=latest)

    def build_audit(self, licence_id: int, period: int, corrects: int, finding: AuditFinding) -> int:
        """Signs the period's waiting lines (none: an audit that found nothing) into an audit
        finding, the period's next adjustment, correcting settlement ``corrects`` (the period's
        latest on chain). Not committed: the caller stores the finding's lines and this report
        in one transaction (oracle.audit)."""
        self._round_time = self.chain_time()
        reports = self.outbox.period_reports(self.conn, licence_id, period)
        adjustment = max((r.adjustment for r in reports), default=0) + 1
        try:
            report_id = self._build(
                licence_id, period, adjustment=adjustment, corrects=corrects, audit=finding, hold=False
            )
            assert report_id is not None  # not held: ConversionHeld is raised
            return report_id
        finally:
            self._last_sequences = {}
            self._infos = {}

    def _hold(self, held: ConversionHeld) -> None:
        """Notes in the outbox that the period's report waits, and logs it when that is news:
        one line per currency without a rate (``report_waits_for_rates``), or one saying what
        else holds it (``report_held``). The period is tried again every round."""
        self.held.append(held)
        licence_id, period = held.licence_id, held.period
        missing = [m.as_dict() for m in held.missing]
        if not self.outbox.hold_for_rates(self.conn, licence_id, period, held.source, missing, held.reason):
            return
        name = self.period_name(licence_id, period)
        if not held.waits_for_rates:
            log.error("report_held", licence=licence_id, period=period, period_name=name, reason=held.reason)
            return
        for m in held.missing:
            log.warning(
                "report_waits_for_rates",
                licence=licence_id,
                period=period,
                period_name=name,
                currency=m.currency,
                source=held.source,
                base=held.base,
                days=list(m.days),
                reason=m.reason,
            )

    def close_period(self, licence_id: int, period: int) -> None:
        self.outbox.close_period(self.conn, licence_id, period)
        log.info("period_closed", licence=licence_id, period=period, period_name=self.period_name(licence_id, period))

    def period_name(self, licence_id: int, period: int) -> str:
        """The period's name by the licence's calendar (``2025-Q1``), "" for an unknown licence.

        A licence's calendar is fixed at registration (an amendment moves only its end), so the
        rule is kept once read: log lines and tables name periods without asking the node."""
        rule = self._rules.get(licence_id)
        if rule is None:
            info = self._info(licence_id)
            if info is None:
                return ""
            rule = self._rules[licence_id] = info.rule
        return rule.period_name(period)

    def _info(self, licence_id: int) -> LicenceInfo | None:
        info = self._infos.get(licence_id)
        return info if info is not None else self.directory.get(licence_id)

    def resign(self, stored: StoredReport) -> StoredReport:
        """Signs ``stored`` again with the next sequence and a fresh deadline; an adjustment also
        names the period's latest settlement on chain now (another adjustment may have settled
        since it was signed: the ledger refuses it with AdjustmentNotOfLatest). An audit finding
        stays one, with the cost it states."""
        sequence = self.outbox.next_sequence(
            self.conn, stored.licence_id, self.chain.ledger.last_sequence(stored.licence_id)
        )
        deadline = self.chain_time() + self.report_ttl_seconds
        corrects = stored.corrects
        if stored.adjustment:
            corrects = self.chain.ledger.latest_of_period(stored.licence_id, stored.period)
        report = _report(
            stored.licence_id,
            stored.period,
            sequence,
            deadline,
            stored.lines_root,
            stored.line_count,
            stored.buckets,
            stored.returned,
            corrects,
            audit=stored.audit,
            audit_cost=stored.audit_cost,
            fx=records_of(stored),
        )
        signatures = self._sign(report)
        self.outbox.resign(self.conn, stored.id, sequence, deadline, signatures, corrects=corrects)
        log.info(
            "report_resigned",
            report=stored.id,
            licence=stored.licence_id,
            period=stored.period,
            period_name=self.period_name(stored.licence_id, stored.period),
            sequence=sequence,
            deadline=deadline,
            corrects=corrects,
        )
        return self.outbox.get_report(self.conn, stored.id)

    def _read_many(self, view: str, licence_ids: list[int]) -> dict[int, int]:
        """The ledger's ``view(licence_id)`` for many licences in one JSON-RPC batch."""
        fn = self.chain.codecs["RoyaltyLedger"].fn(view)
        ledger = self.chain.ledger.address
        answers = self.chain.call_many([(ledger, fn, (licence_id,)) for licence_id in licence_ids])
        return {licence_id: int(answer) for licence_id, answer in zip(licence_ids, answers, strict=True)}

    def _read_pairs(self, view: str, keys: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """The ledger's ``view(licence_id, period)`` for many pairs in one JSON-RPC batch."""
        if not keys:
            return {}
        fn = self.chain.codecs["RoyaltyLedger"].fn(view)
        ledger = self.chain.ledger.address
        answers = self.chain.call_many([(ledger, fn, key) for key in keys])
        return {key: int(answer) for key, answer in zip(keys, answers, strict=True)}

    def _prefetch_signers(self, licence_ids: list[int]) -> None:
        """Thresholds and oracle sets of licences not seen before, in one JSON-RPC batch."""
        new = sorted({i for i in licence_ids if i not in self._signer_cache})
        if not new:
            return
        codec = self.chain.codecs["LicenceRegistry"]
        context_of, is_oracle = codec.fn("settlementContext"), codec.fn("isOracle")
        registry = self.chain.registry.address
        addresses = [self.chain.w3.to_checksum_address(a) for a in self.signers]
        calls: list[tuple[str, Any, tuple[Any, ...]]] = []
        for licence_id in new:
            calls.append((registry, context_of, (licence_id,)))
            calls.extend((registry, is_oracle, (licence_id, address)) for address in addresses)
        answers = iter(self.chain.call_many(calls))
        for licence_id in new:
            threshold = SettlementContext.from_abi(next(answers)).threshold
            mine = [self.signers[a.lower()] for a in addresses if next(answers)]
            self._signer_cache[licence_id] = (threshold, sorted(mine, key=lambda a: int(a.address, 16)))

    def _build(
        self,
        licence_id: int,
        period: int,
        adjustment: int = 0,
        corrects: int = 0,
        audit: AuditFinding | None = None,
        *,
        hold: bool = True,
    ) -> int | None:
        """Signs the period's waiting lines into its original report (``adjustment`` 0) or its
        n-th adjustment, correcting settlement ``corrects`` (module docstring); with ``audit``,
        the adjustment is that audit finding.

        Sales in other currencies are converted (oracle.conversion); when a rate is missing, the
        period is held (``hold``: noted in the outbox, logged when new, None returned, nothing
        signed) or ConversionHeld raised (``hold`` False: the caller says it)."""
        info = self._info(licence_id)
        if info is None:
            raise LookupError(f"licence {licence_id} is not in the registry: its period {period} cannot be reported")
        rule = info.rule
        years = rule.years_of_period(period)

        def year_of(row: dict[str, Any]) -> int:
            # The contract year is not stored with the line: it follows from the sale day.
            line_period, year = rule.period_and_year_of_day(row["sale_day"])
            if line_period != period or year not in years:
                raise RuntimeError(
                    f"line {row['line_id']} of licence {licence_id} is stored in period {period} but its sale day "
                    f"falls in period {line_period} (contract year {year}) by the licence's calendar on chain"
                )
            return year

        # The version each waiting cancel or replace takes away; a waiting one is in this report.
        previous = self.outbox.previous_versions(self.conn, licence_id, period)

        def in_this_report(key: tuple[str, str, int]) -> bool:
            row = previous.get(key)
            return row is not None and row["state"] == "waiting"

        def base_of(licensee: str, line_id: str, revision: int) -> dict[str, Any] | None:
            """The version an earlier report carried that this line's versions here take away."""
            revision -= 1
            while in_this_report((licensee, line_id, revision)):
                revision -= 1
            return previous.get((licensee, line_id, revision)) if revision >= 0 else None

        aggregator = Aggregator(foreign_by_day=info.clause.rule is FxRule.SALE_DATE)
        for row in self.outbox.waiting_lines(self.conn, licence_id, period):
            line = line_of_row(row, year_of(row))
            key = (row["licensee"], line.line_id, line.revision)
            if in_this_report(key):  # a later version here takes it away: it only counts in the root
                aggregator.add_leaf(licence_id, period, line.leaf)
                continue
            if line.revision:
                base = base_of(*key)
                if base is None:
                    if line.kind == LINE_CANCEL:  # the line came and went in this report
                        aggregator.add_leaf(licence_id, period, line.leaf)
                        continue
                    line = line._replace(previous=None)
                else:
                    values = (year_of(base), int(base["territory"]), int(base["field"]), int(base["channel"]))
                    amounts = (int(base["units"]), int(base["gross"]), int(base["deductions"]))
                    # the base's currency: its amounts are in that currency's minor units
                    currency = base.get("currency") or ""
                    money = (int(base["sale_day"]), currency, int(base["minor_units"]) if currency else 0)
                    if line.kind == LINE_CANCEL:
                        line = line._replace(
                            year=values[0],
                            territory=values[1],
                            field=values[2],
                            channel=values[3],
                            units=amounts[0],
                            gross=amounts[1],
                            deductions=amounts[2],
                            in_scope=bool(base["in_scope"]),
                            sale_day=money[0],
                            currency=money[1],
                            minor_units=money[2],
                        )
                    else:
                        line = line._replace(previous=(*values, *amounts, *money))
            aggregator.add(line)
        finished = aggregator.finish()
        fx: list[ConversionRecord] = []
        if finished:
            (totals,) = finished
            root, line_count = totals.lines_root, totals.line_count
            earlier = self.outbox.period_reports(self.conn, licence_id, period) if adjustment else []
            try:
                tables = self.chain.fx.tables(licence_id) if info.clause.rule is FxRule.FIXED else ()
                converted = prepare_conversions(self.outbox, self.conn, info, totals, earlier, tables)
            except ConversionHeld as held:
                if not hold:
                    raise
                self._hold(held)
                return None
            buckets, returned, fx = converted.buckets, converted.returned, converted.fx
        else:  # only an audit that found nothing has no lines: it states its cost alone
            root, line_count, buckets, returned = ZERO_ROOT, 0, [], []
        report_id = self._sign_and_store(
            licence_id, period, root, line_count, buckets, returned, adjustment, corrects, audit, fx
        )
        event = "audit_signed" if audit else "adjustment_signed" if adjustment else "report_signed"
        log.info(
            event,
            report=report_id,
            licence=licence_id,
            period=period,
            period_name=rule.period_name(period),
            lines=line_count,
            buckets=len(buckets),
            returned=len(returned),
            years=sorted({b[0] for b in buckets + returned}),
            **({"conversions": len(fx), "currencies": sorted({c.currency for c in fx})} if fx else {}),
            **({"adjustment": adjustment, "corrects": corrects} if adjustment else {}),
            **({"audit_cost": audit.cost, "finding_ref": audit.reference} if audit else {}),
        )
        self._fault("after_sign")
        return report_id

    def _build_nil(self, licence_id: int, period: int) -> int:
        """A signed report of no sales for the period: no buckets, no lines, the empty root."""
        report_id = self._sign_and_store(licence_id, period, ZERO_ROOT, 0, [])
        log.info(
            "nil_report",
            report=report_id,
            licence=licence_id,
            period=period,
            period_name=self.period_name(licence_id, period),
        )
        self._fault("after_sign")
        return report_id

    def _sign_and_store(
        self,
        licence_id: int,
        period: int,
        root: bytes,
        line_count: int,
        buckets: list[list[int]],
        returned: list[list[int]] | None = None,
        adjustment: int = 0,
        corrects: int = 0,
        audit: AuditFinding | None = None,
        fx: list[ConversionRecord] | None = None,
    ) -> int:
        chain_last = self._last_sequences.get(licence_id)
        if chain_last is None:
            chain_last = self.chain.ledger.last_sequence(licence_id)
        sequence = self.outbox.next_sequence(self.conn, licence_id, chain_last)
        deadline = self._round_time + self.report_ttl_seconds
        report = _report(
            licence_id,
            period,
            sequence,
            deadline,
            root,
            line_count,
            buckets,
            returned or [],
            corrects,
            audit=audit is not None,
            audit_cost=audit.cost if audit else 0,
            fx=fx or [],
        )
        signatures = self._sign(report)
        return self.outbox.add_report(
            self.conn,
            licence_id=licence_id,
            period=period,
            sequence=sequence,
            deadline=deadline,
            lines_root=root,
            line_count=line_count,
            buckets=buckets,
            signatures=signatures,
            commit=False,
            returned=returned or [],
            adjustment=adjustment,
            corrects=corrects,
            audit=audit is not None,
            audit_cost=audit.cost if audit else 0,
            finding_ref=audit.reference if audit else None,
            fx=[c.as_dict() for c in fx or []],
        )

    def _sign(self, report: Report) -> list[bytes]:
        threshold, mine = self._signers_for(report.licence_id)
        if len(mine) < threshold:
            raise RuntimeError(
                f"licence {report.licence_id} needs {threshold} oracle signatures; this oracle holds "
                f"{len(mine)} of its signer keys"
            )
        return sign_report(report_digest(self.chain, report), mine[:threshold])

    def signing_keys(self, licence_id: int) -> tuple[int, int]:
        """The licence's threshold of oracle signatures and how many of its keys this oracle holds."""
        threshold, mine = self._signers_for(licence_id)
        return threshold, len(mine)

    def signers_of(self, licence_id: int) -> tuple[int, list[LocalAccount]]:
        """The licence's threshold and this oracle's keys of its oracle set, ascending by address
        (the order the contracts want signatures in): what the escalation stepper signs with."""
        return self._signers_for(licence_id)

    def _signers_for(self, licence_id: int) -> tuple[int, list[LocalAccount]]:
        """The licence's threshold and the keys this oracle holds of its oracle set.

        Both are fixed at registration, so they are read from the chain once per licence."""
        self._prefetch_signers([licence_id])
        return self._signer_cache[licence_id]


def _bucket_row(b: BucketSums) -> list[int]:
    """A bucket as the outbox stores it and the report carries it."""
    return [b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions]


def _report(
    licence_id: int,
    period: int,
    sequence: int,
    deadline: int,
    root: bytes,
    count: int,
    buckets: list[list[int]],
    returned: list[list[int]] | None = None,
    corrects: int = 0,
    *,
    audit: bool = False,
    audit_cost: int = 0,
    fx: list[ConversionRecord] | None = None,
) -> Report:
    if any(len(b) != 7 for b in buckets):
        raise ValueError(
            f"licence {licence_id} period {period}: buckets without a contract year (a report signed for the "
            "ledger before contract years) cannot be signed again"
        )
    report = Report(
        licence_id=licence_id,
        period=period,
        sequence=sequence,
        deadline=deadline,
        lines_root=root,
        line_count=count,
        buckets=tuple(Bucket(*b) for b in buckets),
        returned=tuple(Bucket(*b) for b in returned or []),
        corrects=corrects,
        audit=audit,
        audit_cost=audit_cost,
    )
    return with_conversions(report, fx or [])
