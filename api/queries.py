"""The read side: answers built from the index only (never from the chain per request)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.errors import InvalidInput, NotFound
from api.indexer.models import (
    BucketRow,
    IndexState,
    LicenceRow,
    PayeeRow,
    ReleaseRow,
    ScheduleVersionRow,
    SettlementRow,
)
from api.inputs import schedule_doc, terms_doc
from api.money import entitlements, parts_between
from api.schemas import (
    BreachOut,
    BucketOut,
    DisputeOut,
    LicenceDetail,
    LicencePage,
    LicenceSummary,
    LicenceTotals,
    Party,
    PartyBalance,
    PartyLicence,
    PartyRef,
    PayeeOut,
    PayeePart,
    PayeeSettlement,
    ScheduleOut,
    SettlementDetail,
    SettlementPage,
    SettlementSummary,
    Statement,
    StatementRow,
    TaxOut,
    TokenOut,
)
from royalty_chain.codes import CHANNELS, FIELDS, TERRITORIES, CodeTable
from royalty_chain.events import schedule_from_event, terms_from_event
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY, YEAR

MAX_PAGE_SIZE = 200


def chain_now(session: Session) -> int:
    """Chain time: the wall clock, or the head's timestamp when the chain runs ahead of it."""
    head = session.scalar(select(IndexState.head_timestamp).where(IndexState.id == 1)) or 0
    return max(int(time.time()), int(head))


def token_out(manifest: Manifest, address: str) -> TokenOut:
    info = manifest.token_by_address(address)
    if info is None:
        return TokenOut(address=address, symbol=None, decimals=None, currency=None)
    return TokenOut(address=address, symbol=info.symbol, decimals=info.decimals, currency=info.currency)


def status_of(licence: LicenceRow, now: int) -> str:
    if licence.terminated_at is not None:
        return "terminated"
    return "expired" if now >= licence.end else "active"


def effective_end(licence: LicenceRow) -> int:
    if licence.terminated_at is not None and licence.terminated_at < licence.end:
        return licence.terminated_at
    return licence.end


def _code(table: CodeTable, index: int) -> str:
    return table.codes[index] if 0 <= index < len(table.codes) else f"#{index}"


def _summary_fields(licence: LicenceRow, manifest: Manifest, now: int) -> dict[str, Any]:
    return {
        "id": licence.id,
        "licensor": licence.licensor,
        "licensee": licence.licensee,
        "token": token_out(manifest, licence.token),
        "status": status_of(licence, now),
        "start": licence.start,
        "end": licence.end,
        "settlement_count": licence.settlement_count,
        "royalty_total": licence.royalty_total,
        "arrears": licence.arrears,
        "escrow": licence.escrow,
    }


def get_licence_row(session: Session, licence_id: int) -> LicenceRow:
    licence = session.get(LicenceRow, licence_id)
    if licence is None:
        raise NotFound(f"licence {licence_id} is not known (or not indexed yet)")
    return licence


def _party_licence_ids(session: Session, address: str) -> list[int]:
    payee = select(PayeeRow.licence_id).where(PayeeRow.account == address)
    query = select(LicenceRow.id).where(
        or_(
            LicenceRow.licensor == address,
            LicenceRow.licensee == address,
            LicenceRow.tax_account == address,
            LicenceRow.id.in_(payee),
        )
    )
    return list(session.scalars(query))


def list_licences(
    session: Session, manifest: Manifest, party: str | None, status: str | None, page: int, size: int
) -> LicencePage:
    now = chain_now(session)
    query = select(LicenceRow)
    if party is not None:
        query = query.where(LicenceRow.id.in_(_party_licence_ids(session, party)))
    if status == "terminated":
        query = query.where(LicenceRow.terminated_at.is_not(None))
    elif status == "expired":
        query = query.where(LicenceRow.terminated_at.is_(None), LicenceRow.end <= now)
    elif status == "active":
        query = query.where(LicenceRow.terminated_at.is_(None), LicenceRow.end > now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(LicenceRow.id.desc()).offset((page - 1) * size).limit(size))
    items = [LicenceSummary(**_summary_fields(r, manifest, now)) for r in rows]
    return LicencePage(items=items, total=total, page=page, size=size)


def _schedule_out(row: ScheduleVersionRow) -> ScheduleOut:
    schedule = schedule_from_event(json.loads(row.schedule))
    doc = schedule_doc(schedule)
    doc["effective_from"] = row.effective_from
    return ScheduleOut(
        version=row.version,
        new_end=row.new_end,
        previous_end=row.previous_end,
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        **doc,
    )


