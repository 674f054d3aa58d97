"""Licences: the list (with filters) and one licence in full."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.indexer.models import (
    LicenceRow,
    ScheduleVersionRow,
)
from api.inputs import terms_doc
from api.money import entitlements
from api.queries.common import (
    chain_now,
    effective_end,
    get_licence_row,
    party_licence_ids,
    payees_of,
    schedule_out,
    summary_fields,
)
from api.queries.escalation import escalation_summary
from api.queries.periods import calendar_out, periods_of, sell_off_end
from api.queries.reviews import reviews_summary
from api.schemas import (
    BreachOut,
    LicenceDetail,
    LicencePage,
    LicenceSummary,
    LicenceTotals,
    PayeeOut,
    TaxOut,
)
from royalty_chain.events import schedule_from_event, terms_from_event
from royalty_chain.manifest import Manifest


def list_licences(
    session: Session, manifest: Manifest, party: str | None, status: str | None, page: int, size: int
) -> LicencePage:
    now = chain_now(session)
    query = select(LicenceRow)
    if party is not None:
        query = query.where(LicenceRow.id.in_(party_licence_ids(session, party)))
    if status == "terminated":
        query = query.where(LicenceRow.terminated_at.is_not(None))
    elif status == "expired":
        query = query.where(LicenceRow.terminated_at.is_(None), LicenceRow.end <= now)
    elif status == "active":
        query = query.where(LicenceRow.terminated_at.is_(None), LicenceRow.end > now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(LicenceRow.id.desc()).offset((page - 1) * size).limit(size))
    items = [LicenceSummary(**summary_fields(r, manifest, now)) for r in rows]
    return LicencePage(items=items, total=total, page=page, size=size)


def licence_detail(session: Session, manifest: Manifest, licence_id: int) -> LicenceDetail:
    licence = get_licence_row(session, licence_id)
    now = chain_now(session)
    versions = list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id)
            .order_by(ScheduleVersionRow.version)
        )
    )
    payees = payees_of(session, licence_id)
    entitled = entitlements(licence.distributed, [p.share_bps for p in payees])
    rule = licence.rule()
    year = rule.year_of(max(now, licence.start))
    year_start, year_end, _ = rule.year_bounds(year)
    current = [v for v in versions if v.effective_from <= max(now, licence.start)]
    in_force = schedule_from_event(json.loads((current or versions)[-1].schedule)) if versions else None
    guarantee = in_force.minimum_guarantee if in_force else 0
    end = effective_end(licence)
    # The guarantee is charged once the year ends, or once the term ends within it.
    next_guarantee = min(year_end, end) if guarantee and year_start < end else None
    current_period = None
    if licence.start <= now < sell_off_end(licence):
        current_period = periods_of(session, licence, [rule.period_of(now)], now)[0]
    terms = terms_doc(terms_from_event(json.loads(licence.terms)))
    summary = summary_fields(licence, manifest, now)
    return LicenceDetail(
        **summary,
        terms=terms,
        arbiter=licence.arbiter,
        sell_off_end=sell_off_end(licence),
        terminated_at=licence.terminated_at,
        terminated_by_consent=licence.terminated_by_consent,
        schedule_versions=[schedule_out(v) for v in versions],
        payees=[
            PayeeOut(
                position=p.position,
                account=p.account,
                share_bps=p.share_bps,
                entitled=e,
                withdrawn=p.withdrawn,
                claimable=e - p.withdrawn,
            )
            for p, e in zip(payees, entitled, strict=True)
        ],
        tax=TaxOut(
            tax_bps=licence.tax_bps,
            account=licence.tax_account,
            withheld=licence.tax_total,
            withdrawn=licence.tax_withdrawn,
            claimable=licence.tax_total - licence.tax_withdrawn,
        ),
        totals=LicenceTotals(
            royalty=licence.royalty_total,
            recouped=licence.recouped_total,
            due=licence.due_total,
            paid=licence.paid_total,
            released=licence.released_total,
            deposited=licence.deposited,
            escrow_withdrawn=licence.escrow_withdrawn,
            credit_carried=licence.credit_carried_total,
            credit_applied=licence.credit_applied_total,
        ),
        advance=licence.advance,
        advance_left=licence.advance_left,
        credit=licence.credit,
        calendar=calendar_out(rule),
        contract_year=year,
        contract_year_name=rule.year_name(year),
        contract_year_start=year_start,
        contract_year_end=year_end,
        current_period=current_period,
        next_minimum_guarantee_date=next_guarantee,
        minimum_guarantee=guarantee,
        breach_notice=(
            BreachOut(noticed_at=licence.breach_noticed_at, cures_at=licence.cures_at or 0)
            if licence.breach_noticed_at is not None
            else None
        ),
        arrears_cleared_at=licence.arrears_cleared_at,
        scope_breaches=licence.scope_breaches,
        registered_block=licence.registered_block,
        registered_tx=licence.registered_tx,
        escalation=escalation_summary(session, licence_id, summary["token"].decimals or 0),
        reviews=reviews_summary(session, manifest, licence),
    )


# ------------------------------------------------------------------ settlements
