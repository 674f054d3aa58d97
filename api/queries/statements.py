"""Statements: a licence's contract year, period by period, as JSON rows and CSV."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import InvalidInput
from api.indexer.models import (
    BucketRow,
    ConversionRow,
    FixedRateRow,
    LicenceRow,
    PayeeRow,
    ScheduleVersionRow,
    SettlementRow,
    SettlementYearRow,
)
from api.money import exact_decimal
from api.queries.common import chain_now, effective_end, get_licence_row, payees_of, token_out
from api.queries.components import NONE, Components, settlement_components
from api.queries.escalation import steps_out
from api.queries.periods import period_fields, period_state, report_late, sell_off_end, year_fields
from api.queries.settlements import interest_targets, parts_by_settlement, period_of_settlement
from api.schemas import (
    CurrencyTotal,
    PayeePart,
    Statement,
    StatementConversion,
    StatementRow,
    StatementScheduleVersion,
)
from intake.fx import RATE_DECIMALS, FxRule, period_rate_days
from royalty_chain.calendar import LicenceCalendar, iso_date
from royalty_chain.events import schedule_from_event
from royalty_chain.fx import rule_name
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY
from royalty_chain.units import format_amount

SPLIT_RULE = (
    "a period crossing the contract year's end shows each year's sales, returns and royalty (the chain's "
    "per-year figures, signed: a year whose returns exceed its sales is below zero); its recouped, credit "
    "applied, due, paid, arrears, tax and payee parts are divided in proportion to each year's royalty above "
    "zero, and a credit carried in proportion to each year's royalty below zero, rounded down, the remainder "
    "to the period's first year (where the ledger files the settlement). An adjustment has a row of its own "
    "after the period's report, with the difference it makes. Each report and adjustment row shows its "
    "royalty by component: the fixed fee (in an original report's first contract year; never in an "
    "adjustment), the per-unit amount (in-scope units sold minus returned, of that year) and the percentage "
    "part (base rate or tiers and per-field rates: the year's royalty minus the other two, so it includes "
    "the rounding of the percentage numerator)"
)


def statement(session: Session, manifest: Manifest, licence_id: int, year: int) -> Statement:
    licence = get_licence_row(session, licence_id)
    rule = licence.rule()
    end = effective_end(licence)
    last_second = sell_off_end(licence)
    year_start, year_end, _ = rule.year_bounds(year)
    if year_start >= last_second:
        raise InvalidInput.field("year", f"contract year {year} starts after the licence's term and sell-off")
    now = chain_now(session)
    payees = payees_of(session, licence_id)
    first = rule.period_of(year_start)
    last = rule.period_of(min(year_end, last_second) - 1)
    chains: dict[int, list[SettlementRow]] = defaultdict(list)  # original, then adjustments in order
    for s in session.scalars(
        select(SettlementRow)
        .where(
            SettlementRow.licence_id == licence_id,
            SettlementRow.kind.in_(("report", "adjustment", "audit")),
            SettlementRow.period >= first,
            SettlementRow.period <= last,
        )
        .order_by(SettlementRow.id)
    ):
        chains[s.period].append(s)
    reports = {p: chain[0] for p, chain in chains.items()}
    chained = [s for chain in chains.values() for s in chain]
    years: dict[int, list[SettlementYearRow]] = defaultdict(list)
    for part in session.scalars(
        select(SettlementYearRow)
        .where(SettlementYearRow.settlement_id.in_([s.id for s in chained]))
        .order_by(SettlementYearRow.year)
    ):
        years[part.settlement_id].append(part)
    others = list(
        session.scalars(
            select(SettlementRow)
            .where(
                SettlementRow.licence_id == licence_id,
                SettlementRow.kind.in_(("minimum_guarantee", "interest", "reserve", "audit_cost")),
                SettlementRow.year == year,
            )
            .order_by(SettlementRow.id)
        )
    )
    guarantees = [g for g in others if g.kind == "minimum_guarantee" and g.period == year]
    interests = [i for i in others if i.kind == "interest"]
    reserves: dict[int, list[SettlementRow]] = defaultdict(list)  # by period
    for r in others:
        if r.kind == "reserve":
            reserves[r.period].append(r)
    costs = [c for c in others if c.kind == "audit_cost"]
    ids = [s.id for s in chained] + [g.id for g in guarantees] + [i.id for i in interests]
    ids += [r.id for held in reserves.values() for r in held] + [c.id for c in costs]
    parts = parts_by_settlement(session, ids, {licence_id: payees})
    components = settlement_components(session, chained)
    versions = list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id)
            .order_by(ScheduleVersionRow.version)
        )
    )
    rows: list[StatementRow] = []
    # Very short periods would make a year of empty rows: then list only the settled ones.
    periods = range(first, last + 1) if last - first < 1_000 else sorted(reports)
    for p in periods:
        dates = period_fields(rule, p)
        chain: list[SettlementRow | None] = list(chains.get(p, [])) or [None]
        for report in chain:
            priced = components.get(report.id, {}) if report is not None else {}
            row = _report_row(p, dates, report, years, priced.get(year, NONE), year, payees, parts, now)
            if report is None:  # not reported yet: the version that will price it
                row.schedule_version = _version_at(versions, dates["period_start"])
            rows.append(row)
        for r in reserves.get(p, []):
            rows.append(_reserve_row(r, dates, payees, parts))
    for g in guarantees:
        rows.append(_settlement_row(g, year_fields(rule, year, end), payees, parts, now))
    targets = interest_targets(session, interests)
    for i in interests:
        dates = period_of_settlement(i, licence, targets.get(i.interest_on or 0))
        rows.append(_settlement_row(i, dates, payees, parts, now))
    for c in costs:
        rows.append(_settlement_row(c, period_fields(rule, c.period), payees, parts, now))
    return Statement(
        licence_id=licence_id,
        year=year,
        year_name=rule.year_name(year),
        year_start=year_start,
        year_end=year_end,
        year_last_day=iso_date(year_end - 1),
        year_days=-(-(year_end - year_start) // DAY),
        due_at=rule.year_due_at(year),
        split_rule=SPLIT_RULE,
        token=token_out(manifest, licence.token),
        minimum_guarantee=_guarantee_at(session, licence_id, year_start),
        rows=rows,
        totals=_totals(rows, payees, year_start, year_end),
        **_conversions(session, licence, rule, chained),
        schedule_versions=_schedule_versions(session, manifest, licence, versions, rows),
    )


def _version_at(versions: list[ScheduleVersionRow], timestamp: int) -> int | None:
    """The schedule version in force at ``timestamp`` (the registry's scheduleAt)."""
    chosen = [v.version for v in versions[1:] if v.effective_from <= timestamp]
    return chosen[-1] if chosen else (versions[0].version if versions else None)


def _schedule_versions(
    session: Session, manifest: Manifest, licence: LicenceRow, versions: list[ScheduleVersionRow],
    rows: list[StatementRow],
) -> list[StatementScheduleVersion]:  # fmt: skip
    """The versions that priced the year's rows, each with where it came from: registration, an
    amendment both parties signed, or an escalation step (its index values and computation)."""
    used: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.schedule_version is not None:
            periods = used[row.schedule_version]
            if row.kind in ("report", "adjustment", "audit") and row.period not in periods:
                periods.append(row.period)
    if not used:
        return []
    steps = steps_out(session, licence.id, token_out(manifest, licence.token).decimals or 0)
    return [
        StatementScheduleVersion(
            version=v.version,
            effective_from=v.effective_from,
            effective_date=iso_date(v.effective_from),
            source="registration" if v.version == 0 else "escalation" if v.version in steps else "amendment",
            periods=used[v.version],
            step=steps.get(v.version),
        )
        for v in versions
        if v.version in used
    ]


@dataclass(frozen=True)
class _AgreedTable:
    """A table of fixed rates as the statement names it: its version, start and day of agreement."""

    version: int
    effective_from: int
    agreed_at: int


def _fixed_tables(session: Session, licence_id: int) -> list[_AgreedTable]:
    rows = session.execute(
        select(FixedRateRow.version, FixedRateRow.effective_from, func.min(FixedRateRow.agreed_at))
        .where(FixedRateRow.licence_id == licence_id)
        .group_by(FixedRateRow.version, FixedRateRow.effective_from)
    ).all()
    return [_AgreedTable(int(v), int(start), int(agreed)) for v, start, agreed in rows]


def _table_at(tables: list[_AgreedTable], at: int) -> _AgreedTable | None:
    """The table in force at ``at`` (a period's start), as LicenceFx.rateOf finds it: the latest
    version among those in force from then or before."""
    return max((t for t in tables if t.effective_from <= at), key=lambda t: t.version, default=None)


def _conversions(
    session: Session, licence: LicenceRow, rule: LicenceCalendar, reports: list[SettlementRow]
) -> dict[str, Any]:
    """The statement's sales in other currencies: each report's conversions, as the ledger emitted
    them, with the rate's source, rule and day; then each currency's sums."""
    by_id = {s.id: s for s in reports}
    rows = session.scalars(
        select(ConversionRow)
        .where(ConversionRow.settlement_id.in_(list(by_id)))
        .order_by(ConversionRow.settlement_id, ConversionRow.position)
    ).all()
    if not rows:
        return {"conversions": [], "currency_totals": []}
    buckets = dict(
        session.execute(
            select(BucketRow.settlement_id, func.count())
            .where(BucketRow.settlement_id.in_({c.settlement_id for c in rows}))
            .group_by(BucketRow.settlement_id)
        ).all()
    )
    source, rule_name_ = licence.fx_source, rule_name(licence.fx_rule)
    tables = _fixed_tables(session, licence.id) if rule_name_ == FxRule.FIXED else []
    out: list[StatementConversion] = []
    totals: dict[str, list[int]] = {}
    for c in rows:
        s = by_id[c.settlement_id]
        table = _table_at(tables, rule.period_bounds(s.period)[0]) if tables else None
        if rule_name_ == FxRule.PERIOD_AVERAGE:  # the period it averages: its first and last rate day
            first, after = period_rate_days(*rule.period_bounds(s.period))
            rate_dates = f"{first.isoformat()}..{(after - timedelta(days=1)).isoformat()}"
        else:
            rate_dates = iso_date(c.rate_day)
        out.append(
            StatementConversion(
                period=s.period, period_name=rule.period_name(s.period), settlement_id=s.id, kind=s.kind,
                returned=c.bucket >= buckets.get(s.id, 0), currency=c.currency, minor_units=c.minor_units,
                gross=c.gross, deductions=c.deductions, rate=format_amount(c.rate, RATE_DECIMALS),
                rate_source=source, rate_rule=rule_name_, rate_date=iso_date(c.rate_day), rate_dates=rate_dates,
                rate_table=table.version if table is not None else None,
                rate_table_agreed=iso_date(table.agreed_at) if table is not None else None,
                converted_gross=c.converted_gross, converted_deductions=c.converted_deductions,
            )
        )  # fmt: skip
        if c.bucket < buckets.get(s.id, 0):  # sales; returns are shown but not summed as sales
            t = totals.setdefault(c.currency, [c.minor_units, 0, 0, 0, 0])
            t[1] += c.gross
            t[2] += c.deductions
            t[3] += c.converted_gross
            t[4] += c.converted_deductions
    currency_totals = [
        CurrencyTotal(currency=code, minor_units=t[0], gross=t[1], deductions=t[2], converted_gross=t[3],
                      converted_deductions=t[4])
        for code, t in sorted(totals.items())
    ]  # fmt: skip
    return {"conversions": out, "currency_totals": currency_totals}


def _guarantee_at(session: Session, licence_id: int, timestamp: int) -> int:
    versions = list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id, ScheduleVersionRow.effective_from <= timestamp)
            .order_by(ScheduleVersionRow.version)
        )
    ) or list(
        session.scalars(
            select(ScheduleVersionRow).where(
                ScheduleVersionRow.licence_id == licence_id, ScheduleVersionRow.version == 0
            )
        )
    )
    return schedule_from_event(json.loads(versions[-1].schedule)).minimum_guarantee if versions else 0


