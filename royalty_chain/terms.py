"""Licence terms and sales reports as Python values, and their exact ABI form.

These mirror the Solidity structs in ``contracts/interfaces``. Money is an integer in the token's
smallest unit everywhere; times are unix seconds. ``as_abi()`` gives the tuple web3 and eth-abi
take; the ``*_TYPE`` strings are the matching ABI tuple types (used for the terms hash that both
parties sign).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from royalty_chain.calendar import LicenceCalendar, calendar_abi, calendar_fields
from royalty_chain.codes import Scope

BPS = 10_000
DAY = 86_400
YEAR = 365 * DAY

SCOPE_TYPE = "(uint256,uint64,uint32)"
CALENDAR_TYPE = "(uint8,bool,uint8,uint8,uint16,uint16,uint16,uint8,uint16,uint8,bytes16)"
TERM_TYPE = f"(uint64,uint64,uint32,uint32,{CALENDAR_TYPE})"
TIER_TYPE = "(uint128,uint16)"
FIELD_RATE_TYPE = "(uint8,uint16)"
SCHEDULE_TYPE = f"(uint64,uint128,uint16,uint128,uint128,{TIER_TYPE}[],{FIELD_RATE_TYPE}[])"
PAYEE_TYPE = "(address,uint16)"
TERMS_TYPE = (
    f"(address,address,bytes32,uint256[],{SCOPE_TYPE},{TERM_TYPE},address,uint128,{SCHEDULE_TYPE},"
    f"{PAYEE_TYPE}[],uint16,address,address[],uint8,uint32,address,uint32,bytes32)"
)
BUCKET_TYPE = "(uint16,uint8,uint8,uint8,uint128,uint128,uint128)"
CONVERSION_TYPE = "(uint16,bytes3,uint8,uint64,uint128,uint128,uint128)"
REPORT_TYPE = (
    f"(uint256,uint32,uint64,uint64,bytes32,uint32,{BUCKET_TYPE}[],{BUCKET_TYPE}[],uint256,bool,uint128,"
    f"{CONVERSION_TYPE}[])"
)


@dataclass(frozen=True, slots=True)
class Calendar:
    """How a term is cut into periods and contract years, when reports are due, and the clauses
    that run by the calendar (ILicenceRegistry.Calendar; the rule itself is
    :mod:`royalty_chain.calendar`).

    ``period_months`` 0 means fixed periods of ``Term.period_seconds``; ``year_month`` and
    ``year_day`` 0 mean contract years from the start date. ``reserve_bps`` of each report's
    payable royalty is held back against returns until the end of the period
    ``reserve_periods`` later; an audit finding whose underpayment exceeds
    ``audit_threshold_bps`` of the period's settled royalty bears interest from the original due
    date and its stated cost. ``fx_rule`` and ``fx_source`` are the conversion clause
    (:mod:`royalty_chain.fx`): rule 0 (none) and no source, or a rule 1..3 and the publisher of
    its rates as text (``"ECB"``; a right-padded bytes16 on chain)."""

    period_months: int = 0
    anniversary: bool = False
    year_month: int = 0
    year_day: int = 0
    due_days: int = 30
    interest_bps: int = 0
    reserve_bps: int = 0
    reserve_periods: int = 0
    audit_threshold_bps: int = 500
    fx_rule: int = 0
    fx_source: str = ""

    def as_abi(self) -> tuple[int | bool | bytes, ...]:
        return calendar_abi(self)

    @classmethod
    def from_abi(cls, value: Any) -> Calendar:
        """From the on-chain tuple, or its web3 / event dict form."""
        return cls(**calendar_fields(value))


@dataclass(frozen=True, slots=True)
class Term:
    """Term of a licence: ``end`` is the first second after it."""

    start: int
    end: int
    sell_off_days: int
    period_seconds: int
    calendar: Calendar = Calendar()

    def as_abi(self) -> tuple[Any, ...]:
        return (self.start, self.end, self.sell_off_days, self.period_seconds, self.calendar.as_abi())

    def rule(self) -> LicenceCalendar:
        """The term's periods, contract years and due dates, as the chain computes them."""
        return LicenceCalendar.from_abi(self.calendar.as_abi(), start=self.start, period_seconds=self.period_seconds)


@dataclass(frozen=True, slots=True)
class Tier:
    """A marginal tier: ``rate_bps`` applies at and above ``threshold`` of yearly net sales."""

    threshold: int
    rate_bps: int

    def as_abi(self) -> tuple[int, int]:
        return (self.threshold, self.rate_bps)


