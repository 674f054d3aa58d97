"""Settlements: a licence's page of them and one in full, with each payee's part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.indexer.models import (
    BucketRow,
    ConversionRow,
    LicenceRow,
    PayeeRow,
    ReleaseRow,
    ReturnRow,
    ScheduleVersionRow,
    SettlementRow,
    SettlementYearRow,
)
from api.money import parts_between
from api.queries.common import chain_now, code_of, effective_end, get_licence_row, payees_of, schedule_out, token_out
from api.queries.components import NONE, Components, settlement_components
from api.queries.periods import period_fields, year_fields
from api.schemas import (
    BucketOut,
    ConversionOut,
    DisputeOut,
    InterestOut,
    PayeePart,
    ReturnOut,
    SettlementDetail,
    SettlementPage,
    SettlementSummary,
    SettlementYearOut,
)
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.codes import CHANNELS, FIELDS, TERRITORIES
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY


def parts_by_settlement(
    session: Session, settlement_ids: Sequence[int], payees_by_licence: dict[int, list[PayeeRow]]
) -> dict[int, tuple[list[int], list[PayeeRow]]]:
    """Each settlement's credit per payee: entitlement after minus before its Released events."""
    parts: dict[int, tuple[list[int], list[PayeeRow]]] = {}
    if not settlement_ids:
        return parts
    releases = session.execute(
        select(
            ReleaseRow.settlement_id,
            ReleaseRow.licence_id,
            ReleaseRow.distributed_before,
            ReleaseRow.distributed_after,
        ).where(ReleaseRow.settlement_id.in_(list(settlement_ids)))
    )
    for settlement_id, licence_id, before, after in releases:
        payees = payees_by_licence[licence_id]
        delta = parts_between(int(before), int(after), [p.share_bps for p in payees])
        if settlement_id in parts:
            parts[settlement_id] = ([a + b for a, b in zip(parts[settlement_id][0], delta, strict=True)], payees)
        else:
            parts[settlement_id] = (delta, payees)
    return parts


def interest_targets(session: Session, rows: Sequence[SettlementRow]) -> dict[int, SettlementRow]:
    """The settlements the interest settlements among ``rows`` are charged on."""
    ids = {r.interest_on for r in rows if r.interest_on is not None}
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(SettlementRow).where(SettlementRow.id.in_(ids)))}


def period_of_settlement(row: SettlementRow, licence: LicenceRow, on: SettlementRow | None = None) -> dict[str, Any]:
    """Period name and dates of a settlement: a report's period, a guarantee's contract year (cut
    at the term's end), an interest charge's of the settlement it is on; nothing for an advance."""
    rule = licence.rule()
    kind = row.kind if row.kind != "interest" or on is None else on.kind
    if kind in ("report", "adjustment", "audit", "reserve", "audit_cost"):
        return period_fields(rule, row.period)
    if kind == "minimum_guarantee":
        return year_fields(rule, row.period, effective_end(licence))
    return {"period_name": None, "period_start": None, "period_end": None, "period_last_day": None, "due_at": None}


def _summary(
    row: SettlementRow,
    licence: LicenceRow,
    payees: list[PayeeRow],
    parts: list[int] | None,
    now: int,
    on: SettlementRow | None = None,
) -> dict[str, Any]:
    dates = period_of_settlement(row, licence, on)
    amounts = parts if parts is not None else [0] * len(payees)
    interest = None
    if row.kind == "interest" and row.interest_on is not None:
        start, end = row.interest_from or 0, row.interest_to or 0
        interest = InterestOut(
            on_settlement_id=row.interest_on,
            on_kind=on.kind if on is not None else "none",
            principal=row.interest_principal or 0,
            from_at=start,
            to_at=end,
            days=(end - start) // DAY,
            rate_bps=row.interest_rate_bps or 0,
            interest=row.royalty,
        )
    outstanding = row.due - row.paid
    owed_by_date = row.kind in ("report", "adjustment", "audit", "minimum_guarantee")
    overdue = outstanding if owed_by_date and now > row.due_at else 0
    return {
        "id": row.id,
        "licence_id": row.licence_id,
        "kind": row.kind,
        "period": row.period,
        **dates,
        # The chain's due date (Settled.dueAt); an advance or interest is due when it is made.
        "due_at": row.due_at,
        "contract_year": None if row.kind == "advance" else row.year,
        "late": row.reported_late or row.paid_late > 0 or overdue > 0,
        "reported_late": row.reported_late,
        "paid_late": row.paid_late,
        "overdue": overdue,
        "interest_charged": row.interest_charged,
        "interest": interest,
        "nil_report": row.kind == "report" and row.bucket_count == 0 and row.returned_count == 0,
        "corrects": row.corrects,
        "corrected_by": row.corrected_by,
        "state": row.state,
        "awaiting_release": row.state == "pending" and now >= row.dispute_until,
        "settled_at": row.settled_at,
        "dispute_until": row.dispute_until,
        "royalty": row.royalty,
        "recouped": row.recouped,
        "advance_recouped": row.advance_recouped,
        "guarantee_credit": row.guarantee_credit,
        "credit_applied": row.credit_applied,
        "credit_carried": row.credit_carried,
        "priced": row.priced,
        "returned_gross": row.returned_gross,
        "returned_net_in_scope": row.returned_net_in_scope,
        "due": row.due,
        "paid": row.paid,
        "arrears": outstanding,
        "released": row.released,
        "tax_withheld": row.tax,
        "payee_parts": [
            PayeePart(account=p.account, share_bps=p.share_bps, amount=a) for p, a in zip(payees, amounts, strict=True)
        ],
        "tx_hash": row.tx_hash,
        "block_number": row.block_number,
    }