def _payees(session: Session, licence_id: int) -> list[PayeeRow]:
    return list(session.scalars(select(PayeeRow).where(PayeeRow.licence_id == licence_id).order_by(PayeeRow.position)))


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
    payees = _payees(session, licence_id)
    entitled = entitlements(licence.distributed, [p.share_bps for p in payees])
    year = max(0, (now - licence.start) // YEAR)
    current = [v for v in versions if v.effective_from <= max(now, licence.start)]
    in_force = schedule_from_event(json.loads((current or versions)[-1].schedule)) if versions else None
    guarantee = in_force.minimum_guarantee if in_force else 0
    next_guarantee = licence.start + (year + 1) * YEAR if guarantee else None
    end = effective_end(licence)
    if next_guarantee is not None and next_guarantee > end:
        next_guarantee = end if licence.start + year * YEAR < end else None
    terms = terms_doc(terms_from_event(json.loads(licence.terms)))
    return LicenceDetail(
        **_summary_fields(licence, manifest, now),
        terms=terms,
        arbiter=licence.arbiter,
        sell_off_end=end + licence.sell_off_days * DAY,
        terminated_at=licence.terminated_at,
        terminated_by_consent=licence.terminated_by_consent,
        schedule_versions=[_schedule_out(v) for v in versions],
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
        ),
        advance=licence.advance,
        advance_left=licence.advance_left,
        contract_year=year,
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
    )


# ------------------------------------------------------------------ settlements


