"""The projection rows a Projector works on, cached per session, and which licence or
settlement an event belongs to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.indexer.models import LicenceRow, PayeeRow, ScheduleVersionRow, SettlementRow, SettlementYearRow
from royalty_chain.events import ChainEvent


class ProjectionError(Exception):
    """An event refers to a licence or settlement the index does not know."""


def licence_of(event: ChainEvent, settlement_licence: Callable[[int], int | None]) -> int | None:
    """The licence an event belongs to (BucketReported names only its settlement, which
    ``settlement_licence`` maps to its licence, e.g. ``Projector.settlement_licence``)."""
    args = event.args
    if "licenceId" in args:
        return int(args["licenceId"])
    if "settlementId" in args:
        return settlement_licence(int(args["settlementId"]))
    return None


def event_settlement_id(event: ChainEvent) -> int | None:
    value: Any = event.args.get("settlementId")
    return None if value is None else int(value)


class RowCache:
    """The rows one session's events touch, loaded once (a block range costs one flush)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._licences: dict[int, LicenceRow] = {}
        self._settlements: dict[int, SettlementRow] = {}
        self._payees: dict[int, list[PayeeRow]] = {}
        self._versions: dict[int, list[tuple[int, int]]] = {}
        self._years: dict[tuple[int, int], SettlementYearRow] = {}  # (settlement id, contract year)

    def settlement_licence(self, settlement_id: int) -> int | None:
        row = self._settlement(settlement_id, required=False)
        return None if row is None else row.licence_id

    def _licence(self, licence_id: int) -> LicenceRow:
        row = self._licences.get(licence_id)
        if row is None:
            row = self.session.get(LicenceRow, licence_id)
            if row is None:
                raise ProjectionError(f"unknown licence {licence_id}")
            self._licences[licence_id] = row
        return row

    def _settlement(self, settlement_id: int, required: bool = True) -> SettlementRow | None:
        row = self._settlements.get(settlement_id)
        if row is None:
            row = self.session.get(SettlementRow, settlement_id)
            if row is None:
                if required:
                    raise ProjectionError(f"unknown settlement {settlement_id}")
                return None
            self._settlements[settlement_id] = row
        return row

    def _settlement_of(self, event: ChainEvent) -> SettlementRow:
        row = self._settlement(int(event.args["settlementId"]))
        assert row is not None
        return row

    def _payee_rows(self, licence_id: int) -> list[PayeeRow]:
        rows = self._payees.get(licence_id)
        if rows is None:
            rows = list(
                self.session.scalars(
                    select(PayeeRow).where(PayeeRow.licence_id == licence_id).order_by(PayeeRow.position)
                )
            )
            self._payees[licence_id] = rows
        return rows

    def _version_list(self, licence_id: int) -> list[tuple[int, int]]:
        versions = self._versions.get(licence_id)
        if versions is None:
            versions = [
                (v, e)
                for v, e in self.session.execute(
                    select(ScheduleVersionRow.version, ScheduleVersionRow.effective_from)
                    .where(ScheduleVersionRow.licence_id == licence_id)
                    .order_by(ScheduleVersionRow.version)
                )
            ]
            self._versions[licence_id] = versions
        return versions

    def _version_at(self, licence_id: int, timestamp: int) -> int | None:
        """The schedule version in force at ``timestamp`` (the contract's _scheduleAt)."""
        versions = self._version_list(licence_id)
        if not versions:
            return None
        chosen = versions[0][0]
        for version, effective_from in versions[1:]:
            if effective_from <= timestamp:
                chosen = version
        return chosen
