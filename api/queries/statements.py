"""Statements: a licence's contract year, period by period, as JSON rows and CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import InvalidInput
from api.indexer.models import (
    PayeeRow,
    ScheduleVersionRow,
    SettlementRow,
)
from api.queries.common import chain_now, effective_end, get_licence_row, payees_of, token_out
from api.queries.settlements import parts_by_settlement
from api.schemas import (
    PayeePart,
    Statement,
    StatementRow,
)
from royalty_chain.events import schedule_from_event
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY, YEAR


def statement(session: Session, manifest: Manifest, licence_id: int, year: int) -> Statement:
    licence = get_licence_row(session, licence_id)
    end = effective_end(licence)
    sell_off_end = end + licence.sell_off_days * DAY
    year_start = licence.start + year * YEAR
    if year_start >= sell_off_end:
        raise InvalidInput.field("year", f"contract year {year} starts after the licence's term and sell-off")
    year_end = year_start + YEAR
    now = chain_now(session)
    payees = payees_of(session, licence_id)
    period = licence.period_seconds
    first = -(-(year_start - licence.start) // period)  # periods starting inside the year
    last_start = min(year_end, sell_off_end, max(now, licence.start))
    last = (last_start - licence.start - 1) // period if last_start > licence.start else -1
    settlements = {
        s.period: s
        for s in session.scalars(
            select(SettlementRow).where(
                SettlementRow.licence_id == licence_id,
                SettlementRow.kind == "report",
                SettlementRow.period >= first,
                SettlementRow.period <= max(first, last),
            )
        )
    }
    guarantee_rows = list(
        session.scalars(
            select(SettlementRow).where(
                SettlementRow.licence_id == licence_id,
                SettlementRow.kind == "minimum_guarantee",
                SettlementRow.period == year,
            )
        )
    )
    ids = [s.id for s in settlements.values()] + [g.id for g in guarantee_rows]
    parts = parts_by_settlement(session, ids, {licence_id: payees})
    rows: list[StatementRow] = []
    # Very short periods would make a year of empty rows: then list only the settled ones.
    periods = range(first, last + 1) if last - first < 1_000 else sorted(settlements)
    for p in periods:
        start = licence.start + p * period
        s = settlements.get(p)
        rows.append(_statement_row(p, start, start + period, s, payees, parts, "report"))
    for g in guarantee_rows:
        rows.append(_statement_row(g.period, year_start, min(year_end, end), g, payees, parts, "minimum_guarantee"))
    versions = list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id, ScheduleVersionRow.effective_from <= year_start)
            .order_by(ScheduleVersionRow.version)
        )
    ) or list(
        session.scalars(
            select(ScheduleVersionRow).where(
                ScheduleVersionRow.licence_id == licence_id, ScheduleVersionRow.version == 0
            )
        )
    )
    guarantee = schedule_from_event(json.loads(versions[-1].schedule)).minimum_guarantee if versions else 0
    return Statement(
        licence_id=licence_id,
        year=year,
        year_start=year_start,
        year_end=year_end,
        token=token_out(manifest, licence.token),
        minimum_guarantee=guarantee,
        rows=rows,
        totals=_totals(rows, payees, year_start, year_end),
    )


def _statement_row(
    period: int,
    start: int,
    end: int,
    s: SettlementRow | None,
    payees: list[PayeeRow],
    parts: dict[int, tuple[list[int], list[PayeeRow]]],
    kind: str,
) -> StatementRow:
    amounts = parts.get(s.id, ([0] * len(payees), payees))[0] if s else [0] * len(payees)
    return StatementRow(
        period=period,
        period_start=start,
        period_end=end,
        settlement_id=s.id if s else None,
        kind=kind,
        state=s.state if s else "not reported",
        units=s.units if s else 0,
        gross=s.gross if s else 0,
        net_in_scope=s.net_in_scope if s else 0,
        royalty=s.royalty if s else 0,
        recouped=s.recouped if s else 0,
        due=s.due if s else 0,
        paid=s.paid if s else 0,
        arrears=(s.due - s.paid) if s else 0,
        tax_withheld=s.tax if s else 0,
        payee_parts=[
            PayeePart(account=p.account, share_bps=p.share_bps, amount=a) for p, a in zip(payees, amounts, strict=True)
        ],
    )


def _totals(rows: list[StatementRow], payees: list[PayeeRow], start: int, end: int) -> StatementRow:
    def total(name: str) -> int:
        return sum(int(getattr(r, name)) for r in rows)

    parts = [sum(r.payee_parts[i].amount for r in rows) for i in range(len(payees))]
    return StatementRow(
        period=-1,
        period_start=start,
        period_end=end,
        settlement_id=None,
        kind="total",
        state="",
        **{
            n: total(n)
            for n in ("units", "gross", "net_in_scope", "royalty", "recouped", "due", "paid", "arrears", "tax_withheld")
        },
        payee_parts=[
            PayeePart(account=p.account, share_bps=p.share_bps, amount=a) for p, a in zip(payees, parts, strict=True)
        ],
    )


STATEMENT_COLUMNS = (
    "period", "period_start", "period_end", "settlement_id", "kind", "state", "units", "gross",
    "net_in_scope", "royalty", "recouped", "due", "paid", "arrears", "tax_withheld",
)  # fmt: skip


def statement_csv_rows(result: Statement) -> Iterable[list[str]]:
    payees = [p.account for p in result.totals.payee_parts]
    yield [*STATEMENT_COLUMNS, *(f"payee:{a}" for a in payees)]
    for row in [*result.rows, result.totals]:
        values = row.model_dump(mode="json")
        yield ["" if values[c] is None else str(values[c]) for c in STATEMENT_COLUMNS] + [
            p["amount"] for p in values["payee_parts"]
        ]


# ------------------------------------------------------------------ parties