def year_split(amount: int, weights: dict[int, int], first: int, year: int) -> int:
    """The part of a settlement's ``amount`` that belongs to contract year ``year`` (SPLIT_RULE):
    in proportion to each year's weight above zero, the remainder to ``first``."""
    positive = {y: w for y, w in weights.items() if w > 0}
    total = sum(positive.values())
    if total == 0 or len(weights) == 1:
        return amount if year == first else 0
    if year != first:
        return amount * positive.get(year, 0) // total
    return amount - sum(amount * w // total for y, w in positive.items() if y != first)


def _report_row(
    period: int,
    dates: dict[str, Any],
    s: SettlementRow | None,
    years: dict[int, list[SettlementYearRow]],
    components: Components,
    year: int,
    payees: list[PayeeRow],
    parts: dict[int, tuple[list[int], list[PayeeRow]]],
    now: int,
) -> StatementRow:
    """A period's row: its sales and royalty of ``year`` (``components``: by component), and that
    year's part of its money."""
    end = dates["period_end"]
    if s is None:
        return _row(period, dates, None, "report", period_state(None, end, now),
                    report_late(None, dates["due_at"], now), payees)  # fmt: skip
    mine = next((y for y in years[s.id] if y.year == year), None)
    royalties = {y.year: y.royalty for y in years[s.id]} or {s.year: s.royalty}

    def share(amount: int) -> int:
        return year_split(amount, royalties, s.year, year)

    amounts = parts.get(s.id, ([0] * len(payees), payees))[0]
    adjustment = s.kind in ("adjustment", "audit")
    net, returned = (mine.net_in_scope, mine.returned_net_in_scope) if mine else (0, 0)
    nil = s.bucket_count == 0 and s.returned_count == 0
    return StatementRow(
        period=period,
        **{**dates, "due_at": s.due_at if adjustment else dates["due_at"]},
        due_date=iso_date(s.due_at if adjustment else dates["due_at"]),
        late=report_late(s, s.due_at if adjustment else dates["due_at"], now),
        settlement_id=s.id,
        corrects=s.corrects,
        kind=s.kind,
        state=period_state(s, end, now) if nil and not adjustment else s.state,
        units=mine.units if mine else 0,
        gross=mine.gross if mine else 0,
        net_in_scope=net,
        returned_units=mine.returned_units if mine else 0,
        returned_gross=mine.returned_gross if mine else 0,
        returned_net_in_scope=returned,
        net=net - returned,
        period_royalty=s.royalty,
        # The chain's figure for this year: the year's royalty, or an adjustment's difference.
        royalty=mine.royalty if mine else (s.royalty - s.credit_carried if year == s.year else 0),
        royalty_fixed_fee=components.fixed_fee,
        royalty_per_unit=components.per_unit,
        royalty_percentage=components.percentage,
        credit_carried=year_split(s.credit_carried, {y: -r for y, r in royalties.items()}, s.year, year),
        credit_applied=share(s.credit_applied),
        # Settled.recouped counts the reserve held back too: shown apart.
        recouped=share(s.recouped - s.reserve_held),
        reserve_held=share(s.reserve_held),
        reserve_consumed=share(s.reserve_taken),
        audit_underpayment=s.audit_underpayment,
        audit_reported=s.audit_reported,
        audit_threshold_bps=s.audit_threshold_bps,
        audit_exceeded=s.audit_exceeded,
        audit_cost=s.audit_cost,
        schedule_version=s.schedule_version,
        due=share(s.due),
        paid=share(s.paid),
        arrears=share(s.due - s.paid),
        tax_withheld=share(s.tax),
        payee_parts=[
            PayeePart(account=p.account, share_bps=p.share_bps, amount=share(a))
            for p, a in zip(payees, amounts, strict=True)
        ],
    )


def _parts(payees: list[PayeeRow], amounts: list[int]) -> list[PayeePart]:
    return [PayeePart(account=p.account, share_bps=p.share_bps, amount=a) for p, a in zip(payees, amounts, strict=True)]


def _reserve_row(
    s: SettlementRow,
    dates: dict[str, Any],
    payees: list[PayeeRow],
    parts: dict[int, tuple[list[int], list[PayeeRow]]],
) -> StatementRow:
    """A reserve held back from a period's report: held until its release time, then released
    to the payees, or consumed (wholly or in part) by a later negative period."""
    amounts = parts.get(s.id, ([0] * len(payees), payees))[0]
    return StatementRow(
        period=s.period,
        **{**dates, "due_at": s.due_at},
        due_date=iso_date(s.due_at),
        late=s.paid_late > 0,
        settlement_id=s.id,
        on_settlement_id=s.reserve_of,
        kind="reserve",
        state=s.state,
        units=0,
        gross=0,
        net_in_scope=0,
        period_royalty=0,
        royalty=0,
        recouped=0,
        due=s.due,
        paid=s.paid,
        arrears=s.due - s.paid,
        tax_withheld=s.tax,
        reserve_held=s.due if s.state == "held" else 0,
        reserve_released=s.released,
        reserve_consumed=s.reserve_consumed,
        reserve_refunded=s.reserve_refunded,
        release_at=s.dispute_until,
        release_date=iso_date(s.dispute_until),
        payee_parts=_parts(payees, amounts),
    )


def _settlement_row(
    s: SettlementRow,
    dates: dict[str, Any],
    payees: list[PayeeRow],
    parts: dict[int, tuple[list[int], list[PayeeRow]]],
    now: int,
) -> StatementRow:
    """A guarantee's or an interest charge's row: the whole settlement, filed in its year."""
    amounts = parts.get(s.id, ([0] * len(payees), payees))[0]
    overdue = s.kind == "minimum_guarantee" and s.due > s.paid and now > s.due_at
    return StatementRow(
        period=s.period,
        **{**dates, "due_at": s.due_at},
        due_date=iso_date(s.due_at),
        late=s.reported_late or s.paid_late > 0 or overdue,
        settlement_id=s.id,
        on_settlement_id=s.interest_on if s.kind == "interest" else s.audit_of,
        audit_cost=s.royalty if s.kind == "audit_cost" else 0,
        interest_days=None if s.interest_from is None else ((s.interest_to or 0) - s.interest_from) // DAY,
        interest_rate_bps=s.interest_rate_bps,
        interest_principal=s.interest_principal,
        kind=s.kind,
        state=s.state,
        schedule_version=s.schedule_version,
        units=0,
        gross=0,
        net_in_scope=0,
        period_royalty=s.royalty,
        royalty=s.royalty,
        recouped=s.recouped,
        due=s.due,
        paid=s.paid,
        arrears=s.due - s.paid,
        tax_withheld=s.tax,
        payee_parts=_parts(payees, amounts),
    )


def _row(
    period: int, dates: dict[str, Any], settlement_id: int | None, kind: str, state: str, late: bool,
    payees: list[PayeeRow],
) -> StatementRow:  # fmt: skip
    """A row without money: a period not reported yet."""
    return StatementRow(
        period=period,
        **dates,
        due_date=None if dates["due_at"] is None else iso_date(dates["due_at"]),
        late=late,
        settlement_id=settlement_id,
        kind=kind,
        state=state,
        units=0,
        gross=0,
        net_in_scope=0,
        period_royalty=0,
        royalty=0,
        royalty_fixed_fee=0,
        royalty_per_unit=0,
        royalty_percentage=0,
        recouped=0,
        due=0,
        paid=0,
        arrears=0,
        tax_withheld=0,
        payee_parts=_parts(payees, [0] * len(payees)),
    )


_MONEY = ("units", "gross", "net_in_scope", "returned_units", "returned_gross", "returned_net_in_scope", "net",
          "period_royalty", "royalty", "credit_carried", "credit_applied", "recouped", "due", "paid", "arrears",
          "tax_withheld", "reserve_released", "reserve_refunded")  # fmt: skip


def _totals(rows: list[StatementRow], payees: list[PayeeRow], start: int, end: int) -> StatementRow:
    def total(name: str) -> int:
        return sum(int(getattr(r, name)) for r in rows)

    def priced(name: str) -> int:
        return sum(int(v) for r in rows if (v := getattr(r, name)) is not None)

    parts = [sum(r.payee_parts[i].amount for r in rows) for i in range(len(payees))]
    sums: dict[str, Any] = {n: total(n) for n in _MONEY if n != "period_royalty"}
    sums.update({n: priced(n) for n in NONE.fields()})
    return StatementRow(
        period=-1,
        period_name="total",
        period_start=start,
        period_end=end,
        period_last_day=iso_date(end - 1),
        due_at=None,
        due_date=None,
        late=any(r.late for r in rows),
        settlement_id=None,
        kind="total",
        state="",
        **sums,
        period_royalty=total("royalty"),
        # Held back by the year's reports (a reserve row shows what is still held of it), taken
        # back from the reserves (on their rows), and the audit costs charged (their own rows).
        reserve_held=sum(r.reserve_held for r in rows if r.kind in ("report", "adjustment")),
        reserve_consumed=sum(r.reserve_consumed for r in rows if r.kind == "reserve"),
        audit_cost=sum(r.audit_cost for r in rows if r.kind == "audit_cost"),
        payee_parts=_parts(payees, parts),
    )


STATEMENT_COLUMNS = (
    "period", "period_name", "period_start", "period_end", "period_last_day", "due_at", "due_date", "late",
    "settlement_id", "kind", "state", "units", "gross", "net_in_scope", "period_royalty", "royalty", "recouped",
    "due", "paid", "arrears", "tax_withheld", "on_settlement_id", "interest_principal", "interest_days",
    "interest_rate_bps", "corrects", "returned_units", "returned_gross", "returned_net_in_scope", "net",
    "credit_carried", "credit_applied", "royalty_fixed_fee", "royalty_per_unit", "royalty_percentage",
    "reserve_held", "reserve_released", "reserve_consumed", "reserve_refunded", "release_date", "audit_underpayment",
    "audit_reported", "audit_threshold_bps", "audit_exceeded", "audit_cost", "schedule_version",
)  # fmt: skip


# The CSV's section of sales in other currencies (docs/currencies.md, "The statement"): after the
# rows and their total, a blank line, this header, then one "conversion" row per conversion of
# the JSON statement's ``conversions`` and one "currency_total" row per ``currency_totals``.
CONVERSION_COLUMNS = (
    "section", "period", "period_name", "settlement_id", "kind", "returned", "currency", "minor_units", "gross",
    "deductions", "gross_minor_units", "deductions_minor_units", "rate", "rate_source", "rate_rule", "rate_date",
    "rate_dates", "converted_gross", "converted_deductions", "rate_table", "rate_table_agreed",
)  # fmt: skip


def statement_csv_rows(result: Statement) -> Iterable[list[str]]:
    """The statement as CSV rows: the header, each row and the total (``STATEMENT_COLUMNS`` and
    one column per payee), then, for a statement with sales in other currencies only, a blank
    line and the conversions' section (``CONVERSION_COLUMNS``): a statement without any is the
    same table as before conversions existed."""
    payees = [p.account for p in result.totals.payee_parts]
    yield [*STATEMENT_COLUMNS, *(f"payee:{a}" for a in payees)]
    for row in [*result.rows, result.totals]:
        values = row.model_dump(mode="json")
        yield [_cell(values[c]) for c in STATEMENT_COLUMNS] + [p["amount"] for p in values["payee_parts"]]
    if not result.conversions:
        return
    yield []
    yield list(CONVERSION_COLUMNS)
    for c in result.conversions:
        yield [
            "conversion", str(c.period), c.period_name, str(c.settlement_id), c.kind, _cell(c.returned), c.currency,
            str(c.minor_units), exact_decimal(int(c.gross), c.minor_units),
            exact_decimal(int(c.deductions), c.minor_units), str(c.gross), str(c.deductions), c.rate, c.rate_source,
            c.rate_rule, c.rate_date, c.rate_dates, str(c.converted_gross), str(c.converted_deductions),
            _cell(c.rate_table), _cell(c.rate_table_agreed),
        ]  # fmt: skip
    for t in result.currency_totals:
        yield [
            "currency_total", "", "total", "", "", "no", t.currency, str(t.minor_units),
            exact_decimal(int(t.gross), t.minor_units), exact_decimal(int(t.deductions), t.minor_units), str(t.gross),
            str(t.deductions), "", "", "", "", "", str(t.converted_gross), str(t.converted_deductions), "", "",
        ]  # fmt: skip


# ------------------------------------------------------------------ parties


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
