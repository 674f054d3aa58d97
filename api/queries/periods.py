"""A licence's calendar as the API shows it: period and contract-year names, exact dates, due
dates and the rule in words. Every date comes from ``royalty_chain.calendar.LicenceCalendar``
(the mirror of the chain's LicenceCalendar), never from ``start + n * length``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.indexer.models import LicenceRow, SettlementRow
from api.inputs import contract_year_start, fx_doc, period_rule
from api.queries.common import chain_now, effective_end, get_licence_row
from api.schemas import CalendarOut, FxClauseOut, PeriodHistory, PeriodHistoryEntry, PeriodOut, PeriodPage
from royalty_chain.calendar import MONTH_NAMES, LicenceCalendar, date_of, iso_date
from royalty_chain.terms import DAY

# Very short fixed periods would make a term of millions of rows: pages list at most this many.
MAX_PERIODS_PAGE = 500
_GRID_WORDS = {1: ("calendar months", "month"), 3: ("calendar quarters", "quarter"),
               6: ("calendar half-years", "half-year"), 12: ("calendar years", "year")}  # fmt: skip


def sell_off_end(licence: LicenceRow) -> int:
    return effective_end(licence) + licence.sell_off_days * DAY


def period_fields(rule: LicenceCalendar, period: int) -> dict[str, Any]:
    """Name, first second, first second after (exclusive), last day and due date of a period."""
    start, end = rule.period_bounds(period)
    return {
        "period_name": rule.period_name(period),
        "period_start": start,
        "period_end": end,
        "period_last_day": iso_date(end - 1),
        "due_at": rule.period_due_at(period),
    }


def year_fields(rule: LicenceCalendar, year: int, cut_at: int | None = None) -> dict[str, Any]:
    """A contract year as a period (a guarantee's): its bounds cut at ``cut_at`` (the term's end)."""
    start, end, _ = rule.year_bounds(year)
    if cut_at is not None and start < cut_at < end:
        end = cut_at
    return {
        "period_name": f"contract year {year} ({rule.year_name(year)})",
        "period_start": start,
        "period_end": end,
        "period_last_day": iso_date(end - 1),
        "due_at": rule.year_due_at(year),
    }


def _day_month(month: int, day: int) -> str:
    return f"{day} {MONTH_NAMES[month - 1]}"


def calendar_words(rule: LicenceCalendar) -> str:
    """e.g. "calendar quarters; contract years from 1 January; reports due 30 days after each
    quarter; late interest 12%/year"."""
    if rule.period_months == 0:
        seconds = rule.period_seconds
        length = f"{seconds // DAY} days" if seconds % DAY == 0 else f"{seconds} seconds"
        periods, each = f"periods of {length} from the start", "period"
    elif rule.anniversary:
        y, m, d = date_of(rule.start)
        months = "month" if rule.period_months == 1 else f"{rule.period_months} months"
        periods, each = f"periods of {months} from {_day_month(m, d)} {y}", "period"
    elif rule.period_months in _GRID_WORDS:
        periods, each = _GRID_WORDS[rule.period_months]
    else:
        periods, each = f"calendar periods of {rule.period_months} months from 1 January", "period"
    if rule.year_month == 0:
        _, m, d = date_of(rule.start)
        years = f"contract years from the start date ({_day_month(m, d)})"
    else:
        years = f"contract years from {_day_month(rule.year_month, rule.year_day)}"
    days = "1 day" if rule.due_days == 1 else f"{rule.due_days} days"
    parts = [periods, years, f"reports due {days} after each {each}"]
    if rule.interest_bps:
        parts.append(f"late interest {_percent(rule.interest_bps)}%/year")
    else:
        parts.append("no late interest")
    if rule.reserve_bps:
        each = "period" if rule.reserve_periods == 1 else f"{rule.reserve_periods} periods"
        parts.append(f"{_percent(rule.reserve_bps)}% reserve against returns for {each}")
    fx = fx_doc(rule)
    if fx is not None:
        parts.append(f"sales in other currencies converted at {fx['source']} {_FX_WORDS.get(fx['rule'], fx['rule'])}")
    return "; ".join(parts)


_FX_WORDS = {
    "period-average": "rates averaged over the period",
    "period-end": "last rates published in the period",
    "sale-date": "rates of the sale date",
}


def _percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return f"{whole}" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def calendar_out(rule: LicenceCalendar) -> CalendarOut:
    return CalendarOut(
        period=period_rule(rule),
        period_months=rule.period_months,
        anniversary=rule.anniversary,
        period_seconds=rule.period_seconds or None,
        contract_year_start=contract_year_start(rule),
        due_days=rule.due_days,
        late_interest_bps=rule.interest_bps,
        reserve_bps=rule.reserve_bps,
        reserve_periods=rule.reserve_periods,
        audit_threshold_bps=rule.audit_threshold_bps,
        fx=None if (fx := fx_doc(rule)) is None else FxClauseOut(**fx),
        words=calendar_words(rule),
    )


