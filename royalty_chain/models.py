"""What the contracts return, as Python types: mirrors of their enums and structs.

The ``IntEnum`` members have the contracts' values (Solidity numbers enum members from 0 in
declaration order), so ``Status(2)`` is ``Status.TERMINATED`` exactly as ``ILicenceRegistry.Status``
says; ``.label`` is the lower-case name the API, the index and the demo print.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from royalty_chain.calendar import LicenceCalendar
from royalty_chain.codes import Scope
from royalty_chain.terms import Calendar


class _Labelled(IntEnum):
    @property
    def label(self) -> str:
        """The member's name in lower case (``minimum_guarantee``), as the API shows it."""
        return self.name.lower()


class Status(_Labelled):
    """ILicenceRegistry.Status: a licence's lifecycle."""

    NONE = 0
    ACTIVE = 1
    TERMINATED = 2
    EXPIRED = 3


class Kind(_Labelled):
    """IRoyaltyLedger.Kind: what a settlement charges for."""

    NONE = 0
    ADVANCE = 1
    REPORT = 2
    MINIMUM_GUARANTEE = 3
    INTEREST = 4
    ADJUSTMENT = 5
    RESERVE = 6  # held back from a report against returns, released later or consumed
    AUDIT = 7  # an audit finding: an adjustment that may bear interest from the original due date
    AUDIT_COST = 8  # an audit's cost charged to the licensee


class State(_Labelled):
    """IRoyaltyLedger.State: where a settlement stands."""

    NONE = 0
    PENDING = 1
    DISPUTED = 2
    FINAL = 3
    HELD = 4  # a reserve, until its release time


@dataclass(frozen=True, slots=True)
class SettlementContext:
    """ILicenceRegistry.SettlementContext: what the ledger needs to settle a licence's reports."""

    licensor: str
    licensee: str
    start: int
    effective_end: int
    sell_off_end: int
    period_seconds: int
    calendar: Calendar
    threshold: int
    dispute_window: int
    arbiter: str
    scope: Scope

    def rule(self) -> LicenceCalendar:
        """The licence's periods, contract years and due dates, as the chain computes them."""
        return LicenceCalendar.from_abi(self.calendar.as_abi(), start=self.start, period_seconds=self.period_seconds)

    @classmethod
    def from_abi(cls, value: Any) -> SettlementContext:
        """From the tuple web3 or :mod:`royalty_chain.abicodec` decodes. Both give addresses
        checksummed already: checksumming again cost the oracle's directory 0.2 s per 1,000
        licences (a keccak each)."""
        licensor, licensee, start, effective_end, sell_off_end, period, calendar, threshold, window, arbiter, scope = (
            value
        )
        territories, fields, channels = scope
        return cls(
            licensor=str(licensor),
            licensee=str(licensee),
            start=int(start),
            effective_end=int(effective_end),
            sell_off_end=int(sell_off_end),
            period_seconds=int(period),
            calendar=Calendar.from_abi(calendar),
            threshold=int(threshold),
            dispute_window=int(window),
            arbiter=str(arbiter),
            scope=Scope(int(territories), int(fields), int(channels)),
        )


@dataclass(frozen=True, slots=True)
class Settlement:
    """IRoyaltyLedger.Settlement: one settlement, amounts in token units."""

    licence_id: int
    period: int
    kind: Kind
    state: State
    settled_at: int
    dispute_until: int
    due_at: int
    year: int
    royalty: int
    due: int
    paid: int
    released: int

    @classmethod
    def from_abi(cls, value: Any) -> Settlement:
        licence_id, period, kind, state, settled_at, dispute_until, due_at, year, royalty, due, paid, released = value
        return cls(
            licence_id=int(licence_id),
            period=int(period),
            kind=Kind(int(kind)),
            state=State(int(state)),
            settled_at=int(settled_at),
            dispute_until=int(dispute_until),
            due_at=int(due_at),
            year=int(year),
            royalty=int(royalty),
            due=int(due),
            paid=int(paid),
            released=int(released),
        )


__all__ = ["Kind", "Settlement", "SettlementContext", "State", "Status"]
