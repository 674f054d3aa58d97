"""Bodies of the exchange-rate routes (api.routes.rates): what loading a rate file did, and the
stored quotes of a currency. Rates are decimals as published (strings), never floats."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas import Out


class RateRejection(Out):
    line_number: int = Field(description="the 1-based line of the file (the header is line 1)")
    field: str = Field(description="date, currency or rate; or line, row or header for the whole line")
    value: str
    reason: str


class RateLoad(Out):
    source: str
    base: str
    file_name: str
    loaded: int = Field(description="quotes stored now")
    known: int = Field(description="quotes stored before with the same rate (loading again is harmless)")
    repeated: int = Field(description="lines repeating an earlier line of the file with the same rate, counted once")
    rejected: int
    first_day: date | None
    last_day: date | None
    days: int = Field(description="days with a quote stored or known from this file")
    currencies: list[str]
    rejections: list[RateRejection]


class StoredQuote(Out):
    day: date
    quote: str = Field(description="units of the currency per unit of the base, as published")
    in_base: str = Field(description="one unit of the currency in the base, rounded down to 18 decimals")
    file_name: str


class StoredQuotes(Out):
    source: str
    base: str
    currency: str
    quotes: list[StoredQuote]


class FixedRateOut(Out):
    currency: str
    rate: str = Field(description="units of the licence currency one unit of the currency is worth (decimal)")
    rate_scaled: str = Field(description="the same, times 10^18, as LicenceFx and the ledger hold it")


class FixedTableOut(Out):
    version: int
    effective_from: int = Field(description="the first second of the period the table is in force from")
    effective_from_date: str
    rates: list[FixedRateOut]


class FixedRates(Out):
    """A fixed-rate licence's tables of contractual rates, each signed by both parties."""

    licence_id: int
    rule: str = Field(description='the licence\'s conversion rule ("fixed" for these tables to convert)')
    source: str
    tables: list[FixedTableOut] = Field(description="by version; a period converts by the latest in force at its start")


class MissingRateOut(Out):
    currency: str = Field(examples=["JPY"])
    days: list[str] = Field(
        description="each day without a rate (YYYY-MM-DD), or a span YYYY-MM-DD..YYYY-MM-DD of days none is "
        "published for yet",
        examples=[["2025-03-15..2025-03-31"]],
    )
    reason: str = Field(
        examples=["ECB has published rates (base EUR) only up to 2025-03-14: the period-average rate of JPY needs "
                  "them through 2025-03-31"]
    )  # fmt: skip


class RateHoldOut(Out):
    """A period whose report the oracle holds: not signed, its lines waiting, until the rates it
    needs are loaded (then the next round signs it), or until an operator fixes what ``reason``
    says (``missing`` empty)."""

    licence_id: int
    period: int
    period_name: str | None = Field(description="by the licence's calendar; null for a licence not indexed yet")
    source: str
    missing: list[MissingRateOut]
    reason: str
    held_since: int = Field(description="unix seconds")
    checked_at: int = Field(description="unix seconds of the oracle's last round that tried it")


class RateHolds(Out):
    holds: list[RateHoldOut] = Field(description="by licence and period")
