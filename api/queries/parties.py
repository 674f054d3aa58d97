"""Parties: what one address licenses, is owed and has been paid, across licences."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.indexer.models import (
    LicenceRow,
    PayeeRow,
    SettlementRow,
)
from api.money import entitlements
from api.queries.common import chain_now, party_licence_ids, summary_fields
from api.queries.settlements import interest_targets, parts_by_settlement, period_of_settlement
from api.schemas import (
    Party,
    PartyBalance,
    PartyLicence,
    PartyRef,
    PayeeSettlement,
)
from royalty_chain.manifest import Manifest


def party(session: Session, manifest: Manifest, address: str, page: int, size: int) -> Party:
    now = chain_now(session)
    ids = party_licence_ids(session, address)
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
                **summary_fields(lic, manifest, now),
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
    parts = parts_by_settlement(session, chosen, payees_by_licence)
    targets = interest_targets(session, list(rows.values()))
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
                period_name=period_of_settlement(row, licences[row.licence_id], targets.get(row.interest_on or 0))[
                    "period_name"
                ],
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