def _parts_by_settlement(
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


def _summary(
    row: SettlementRow, licence: LicenceRow, payees: list[PayeeRow], parts: list[int] | None, now: int
) -> dict[str, Any]:
    period_start = period_end = year = None
    if row.kind == "report":
        period_start = licence.start + row.period * licence.period_seconds
        period_end = period_start + licence.period_seconds
        year = row.period * licence.period_seconds // YEAR
    elif row.kind == "minimum_guarantee":
        period_start = licence.start + row.period * YEAR
        period_end = min(period_start + YEAR, effective_end(licence))
        year = row.period
    amounts = parts if parts is not None else [0] * len(payees)
    return {
        "id": row.id,
        "licence_id": row.licence_id,
        "kind": row.kind,
        "period": row.period,
        "period_start": period_start,
        "period_end": period_end,
        "contract_year": year,
        "state": row.state,
        "awaiting_release": row.state == "pending" and now >= row.dispute_until,
        "settled_at": row.settled_at,
        "dispute_until": row.dispute_until,
        "royalty": row.royalty,
        "recouped": row.recouped,
        "advance_recouped": row.advance_recouped,
        "guarantee_credit": row.guarantee_credit,
        "due": row.due,
        "paid": row.paid,
        "arrears": row.due - row.paid,
        "released": row.released,
        "tax_withheld": row.tax,
        "payee_parts": [
            PayeePart(account=p.account, share_bps=p.share_bps, amount=a) for p, a in zip(payees, amounts, strict=True)
        ],
        "tx_hash": row.tx_hash,
        "block_number": row.block_number,
    }


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
    payees = _payees(session, licence_id)
    parts = _parts_by_settlement(session, [r.id for r in rows], {licence_id: payees})
    items = [SettlementSummary(**_summary(r, licence, payees, parts.get(r.id, (None, payees))[0], now)) for r in rows]
    return SettlementPage(items=items, total=licence.settlement_count, page=page, size=size)


def settlement_detail(session: Session, manifest: Manifest, settlement_id: int) -> SettlementDetail:
    row = session.get(SettlementRow, settlement_id)
    if row is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    licence = get_licence_row(session, row.licence_id)
    now = chain_now(session)
    payees = _payees(session, row.licence_id)
    parts = _parts_by_settlement(session, [row.id], {row.licence_id: payees})
    schedule = None
    if row.schedule_version is not None:
        version = session.get(ScheduleVersionRow, (row.licence_id, row.schedule_version))
        schedule = _schedule_out(version) if version else None
    buckets = session.scalars(select(BucketRow).where(BucketRow.settlement_id == row.id).order_by(BucketRow.position))
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
    return SettlementDetail(
        **_summary(row, licence, payees, parts.get(row.id, (None, payees))[0], now),
        schedule=schedule,
        buckets=[
            BucketOut(
                territory=_code(TERRITORIES, b.territory),
                field=_code(FIELDS, b.field),
                channel=_code(CHANNELS, b.channel),
                units=b.units,
                gross=b.gross,
                deductions=b.deductions,
                net=b.gross - b.deductions,
                in_scope=b.in_scope,
            )
            for b in buckets
        ],
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


# ------------------------------------------------------------------ statement


def statement(session: Session, manifest: Manifest, licence_id: int, year: int) -> Statement:
    licence = get_licence_row(session, licence_id)
    end = effective_end(licence)
    sell_off_end = end + licence.sell_off_days * DAY
    year_start = licence.start + year * YEAR
    if year_start >= sell_off_end:
        raise InvalidInput.field("year", f"contract year {year} starts after the licence's term and sell-off")
    year_end = year_start + YEAR
    now = chain_now(session)
    payees = _payees(session, licence_id)
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
    parts = _parts_by_settlement(session, ids, {licence_id: payees})
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


def party(session: Session, manifest: Manifest, address: str, page: int, size: int) -> Party:
    now = chain_now(session)
    ids = _party_licence_ids(session, address)
    licences = {
        lic.id: lic for lic in session.scalars(select(LicenceRow).where(LicenceRow.id.in_(ids)).order_by(LicenceRow.id))
    }
    payees_by_licence: dict[int, list[PayeeRow]] = defaultdict(list)
    for p in session.scalars(
        select(PayeeRow).where(PayeeRow.licence_id.in_(ids)).order_by(PayeeRow.licence_id, PayeeRow.position)
    ):
        payees_by_licence[p.licence_id].append(p)
    out: list[PartyLicence] = []
    payee_of: list[int] = []
    for lic in licences.values():
        roles: list[Any] = []
        if lic.licensor == address:
            roles.append("licensor")
        if lic.licensee == address:
            roles.append("licensee")
        payees = payees_by_licence[lic.id]
        balance = None
        share = None
        for i, p in enumerate(payees):
            if p.account == address:
                roles.append("payee")
                payee_of.append(lic.id)
                entitled = entitlements(lic.distributed, [q.share_bps for q in payees])[i]
                balance = PartyBalance(entitled=entitled, withdrawn=p.withdrawn, claimable=entitled - p.withdrawn)
                share = p.share_bps
        tax_balance = None
        if lic.tax_account == address:
            roles.append("tax_account")
            tax_balance = PartyBalance(
                entitled=lic.tax_total, withdrawn=lic.tax_withdrawn, claimable=lic.tax_total - lic.tax_withdrawn
            )
        out.append(
            PartyLicence(
                **_summary_fields(lic, manifest, now),
                roles=roles,
                share_bps=share,
                balance=balance,
                tax_balance=tax_balance,
            )
        )
    # Newest settlements across the payee's licences: top-N per licence, merged.
    limit = page * size
    candidates: list[tuple[int, int]] = []
    for licence_id in payee_of:
        candidates += [
            (sid, licence_id)
            for sid in session.scalars(
                select(SettlementRow.id)
                .where(SettlementRow.licence_id == licence_id)
                .order_by(SettlementRow.id.desc())
                .limit(limit)
            )
        ]
    candidates.sort(reverse=True)
    chosen = [sid for sid, _ in candidates[(page - 1) * size : limit]]
    rows = {r.id: r for r in session.scalars(select(SettlementRow).where(SettlementRow.id.in_(chosen)))}
    parts = _parts_by_settlement(session, chosen, payees_by_licence)
    settlements = []
    for sid in chosen:
        row = rows[sid]
        amounts, payees = parts.get(
            sid, ([0] * len(payees_by_licence[row.licence_id]), payees_by_licence[row.licence_id])
        )
        index = next(i for i, p in enumerate(payees) if p.account == address)
        settlements.append(
            PayeeSettlement(
                settlement_id=sid,
                licence_id=row.licence_id,
                kind=row.kind,
                period=row.period,
                settled_at=row.settled_at,
                state=row.state,
                amount=amounts[index],
            )
        )
    total = sum(licences[i].settlement_count for i in payee_of)
    return Party(address=address, licences=out, settlements=settlements, settlements_total=total, page=page, size=size)


def known_parties(session: Session, limit: int = 500) -> list[PartyRef]:
    roles: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, set[int]] = defaultdict(set)
    for licence_id, licensor, licensee in session.execute(
        select(LicenceRow.id, LicenceRow.licensor, LicenceRow.licensee).limit(limit)
    ):
        roles[licensor].add("licensor")
        roles[licensee].add("licensee")
        counts[licensor].add(licence_id)
        counts[licensee].add(licence_id)
    for licence_id, account in session.execute(select(PayeeRow.licence_id, PayeeRow.account).limit(limit * 4)):
        roles[account].add("payee")
        counts[account].add(licence_id)
    return [
        PartyRef(address=a, roles=sorted(roles[a]), licences=len(counts[a]))
        for a in sorted(roles, key=lambda a: (-len(counts[a]), a))
    ]
