"""Applies decoded events to the projection tables, mirroring the contracts' bookkeeping.

Everything here follows from the events alone (IRoyaltyLedger / ILicenceRegistry NatSpec):
escrow grows by ``Deposited.toEscrow`` and dispute refunds, shrinks by what settlements draw and
by ``EscrowWithdrawn``; arrears grow by ``due - paid`` of a settlement and shrink by
``ArrearsPaid`` and dispute resolutions; the payees' accumulator is ``distributedTotal`` of the
latest ``Released`` (each payee's part of it: api.money.entitlements). A Projector works inside
one session/transaction and caches the rows it touches, so a block range costs one flush.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy.orm import Session

from api.indexer.models import (
    BucketRow,
    ConversionRow,
    EscalationClauseRow,
    EscalationStepRow,
    FixedRateRow,
    LicenceRow,
    PayeeRow,
    ReleaseRow,
    ReturnRow,
    ReviewClauseRow,
    ReviewRow,
    ScheduleVersionRow,
    SettlementRow,
    SettlementYearRow,
)
from api.indexer.rows import ProjectionError, RowCache
from royalty_chain.calendar import calendar_fields
from royalty_chain.codes import Scope
from royalty_chain.escalation import Clause, index_text
from royalty_chain.events import ChainEvent
from royalty_chain.models import Kind
from royalty_chain.reviews import Review, ReviewClause
from royalty_chain.terms import currency_code

KINDS = {kind.value: kind.label for kind in Kind}  # the ledger's Kind, as the index stores it
ROYALTY_KINDS = ("report", "adjustment", "audit")  # priced from signed reports (the ledger's _isRoyalty)


class Projector(RowCache):
    # Bump when a handler's output changes: an index built by another version is replayed from
    # its stored events (api.indexer.indexer.Indexer.sync), without reading the chain again.
    # 2: calendar periods and contract years (LicenceCalendar), due dates and lateness, per-year
    # parts of reports, bucket years, interest settlements.
    # 3: returns (ReturnReported), the licensee's credit (CreditCarried/CreditApplied), adjustment
    # settlements and their corrects/corrected_by chain, signed per-year figures.
    # 4: reserves against returns (ReserveHeld/ReserveConsumed, kind reserve, state held), audit
    # findings and their costs (AuditSettled, kinds audit and audit_cost).
    # 5: distributions to every payee (Distributed, one amount per payee in list order).
    # 6: the conversion clause of a licence's calendar (fx_rule, fx_source) and the conversions of
    # sales in other currencies a report carried (CurrencyConverted).
    # 7: escalation clauses (EscalationAttached) and their steps (Escalated: the index values, the
    # ratio and limit applied, and the schedule version each appended).
    # 8: review clauses (ReviewClauseAttached) and reviews (ReviewOpened: the data that fired it
    # and the suggestion; ReviewDeclined / ReviewAccepted: the decision).
    # 9: tables of fixed contractual rates (FixedRatesAgreed), so a statement names the table a
    # conversion under rule fixed used.
    VERSION = 9

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        # Dispute refunds go to escrow except what pays other arrears in the same transaction.
        self._refund_credit: dict[int, tuple[str, int]] = {}
        self._scopes: dict[int, Scope] = {}
        self._handlers: dict[str, Callable[[ChainEvent], None]] = {
            "LicenceRegistered": self._registered,
            "LicenceAmended": self._amended,
            "BreachNoticed": self._breach_noticed,
            "LicenceTerminated": self._terminated,
            "LicenceOpened": self._opened,
            "Deposited": self._deposited,
            "Settled": self._settled,
            "ReportAccepted": self._report_accepted,
            "BucketReported": self._bucket,
            "ReturnReported": self._return,
            "CurrencyConverted": self._converted,
            "CreditCarried": self._credit_carried,
            "CreditApplied": self._credit_applied,
            "ScopeBreached": self._scope_breached,
            "InterestCharged": self._interest_charged,
            "ArrearsPaid": self._arrears_paid,
            "Released": self._released,
            "Disputed": self._disputed,
            "DisputeResolved": self._resolved,
            "Withdrawn": self._withdrawn,
            "Distributed": self._distributed,
            "EscrowWithdrawn": self._escrow_withdrawn,
            "ArrearsCleared": self._arrears_cleared,
            "ReserveHeld": self._reserve_held,
            "ReserveConsumed": self._reserve_consumed,
            "AuditSettled": self._audit_settled,
            "EscalationAttached": self._escalation_attached,
            "Escalated": self._escalated,
            "FixedRatesAgreed": self._fixed_rates_agreed,
            "ReviewClauseAttached": self._review_clause_attached,
            "ReviewOpened": self._review_opened,
            "ReviewDeclined": self._review_declined,
            "ReviewAccepted": self._review_accepted,
        }

    def apply(self, event: ChainEvent) -> None:
        handler = self._handlers.get(event.name)
        if handler is not None:
            handler(event)

    # ------------------------------------------------------------------ registry

    def _registered(self, event: ChainEvent) -> None:
        terms = event.args["terms"]
        licence_id = int(event.args["licenceId"])
        term = terms["term"]
        calendar = term["calendar"]
        row = LicenceRow(
            id=licence_id,
            licensor=terms["licensor"],
            licensee=terms["licensee"],
            arbiter=terms["arbiter"],
            token=terms["token"],
            terms=json.dumps(terms),
            start=int(term["start"]),
            end=int(term["end"]),
            sell_off_days=int(term["sellOffDays"]),
            period_seconds=int(term["periodSeconds"]),
            **calendar_fields(calendar),
            dispute_window=int(terms["disputeWindow"]),
            tax_bps=int(terms["taxBps"]),
            tax_account=terms["taxAccount"] if int(terms["taxBps"]) > 0 else None,
            registered_block=event.block_number,
            registered_tx=event.tx_hash,
            registered_at=event.block_timestamp or 0,
            advance=0,
            advance_left=0,
            deposited=0,
            escrow=0,
            arrears=0,
            royalty_total=0,
            recouped_total=0,
            due_total=0,
            paid_total=0,
            released_total=0,
            tax_total=0,
            tax_withdrawn=0,
            distributed=0,
            escrow_withdrawn=0,
            settlement_count=0,
            scope_breaches=0,
            guarantee_credit="{}",
            credit=0,
            credit_carried_total=0,
            credit_applied_total=0,
        )
        self.session.add(row)
        self._licences[licence_id] = row
        self.session.add(
            ScheduleVersionRow(
                licence_id=licence_id,
                version=0,
                effective_from=int(term["start"]),
                schedule=json.dumps({**terms["schedule"], "effectiveFrom": int(term["start"])}),
                new_end=int(term["end"]),
                previous_end=None,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )
        self._versions[licence_id] = [(0, int(term["start"]))]
        self._payees[licence_id] = []

    def _amended(self, event: ChainEvent) -> None:
        licence_id = int(event.args["licenceId"])
        licence = self._licence(licence_id)
        schedule = event.args["schedule"]
        version = int(event.args["version"])
        licence.end = int(event.args["newEnd"])
        licence.breach_noticed_at = None
        licence.cures_at = None
        self.session.add(
            ScheduleVersionRow(
                licence_id=licence_id,
                version=version,
                effective_from=int(schedule["effectiveFrom"]),
                schedule=json.dumps(schedule),
                new_end=int(event.args["newEnd"]),
                previous_end=int(event.args["previousEnd"]),
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )
        self._version_list(licence_id).append((version, int(schedule["effectiveFrom"])))

    # ------------------------------------------------------------------ escalator

    def _escalation_attached(self, event: ChainEvent) -> None:
        """A clause both parties signed (its schedule versions come as LicenceAmended, one a step)."""
        licence_id = int(event.args["licenceId"])
        self._licence(licence_id)
        clause = Clause.from_abi(event.args["clause"])
        self.session.add(
            EscalationClauseRow(
                licence_id=licence_id,
                index=clause.index,
                successor=clause.successor,
                base_month=clause.base_month,
                targets=clause.targets,
                upward_only=clause.upward_only,
                floor_bps=clause.floor_bps,
                cap_bps=clause.cap_bps,
                rounding=int(clause.rounding),
                round_to=clause.round_to,
                attached_at=event.block_timestamp or 0,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )

    def _escalated(self, event: ChainEvent) -> None:
        """A step: emitted before the registry's LicenceAmended of the version it appends."""
        args = event.args
        licence_id = int(args["licenceId"])
        self._licence(licence_id)
        applied = args["applied"]
        self.session.add(
            EscalationStepRow(
                licence_id=licence_id,
                step=int(args["step"]),
                index=index_text(args["index"]),
                from_month=int(args["fromMonth"]),
                from_value=int(args["fromValue"]),
                to_month=int(args["toMonth"]),
                to_value=int(args["toValue"]),
                numerator=int(applied["numerator"]),
                denominator=int(applied["denominator"]),
                limit=int(applied["limit"]),
                effective_from=int(applied["effectiveFrom"]),
                version=int(applied["version"]),
                stepped_at=event.block_timestamp or 0,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )

    def _fixed_rates_agreed(self, event: ChainEvent) -> None:
        """A table both parties signed (one replacing another of the same start has a later version)."""
        args = event.args
        licence_id = int(args["licenceId"])
        self._licence(licence_id)
        for rate in args["rates"]:
            self.session.add(
                FixedRateRow(
                    licence_id=licence_id,
                    version=int(args["version"]),
                    currency=bytes.fromhex(str(rate["currency"])[2:]).decode("latin-1"),
                    effective_from=int(args["effectiveFrom"]),
                    rate=int(rate["rate"]),
                    agreed_at=event.block_timestamp or 0,
                    block_number=event.block_number,
                    tx_hash=event.tx_hash,
                )
            )

    # ------------------------------------------------------------------ reviews

    def _review_clause_attached(self, event: ChainEvent) -> None:
        licence_id = int(event.args["licenceId"])
        self._licence(licence_id)
        clause = ReviewClause.from_abi(event.args["clause"])
        self.session.add(
            ReviewClauseRow(
                licence_id=licence_id,
                benchmark=clause.benchmark,
                volume_threshold=clause.volume_threshold,
                benchmark_at_signing=clause.benchmark_at_signing,
                review_at=clause.review_at,
                volume_rate_bps=clause.volume_rate_bps,
                move_bps=clause.move_bps,
                attached_at=event.block_timestamp or 0,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )

    def _review_opened(self, event: ChainEvent) -> None:
        licence_id = int(event.args["licenceId"])
        self._licence(licence_id)
        review = Review.from_abi(event.args["review"])
        self.session.add(
            ReviewRow(
                id=int(event.args["reviewId"]),
                licence_id=licence_id,
                kind=review.kind.name.lower(),
                observed=review.observed,
                reference_value=review.reference_value,
                numerator=review.numerator,
                denominator=review.denominator,
                as_of=review.as_of,
                opened_at=review.opened_at,
                current_rate_bps=review.current_rate_bps,
                suggested_rate_bps=review.suggested_rate_bps,
                schedule_from=review.schedule_from,
                status="open",
                block_number=event.block_number,
                tx_hash=event.tx_hash,
            )
        )

    def _review(self, event: ChainEvent) -> ReviewRow:
        review_id = int(event.args["reviewId"])
        self.session.flush()
        row = self.session.get(ReviewRow, review_id)
        if row is None:
            raise ProjectionError(f"{event.name} for review {review_id}, which no ReviewOpened opened")
        return row

    def _review_declined(self, event: ChainEvent) -> None:
        row = self._review(event)
        row.status = "declined"
        row.decided_by = event.args["party"]
        row.decided_at = event.block_timestamp
        row.decided_tx = event.tx_hash

    def _review_accepted(self, event: ChainEvent) -> None:
        row = self._review(event)
        row.status = "accepted"
        row.accepted_version = int(event.args["version"])
        row.new_end = int(event.args["newEnd"])
        row.decided_at = event.block_timestamp
        row.decided_tx = event.tx_hash

    def _breach_noticed(self, event: ChainEvent) -> None:
        licence = self._licence(int(event.args["licenceId"]))
        licence.breach_noticed_at = event.block_timestamp
        licence.cures_at = int(event.args["curesAt"])

    def _terminated(self, event: ChainEvent) -> None:
        licence = self._licence(int(event.args["licenceId"]))
        licence.terminated_at = int(event.args["effectiveAt"])
        licence.terminated_by_consent = bool(event.args["byConsent"])
        licence.breach_noticed_at = None
        licence.cures_at = None

    # ------------------------------------------------------------------ ledger

    def _opened(self, event: ChainEvent) -> None:
        licence_id = int(event.args["licenceId"])
        licence = self._licence(licence_id)
        licence.advance = int(event.args["advance"])
        licence.advance_left = licence.advance
        licence.tax_bps = int(event.args["taxBps"])
        licence.tax_account = event.args["taxAccount"] if licence.tax_bps > 0 else None
        rows = []
        for position, (account, share) in enumerate(zip(event.args["payees"], event.args["sharesBps"], strict=True)):
            row = PayeeRow(licence_id=licence_id, position=position, account=account, share_bps=int(share), withdrawn=0)
            self.session.add(row)
            rows.append(row)
        self._payees[licence_id] = rows

    def _deposited(self, event: ChainEvent) -> None:
        licence = self._licence(int(event.args["licenceId"]))
        licence.deposited += int(event.args["received"])
        licence.escrow += int(event.args["toEscrow"])

    def _settled(self, event: ChainEvent) -> None:
        args = event.args
        licence_id = int(args["licenceId"])
        licence = self._licence(licence_id)
        kind = KINDS.get(int(args["kind"]), "none")
        period = int(args["period"])
        royalty, recouped = int(args["royalty"]), int(args["recouped"])
        due, paid = int(args["due"]), int(args["paid"])
        due_at = int(args["dueAt"])
        version: int | None = None
        year = 0
        rule = licence.rule()
        if kind in ROYALTY_KINDS or kind in ("reserve", "audit_cost"):
            # The advance recouped and the guarantee credit used are only known per contract year:
            # ReportAccepted, which follows in the same transaction, sets them.
            period_start = rule.period_bounds(period)[0]
            year = rule.year_of(period_start)
            version = self._version_at(licence_id, period_start)
        elif kind == "minimum_guarantee":
            year = period
            credits = json.loads(licence.guarantee_credit)
            credits[str(period)] = royalty
            licence.guarantee_credit = json.dumps(credits)
            version = self._version_at(licence_id, rule.year_bounds(period)[0])
        if kind != "advance":
            licence.escrow -= paid
            if kind not in ROYALTY_KINDS:
                licence.advance_left -= recouped
            # A reserve is part of its report's royalty, not a royalty of its own.
            if kind != "reserve":
                licence.royalty_total += royalty
            licence.recouped_total += recouped
            licence.due_total += due
            licence.paid_total += paid
            licence.arrears += due - paid
        licence.settlement_count += 1
        timestamp = event.block_timestamp or 0
        settlement_id = int(args["settlementId"])
        row = SettlementRow(
            id=settlement_id,
            licence_id=licence_id,
            kind=kind,
            period=period,
            royalty=royalty,
            recouped=recouped,
            advance_recouped=0 if kind in ROYALTY_KINDS else recouped,
            guarantee_credit=0,
            due=due,
            due_at_settlement=due,
            paid=paid,
            paid_at_settlement=paid,
            released=0,
            tax=0,
            pending=bool(args["pending"]),
            year=year,
            due_at=due_at,
            reported_late=timestamp > due_at,
            paid_late=paid if timestamp > due_at else 0,
            last_paid_at=timestamp if paid else None,
            interest_charged=0,
            state="held" if kind == "reserve" else ("pending" if args["pending"] else "final"),
            settled_at=timestamp,
            dispute_until=timestamp + (licence.dispute_window if args["pending"] else 0),
            schedule_version=version,
            year_span=0,
            units=0,
            gross=0,
            net_in_scope=0,
            bucket_count=0,
            returned_units=0,
            returned_gross=0,
            returned_net_in_scope=0,
            returned_count=0,
            conversion_count=0,
            credit_carried=0,
            credit_applied=0,
            reserve_held=0,
            reserve_taken=0,
            reserve_consumed=0,
            reserve_refunded=0,
            audit_cost=0,
            scope_breaches=0,
            tx_hash=event.tx_hash,
            block_number=event.block_number,
        )
        self.session.add(row)
        self._settlements[settlement_id] = row

    def _report_accepted(self, event: ChainEvent) -> None:
        """The report's facts and its parts per contract year (signed: returns can exceed sales);
        the guarantee credit it used (per year, as the ledger's _price) and so the advance it
        recouped (what ``recouped`` leaves after that and the licensee's credit applied)."""
        row = self._settlement_of(event)
        licence = self._licence(row.licence_id)
        args = event.args
        row.sequence = int(args["sequence"])
        row.lines_root = args["linesRoot"]
        row.line_count = int(args["lineCount"])
        corrects = int(args["corrects"])
        if corrects:
            row.corrects = corrects
            corrected = self._settlement(corrects)
            assert corrected is not None
            corrected.corrected_by = row.id
        first = int(args["firstYear"])
        tier_net = [int(v) for v in args["tierNet"]]
        royalties = [int(v) for v in args["yearRoyalty"]]
        row.tier_net = sum(tier_net)
        row.priced = sum(royalties)
        row.year = first
        row.year_span = max(len(royalties) - 1, 0)
        credits = json.loads(licence.guarantee_credit)
        credit = 0
        creditable = max(row.priced, 0)  # a guarantee credit covers at most what the report charges
        for offset, (net, royalty) in enumerate(zip(tier_net, royalties, strict=True)):
            year = first + offset
            left = int(credits.get(str(year), 0))
            used = min(royalty, left, creditable) if royalty > 0 else 0
            if used:
                credits[str(year)] = left - used
                credit += used
                creditable -= used
            row_year = SettlementYearRow(
                settlement_id=row.id, year=year, licence_id=row.licence_id, tier_net=net, royalty=royalty,
                units=0, gross=0, net_in_scope=0, bucket_count=0, returned_units=0, returned_gross=0,
                returned_net_in_scope=0,
            )  # fmt: skip
            self.session.add(row_year)
            self._years[(row.id, year)] = row_year
        licence.guarantee_credit = json.dumps(credits)
        row.guarantee_credit = credit
        row.advance_recouped = row.recouped - credit - row.credit_applied - row.reserve_held
        licence.advance_left -= row.advance_recouped

    def _reserve_held(self, event: ChainEvent) -> None:
        """Part of a report's payable royalty held back (its Settled.recouped counted it) as a
        reserve settlement of its own, until ``releaseAt``."""
        args = event.args
        reserve = self._settlement(int(args["reserveId"]))
        report = self._settlement(int(args["settlementId"]))
        assert reserve is not None and report is not None
        amount = int(args["amount"])
        reserve.reserve_of = report.id
        reserve.dispute_until = int(args["releaseAt"])
        report.reserve_id = reserve.id
        report.reserve_held = amount
        self._licence(report.licence_id).recouped_total -= amount

    def _reserve_consumed(self, event: ChainEvent) -> None:
        """A negative period took part of a held reserve back: the paid part went to the
        licensee (its arrears first, in the same transaction, then its escrow)."""
        args = event.args
        reserve = self._settlement(int(args["reserveId"]))
        by = self._settlement(int(args["bySettlementId"]))
        assert reserve is not None and by is not None
        licence = self._licence(reserve.licence_id)
        amount, refunded = int(args["amount"]), int(args["refunded"])
        reserve.due -= amount
        reserve.paid -= refunded
        reserve.reserve_consumed += amount
        reserve.reserve_refunded += refunded
        if int(args["left"]) == 0:
            reserve.state = "final"
        by.reserve_taken += amount
        licence.due_total -= amount
        licence.paid_total -= refunded
        licence.arrears -= amount - refunded
        if refunded:
            self._refunded(licence, event.tx_hash, refunded)

    def _audit_settled(self, event: ChainEvent) -> None:
        """An audit finding's measure against the threshold, and the cost it charged."""
        args = event.args
        row = self._settlement_of(event)
        row.audit_underpayment = int(args["underpayment"])
        row.audit_reported = int(args["reportedRoyalty"])
        row.audit_threshold_bps = int(args["thresholdBps"])
        row.audit_exceeded = bool(args["exceeded"])
        cost_id = int(args["auditCostId"])
        row.audit_cost = int(args["auditCost"])
        if cost_id:
            row.audit_cost_id = cost_id
            cost = self._settlement(cost_id)
            assert cost is not None
            cost.audit_of = row.id

    def _credit_carried(self, event: ChainEvent) -> None:
        """A report priced below zero: the licensee's credit against its next royalties."""
        row = self._settlement_of(event)
        licence = self._licence(row.licence_id)
        amount = int(event.args["amount"])
        row.credit_carried += amount
        licence.credit = int(event.args["creditTotal"])
        licence.credit_carried_total += amount

    def _credit_applied(self, event: ChainEvent) -> None:
        """Part of a royalty paid by the licensee's credit (counted in the settlement's recouped)."""
        row = self._settlement_of(event)
        licence = self._licence(row.licence_id)
        amount = int(event.args["amount"])
        row.credit_applied += amount
        licence.credit = int(event.args["creditLeft"])
        licence.credit_applied_total += amount

    def _return(self, event: ChainEvent) -> None:
        args = event.args
        row = self._settlement_of(event)
        units, gross, deductions = int(args["units"]), int(args["gross"]), int(args["deductions"])
        territory, field, channel = int(args["territory"]), int(args["field"]), int(args["channel"])
        in_scope = self._in_scope(row.licence_id, territory, field, channel)
        self.session.add(
            ReturnRow(
                settlement_id=row.id,
                position=row.returned_count,
                year=int(args["year"]),
                territory=territory,
                field=field,
                channel=channel,
                units=units,
                gross=gross,
                deductions=deductions,
                in_scope=in_scope,
            )
        )
        row.returned_count += 1
        year = self._year_part(row, int(args["year"]))
        for part in (row, year):
            part.returned_units += units
            part.returned_gross += gross
            if in_scope:
                part.returned_net_in_scope += gross - deductions

    def _converted(self, event: ChainEvent) -> None:
        """A conversion of the report's sales in another currency, in the order the report lists
        them; the buckets (BucketReported, ReturnReported) already hold the converted amounts."""
        args = event.args
        row = self._settlement_of(event)
        self.session.add(
            ConversionRow(
                settlement_id=row.id,
                position=row.conversion_count,
                bucket=int(args["bucket"]),
                currency=currency_code(args["currency"]),
                minor_units=int(args["minorUnits"]),
                rate_day=int(args["rateDay"]),
                rate=int(args["rate"]),
                gross=int(args["gross"]),
                deductions=int(args["deductions"]),
                converted_gross=int(args["convertedGross"]),
                converted_deductions=int(args["convertedDeductions"]),
            )
        )
        row.conversion_count += 1

    def _in_scope(self, licence_id: int, territory: int, field: int, channel: int) -> bool:
        """RoyaltyMath.inScope over the licence's registered scope (amendments never change it)."""
        scope = self._scopes.get(licence_id)
        if scope is None:
            value = json.loads(self._licence(licence_id).terms)["scope"]
            scope = Scope(int(value["territories"]), int(value["fields"]), int(value["channels"]))
            self._scopes[licence_id] = scope
        return (
            (scope.territories >> territory) & 1 == 1
            and field < 64
            and (scope.fields >> field) & 1 == 1
            and channel < 32
            and (scope.channels >> channel) & 1 == 1
        )

    def _bucket(self, event: ChainEvent) -> None:
        args = event.args
        row = self._settlement_of(event)
        units, gross, deductions = int(args["units"]), int(args["gross"]), int(args["deductions"])
        self.session.add(
            BucketRow(
                settlement_id=row.id,
                position=row.bucket_count,
                territory=int(args["territory"]),
                field=int(args["field"]),
                channel=int(args["channel"]),
                year=int(args["year"]),
                units=units,
                gross=gross,
                deductions=deductions,
                in_scope=bool(args["inScope"]),
            )
        )
        year = self._year_part(row, int(args["year"]))
        for part in (row, year):
            part.bucket_count += 1
            part.units += units
            part.gross += gross
            if args["inScope"]:
                part.net_in_scope += gross - deductions

    def _year_part(self, row: SettlementRow, year: int) -> SettlementYearRow:
        part = self._years.get((row.id, year)) or self.session.get(SettlementYearRow, (row.id, year))
        if part is None:  # the ledger refuses a bucket outside its period's years: never for a real chain
            raise ProjectionError(f"settlement {row.id} has a bucket of contract year {year}, outside its period")
        self._years[(row.id, year)] = part
        return part

    def _interest_charged(self, event: ChainEvent) -> None:
        """Interest settlement ``settlementId`` (its Settled came first) is on ``onSettlementId``."""
        row = self._settlement_of(event)
        args = event.args
        on = self._settlement(int(args["onSettlementId"]))
        assert on is not None
        row.interest_on = on.id
        row.interest_principal = int(args["principal"])
        row.interest_from = int(args["from"])
        row.interest_to = int(args["to"])
        row.interest_rate_bps = int(args["rateBps"])
        row.year = on.year
        on.interest_charged += int(args["interest"])

    def _scope_breached(self, event: ChainEvent) -> None:
        row = self._settlement_of(event)
        row.scope_breaches += 1
        self._licence(row.licence_id).scope_breaches += 1

    def _arrears_paid(self, event: ChainEvent) -> None:
        row = self._settlement_of(event)
        amount = int(event.args["amount"])
        licence = self._licence(row.licence_id)
        row.paid += amount
        row.last_paid_at = event.block_timestamp
        if (event.block_timestamp or 0) > row.due_at:
            row.paid_late += amount
        licence.paid_total += amount
        licence.arrears -= amount
        refund = self._refund_credit.get(row.licence_id)
        if refund is not None and refund[0] == event.tx_hash and refund[1] > 0:
            used = min(amount, refund[1])
            licence.escrow -= used
            self._refund_credit[row.licence_id] = (refund[0], refund[1] - used)

    def _released(self, event: ChainEvent) -> None:
        row = self._settlement_of(event)
        licence = self._licence(row.licence_id)
        amount, tax = int(event.args["amount"]), int(event.args["tax"])
        after = int(event.args["distributedTotal"])
        self.session.add(
            ReleaseRow(
                block_number=event.block_number,
                log_index=event.log_index,
                settlement_id=row.id,
                licence_id=row.licence_id,
                amount=amount,
                tax=tax,
                distributed_before=licence.distributed,
                distributed_after=after,
                tx_hash=event.tx_hash,
            )
        )
        row.released += amount
        row.tax += tax
        if row.state in ("pending", "held"):
            row.state = "final"  # releaseMatured: the window passed undisputed, or the reserve's time came
        licence.distributed = after
        licence.released_total += amount
        licence.tax_total += tax

    def _disputed(self, event: ChainEvent) -> None:
        row = self._settlement_of(event)
        row.state = "disputed"
        row.disputed_by = event.args["by"]
        row.disputed_at = event.block_timestamp
        row.disputed_tx = event.tx_hash

    def _resolved(self, event: ChainEvent) -> None:
        row = self._settlement_of(event)
        licence = self._licence(row.licence_id)
        final, refunded = int(event.args["finalAmount"]), int(event.args["refunded"])
        outstanding_before = row.due - row.paid
        reduction = row.due - final
        row.paid -= refunded
        licence.paid_total -= refunded
        licence.due_total -= reduction
        row.due = final
        licence.arrears -= outstanding_before - (final - row.paid)
        row.state = "final"
        row.resolved_amount = final
        row.refunded = refunded
        row.resolved_by_arbiter = bool(event.args["byArbiter"])
        row.resolved_at = event.block_timestamp
        if row.kind == "minimum_guarantee":
            credits = json.loads(licence.guarantee_credit)
            current = int(credits.get(str(row.period), 0))
            credits[str(row.period)] = current - min(reduction, current)
            licence.guarantee_credit = json.dumps(credits)
        if refunded:
            self._refunded(licence, event.tx_hash, refunded)

    def _refunded(self, licence: LicenceRow, tx_hash: str, amount: int) -> None:
        """Money returned to the licensee (LedgerCore._refund): escrow, except what the ArrearsPaid
        events of the same transaction show it paid (see ``_arrears_paid``)."""
        licence.escrow += amount
        earlier = self._refund_credit.get(licence.id)
        carried = earlier[1] if earlier is not None and earlier[0] == tx_hash else 0
        self._refund_credit[licence.id] = (tx_hash, carried + amount)

    def _withdrawn(self, event: ChainEvent) -> None:
        licence_id = int(event.args["licenceId"])
        amount = int(event.args["amount"])
        if event.args["tax"]:
            self._licence(licence_id).tax_withdrawn += amount
            return
        for payee in self._payee_rows(licence_id):
            if payee.account == event.args["account"]:
                payee.withdrawn += amount
                return
        raise ProjectionError(f"Withdrawn for {event.args['account']}, not a payee of licence {licence_id}")

    def _distributed(self, event: ChainEvent) -> None:
        """A distribution's payments, one per payee in the order of the licence's list (the
        LicenceOpened order, ``position``); a failed transfer is 0 there and stays claimable."""
        licence_id = int(event.args["licenceId"])
        rows = self._payee_rows(licence_id)
        paid_each = [int(amount) for amount in event.args["paidEach"]]
        if len(paid_each) != len(rows):
            raise ProjectionError(f"Distributed pays {len(paid_each)} payees, licence {licence_id} has {len(rows)}")
        for row, amount in zip(rows, paid_each, strict=True):
            row.withdrawn += amount

    def _escrow_withdrawn(self, event: ChainEvent) -> None:
        licence = self._licence(int(event.args["licenceId"]))
        amount = int(event.args["amount"])
        licence.escrow -= amount
        licence.escrow_withdrawn += amount

    def _arrears_cleared(self, event: ChainEvent) -> None:
        self._licence(int(event.args["licenceId"])).arrears_cleared_at = int(event.args["at"])