@dataclass(frozen=True, slots=True)
class FieldRate:
    field: int
    rate_bps: int

    def as_abi(self) -> tuple[int, int]:
        return (self.field, self.rate_bps)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One version of a rate schedule (see ILicenceRegistry.Schedule)."""

    effective_from: int = 0
    fixed_fee_per_period: int = 0
    rate_bps: int = 0
    per_unit: int = 0
    minimum_guarantee: int = 0
    tiers: tuple[Tier, ...] = ()
    field_rates: tuple[FieldRate, ...] = ()

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.effective_from,
            self.fixed_fee_per_period,
            self.rate_bps,
            self.per_unit,
            self.minimum_guarantee,
            [t.as_abi() for t in self.tiers],
            [f.as_abi() for f in self.field_rates],
        )

    @classmethod
    def from_abi(cls, value: Any) -> Schedule:
        return cls(
            effective_from=int(value[0]),
            fixed_fee_per_period=int(value[1]),
            rate_bps=int(value[2]),
            per_unit=int(value[3]),
            minimum_guarantee=int(value[4]),
            tiers=tuple(Tier(int(t[0]), int(t[1])) for t in value[5]),
            field_rates=tuple(FieldRate(int(f[0]), int(f[1])) for f in value[6]),
        )


@dataclass(frozen=True, slots=True)
class Payee:
    account: str
    share_bps: int

    def as_abi(self) -> tuple[str, int]:
        return (self.account, self.share_bps)


ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class Terms:
    """Everything both parties sign when they register a licence (ILicenceRegistry.Terms)."""

    licensor: str
    licensee: str
    legal_text_hash: bytes
    asset_ids: tuple[int, ...]
    scope: Scope
    term: Term
    token: str
    schedule: Schedule
    payees: tuple[Payee, ...]
    oracles: tuple[str, ...]
    threshold: int
    arbiter: str
    advance: int = 0
    tax_bps: int = 0
    tax_account: str = ZERO_ADDRESS
    dispute_window: int = 0
    cure_period: int = 30 * DAY
    salt: bytes = ZERO_BYTES32
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        # The registry requires payees in ascending address order (it finds them by binary search).
        ordered = tuple(sorted(self.payees, key=lambda p: int(p.account, 16)))
        object.__setattr__(self, "payees", ordered)

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.licensor,
            self.licensee,
            self.legal_text_hash,
            list(self.asset_ids),
            (self.scope.territories, self.scope.fields, self.scope.channels),
            self.term.as_abi(),
            self.token,
            self.advance,
            self.schedule.as_abi(),
            [p.as_abi() for p in self.payees],
            self.tax_bps,
            self.tax_account,
            list(self.oracles),
            self.threshold,
            self.dispute_window,
            self.arbiter,
            self.cure_period,
            self.salt,
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    """Totals of one (contract year, territory, field, channel) bucket of a period, in token
    units; ``year`` is the contract year of the sales' dates."""

    year: int
    territory: int
    field: int
    channel: int
    units: int
    gross: int
    deductions: int

    def as_abi(self) -> tuple[int, int, int, int, int, int, int]:
        return (self.year, self.territory, self.field, self.channel, self.units, self.gross, self.deductions)


def currency_code(value: str | bytes) -> str:
    """A ``bytes3`` currency as its code: from its bytes, the ``0x`` hex events decode to, or the code."""
    if isinstance(value, str):
        if not value.startswith("0x"):
            return value
        value = bytes.fromhex(value[2:])
    return bytes(value).decode("latin-1")


@dataclass(frozen=True, slots=True)
class Conversion:
    """The part of bucket ``bucket`` sold in ``currency`` (IRoyaltyLedger.Conversion): ``gross``
    and ``deductions`` in its minor units (ISO 4217 exponent ``minor_units``), converted at
    ``rate`` (licence-currency units per unit of ``currency``, scaled by 10^18) of the day
    starting at ``rate_day``. ``bucket`` indexes the report's ``buckets``, then its ``returned``."""

    bucket: int
    currency: str
    minor_units: int
    rate_day: int
    rate: int
    gross: int
    deductions: int

    def as_abi(self) -> tuple[int, bytes, int, int, int, int, int]:
        code = self.currency.encode("ascii")
        if len(code) != 3:
            raise ValueError(f"currency {self.currency!r} is not a three-letter code")
        return (self.bucket, code, self.minor_units, self.rate_day, self.rate, self.gross, self.deductions)

    def as_list(self) -> list[int | str]:
        """The JSON form the outbox stores (the ABI order, the currency as its code)."""
        return [self.bucket, self.currency, self.minor_units, self.rate_day, self.rate, self.gross, self.deductions]

    @classmethod
    def from_list(cls, value: Any) -> Conversion:
        """From :meth:`as_list`'s form, or the ABI tuple (the currency as bytes3)."""
        bucket, currency, minor_units, rate_day, rate, gross, deductions = value
        code = currency_code(currency)
        return cls(int(bucket), code, int(minor_units), int(rate_day), int(rate), int(gross), int(deductions))


@dataclass(frozen=True, slots=True)
class Report:
    """One licence's sales for one period, as the oracles sign it (IRoyaltyLedger.Report).

    ``returned`` holds returns and credit notes (positive amounts that take away); an adjustment
    of a settled period names in ``corrects`` the period's latest settlement, and its buckets
    and returns are the lines it adds and cancels. ``fx`` lists the sales in other currencies the
    buckets hold, converted (ordered by bucket, currency and rate day; empty when every sale is
    in the licence's currency)."""

    licence_id: int
    period: int
    sequence: int
    deadline: int
    lines_root: bytes
    line_count: int
    buckets: tuple[Bucket, ...]
    returned: tuple[Bucket, ...] = ()
    corrects: int = 0
    audit: bool = False
    audit_cost: int = 0
    fx: tuple[Conversion, ...] = ()

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.licence_id,
            self.period,
            self.sequence,
            self.deadline,
            self.lines_root,
            self.line_count,
            [b.as_abi() for b in self.buckets],
            [b.as_abi() for b in self.returned],
            self.corrects,
            self.audit,
            self.audit_cost,
            [c.as_abi() for c in self.fx],
        )