def last_period(licence: LicenceRow, rule: LicenceCalendar) -> int:
    """The last period of the term and its sell-off (the one holding the sell-off's last second)."""
    return rule.period_of(max(sell_off_end(licence), licence.start + 1) - 1)


PeriodState = Literal["reported", "nil report", "not reported", "open"]


def period_state(settlement: SettlementRow | None, end: int, now: int) -> PeriodState:
    """ "reported" (settled with sales), "nil report" (settled without sales), "not reported"
    (ended without a report) or "open" (not ended)."""
    if settlement is not None:
        return "nil report" if settlement.bucket_count == 0 and settlement.returned_count == 0 else "reported"
    return "not reported" if end <= now else "open"


def report_late(settlement: SettlementRow | None, due_at: int, now: int) -> bool:
    """Reported or paid after the due date, or still unreported or unpaid after it."""
    if settlement is None:
        return now > due_at
    return settlement.reported_late or settlement.paid_late > 0 or (settlement.due > settlement.paid and now > due_at)


def period_chains(session: Session, licence_id: int, periods: Sequence[int]) -> dict[int, list[SettlementRow]]:
    """Each period's chain of reports: its original, then its adjustments in the order they settled
    (each corrects the one before it, so settlement id order is chain order)."""
    chains: dict[int, list[SettlementRow]] = {}
    for s in session.scalars(
        select(SettlementRow)
        .where(
            SettlementRow.licence_id == licence_id,
            SettlementRow.kind.in_(("report", "adjustment", "audit")),
            SettlementRow.period.in_(list(periods)),
        )
        .order_by(SettlementRow.id)
    ):
        chains.setdefault(s.period, []).append(s)
    return chains


def periods_of(session: Session, licence: LicenceRow, periods: Sequence[int], now: int) -> list[PeriodOut]:
    rule = licence.rule()
    chains = period_chains(session, licence.id, periods)
    out = []
    for p in periods:
        fields = period_fields(rule, p)
        chain = chains.get(p, [])
        s = chain[0] if chain else None
        out.append(
            PeriodOut(
                period=p,
                **fields,
                contract_years=list(rule.years_of_period(p)),
                state=period_state(s, fields["period_end"], now),
                late=report_late(s, fields["due_at"], now),
                settlement_id=s.id if s else None,
                royalty=s.royalty if s else 0,
                latest_settlement_id=chain[-1].id if chain else None,
                adjustments=max(len(chain) - 1, 0),
                net_royalty=sum(_priced(r) for r in chain),
            )
        )
    return out


def _priced(row: SettlementRow) -> int:
    """A report's priced total (signed); an index row without it (never for a real chain) by its parts."""
    return row.priced if row.priced is not None else row.royalty - row.credit_carried


def period_history(session: Session, licence_id: int, period: int) -> PeriodHistory:
    """The period's chain of reports, original first, each with its sales, returns and money."""
    licence = get_licence_row(session, licence_id)
    rule = licence.rule()
    if period > last_period(licence, rule):
        raise NotFound(f"licence {licence_id} has no period {period}: its term and sell-off end before")
    chain = period_chains(session, licence_id, [period]).get(period, [])
    entries = [
        PeriodHistoryEntry(
            settlement_id=s.id,
            kind="audit" if s.kind == "audit" else ("adjustment" if s.kind == "adjustment" else "report"),
            corrects=s.corrects,
            corrected_by=s.corrected_by,
            sequence=s.sequence,
            lines_root=s.lines_root,
            line_count=s.line_count,
            sales_units=s.units,
            sales_gross=s.gross,
            sales_net=s.net_in_scope,
            returns_units=s.returned_units,
            returns_gross=s.returned_gross,
            returns_net=s.returned_net_in_scope,
            net=s.net_in_scope - s.returned_net_in_scope,
            priced=_priced(s),
            royalty=s.royalty,
            credit_carried=s.credit_carried,
            credit_applied=s.credit_applied,
            due=s.due,
            paid=s.paid,
            state=s.state,  # type: ignore[arg-type]
            settled_at=s.settled_at,
            tx_hash=s.tx_hash,
            block_number=s.block_number,
        )
        for s in chain
    ]
    fields = period_fields(rule, period)
    return PeriodHistory(
        licence_id=licence_id,
        period=period,
        **fields,
        latest_settlement_id=chain[-1].id if chain else None,
        adjustments=max(len(chain) - 1, 0),
        entries=entries,
        net_royalty=sum(e.priced for e in entries),
        royalty=sum(e.royalty for e in entries),
        credit_carried=sum(e.credit_carried for e in entries),
        credit_applied=sum(e.credit_applied for e in entries),
    )


def licence_periods(session: Session, licence_id: int, page: int, size: int) -> PeriodPage:
    licence = get_licence_row(session, licence_id)
    rule = licence.rule()
    total = last_period(licence, rule) + 1
    first = (page - 1) * size
    periods = range(first, min(first + size, total))
    return PeriodPage(items=periods_of(session, licence, periods, chain_now(session)), total=total, page=page,
                      size=size)  # fmt: skip