def year_out(rule: LicenceCalendar, part: SettlementYearRow, components: Components) -> SettlementYearOut:
    return SettlementYearOut(
        **components.fields(),
        year=part.year,
        year_name=rule.year_name(part.year),
        tier_net=part.tier_net,
        royalty=part.royalty,
        units=part.units,
        gross=part.gross,
        net_in_scope=part.net_in_scope,
        returned_units=part.returned_units,
        returned_gross=part.returned_gross,
        returned_net_in_scope=part.returned_net_in_scope,
        net=part.net_in_scope - part.returned_net_in_scope,
    )


def licence_settlements(session: Session, licence_id: int, page: int, size: int) -> SettlementPage:
    licence = get_licence_row(session, licence_id)
    now = chain_now(session)
    rows = list(
        session.scalars(
            select(SettlementRow)
            .where(SettlementRow.licence_id == licence_id)
            .order_by(SettlementRow.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    payees = payees_of(session, licence_id)
    parts = parts_by_settlement(session, [r.id for r in rows], {licence_id: payees})
    targets = interest_targets(session, rows)
    items = [
        SettlementSummary(
            **_summary(r, licence, payees, parts.get(r.id, (None, payees))[0], now, targets.get(r.interest_on or 0))
        )
        for r in rows
    ]
    return SettlementPage(items=items, total=licence.settlement_count, page=page, size=size)


def settlement_detail(session: Session, manifest: Manifest, settlement_id: int) -> SettlementDetail:
    row = session.get(SettlementRow, settlement_id)
    if row is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    licence = get_licence_row(session, row.licence_id)
    now = chain_now(session)
    payees = payees_of(session, row.licence_id)
    parts = parts_by_settlement(session, [row.id], {row.licence_id: payees})
    schedule = None
    if row.schedule_version is not None:
        version = session.get(ScheduleVersionRow, (row.licence_id, row.schedule_version))
        schedule = schedule_out(version) if version else None
    buckets = session.scalars(select(BucketRow).where(BucketRow.settlement_id == row.id).order_by(BucketRow.position))
    returns = session.scalars(select(ReturnRow).where(ReturnRow.settlement_id == row.id).order_by(ReturnRow.position))
    conversions = session.scalars(
        select(ConversionRow).where(ConversionRow.settlement_id == row.id).order_by(ConversionRow.position)
    )
    dispute = None
    if row.disputed_by is not None:
        dispute = DisputeOut(
            disputed_by=row.disputed_by,
            disputed_at=row.disputed_at,
            tx_hash=row.disputed_tx,
            resolved_amount=row.resolved_amount,
            refunded=row.refunded,
            resolved_by_arbiter=row.resolved_by_arbiter,
            resolved_at=row.resolved_at,
        )
    on = interest_targets(session, [row]).get(row.interest_on or 0)
    rule = licence.rule()
    years = session.scalars(
        select(SettlementYearRow).where(SettlementYearRow.settlement_id == row.id).order_by(SettlementYearRow.year)
    )
    by_year = settlement_components(session, [row]).get(row.id)
    total = sum(by_year.values(), NONE).fields() if by_year is not None else dict.fromkeys(NONE.fields())
    return SettlementDetail(
        **_summary(row, licence, payees, parts.get(row.id, (None, payees))[0], now, on),
        schedule=schedule,
        **total,
        years=[year_out(rule, y, (by_year or {}).get(y.year, NONE)) for y in years],
        buckets=[BucketOut(**_bucket_fields(b)) for b in buckets],
        returns=[ReturnOut(**_bucket_fields(b)) for b in returns],
        conversions=[_conversion_out(c) for c in conversions],
        returned_units=row.returned_units,
        units=row.units,
        gross=row.gross,
        net_in_scope=row.net_in_scope,
        scope_breaches=row.scope_breaches,
        sequence=row.sequence,
        lines_root=row.lines_root,
        line_count=row.line_count,
        tier_net=row.tier_net,
        dispute=dispute,
        token=token_out(manifest, licence.token),
    )


def _conversion_out(c: ConversionRow) -> ConversionOut:
    return ConversionOut(
        bucket=c.bucket,
        currency=c.currency,
        minor_units=c.minor_units,
        rate_day=c.rate_day,
        rate=c.rate,
        gross=c.gross,
        deductions=c.deductions,
        converted_gross=c.converted_gross,
        converted_deductions=c.converted_deductions,
    )


# ------------------------------------------------------------------ statement


def _bucket_fields(b: BucketRow | ReturnRow) -> dict[str, Any]:
    """A sold or returned bucket as the API shows it: codes by name, net of deductions."""
    return {
        "year": b.year,
        "territory": code_of(TERRITORIES, b.territory),
        "field": code_of(FIELDS, b.field),
        "channel": code_of(CHANNELS, b.channel),
        "units": b.units,
        "gross": b.gross,
        "deductions": b.deductions,
        "net": b.gross - b.deductions,
        "in_scope": b.in_scope,
    }
