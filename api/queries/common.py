"""Helpers every read shares: chain time, tokens, licence status and summary fields."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.indexer.models import (
    IndexState,
    LicenceRow,
    PayeeRow,
    ScheduleVersionRow,
)
from api.inputs import schedule_doc
from api.schemas import (
    ScheduleOut,
    TokenOut,
)
from royalty_chain.codes import CodeTable
from royalty_chain.events import schedule_from_event
from royalty_chain.manifest import Manifest

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


def code_of(table: CodeTable, index: int) -> str:
    return table.codes[index] if 0 <= index < len(table.codes) else f"#{index}"


def summary_fields(licence: LicenceRow, manifest: Manifest, now: int) -> dict[str, Any]:
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


def party_licence_ids(session: Session, address: str) -> list[int]:
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


def payees_of(session: Session, licence_id: int) -> list[PayeeRow]:
    return list(session.scalars(select(PayeeRow).where(PayeeRow.licence_id == licence_id).order_by(PayeeRow.position)))


def schedule_out(row: ScheduleVersionRow) -> ScheduleOut:
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
