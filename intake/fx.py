"""Exchange rates for sales in other currencies (``docs/currencies.md``): rate files, the rate a
licence's clause gives, and the conversion the ledger checks.

- A **quote** is what a publisher publishes: how many units of a currency one unit of the file's
  *base* buys (ECB convention: ``USD,1.0856`` under base EUR is 1 EUR = 1.0856 USD).
- A **rate** is how many units of the licence currency one unit of the sale currency is worth,
  an integer scaled by 10^18 (``RATE_SCALE``): ``rate(C -> L) = q(L) / q(C)`` with ``q(base) = 1``,
  rounded down once. Quotes and rates both lie in ``MIN_RATE``..``MAX_RATE`` (10^-9..10^9).

Pure: no database, file output or clock beyond ``today``. Exact arithmetic throughout: quotes are
integers, a cross rate or a period's mean is a ``Fraction`` until its one rounding, never a float.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Final

from intake.errors import RateError, RateFileError, RateMissing, RateOutOfBounds, RatesNotPublishedYet
from intake.feed import Rejection
from intake.table_file import echo, plain_decimal, read_rows
from royalty_chain.calendar import parse_date
from royalty_chain.codes import CURRENCIES, MAX_MINOR_UNITS, currency_minor_units
from royalty_chain.fx import MAX_FX_RULE, source_text
from royalty_chain.fx import FxRule as FxRule  # the clause's rules and sources: the signed calendar's
from royalty_chain.fx import source_problem as source_problem
from royalty_chain.units import UINT128_MAX, format_amount

RATE_DECIMALS: Final = 18
RATE_SCALE: Final = 10**RATE_DECIMALS
MIN_RATE: Final = 10**9  # 10^-9, inclusive
MAX_RATE: Final = 10**27  # 10^9, inclusive
RATE_FILE_HEADER: Final = ("date", "currency", "rate")
# ISO 4217 codes without a minor unit: a rate file may list them, but no sale is priced in them.
NO_MINOR_UNIT: Final = frozenset(
    ("XAG", "XAU", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD", "XTS", "XXX")
)
_MAX_WHOLE_DIGITS: Final = len(str(MAX_RATE // RATE_SCALE))


@dataclass(frozen=True, slots=True)
class FxClause:
    """A licence's conversion clause as the oracle uses it: the rule and the rates' publisher
    (``source``, "" exactly when the rule is none; under ``fixed`` a name of the agreement, the
    rates being the tables both parties signed in LicenceFx, docs/currencies.md)."""

    rule: FxRule = FxRule.NONE
    source: str = ""

    def __post_init__(self) -> None:
        rule = FxRule(self.rule)  # ValueError for a rule the design does not name
        object.__setattr__(self, "rule", rule)
        if rule is FxRule.NONE:
            if self.source:
                raise ValueError(f"conversion rule none names no source, not {self.source!r}")
            return
        problem = source_problem(self.source)
        if problem is not None:
            raise ValueError(f"the conversion source {self.source!r} {problem}")

    @property
    def converts(self) -> bool:
        """Whether a sale in another currency than the licence's can be paid (the rule is not none)."""
        return self.rule is not FxRule.NONE


NO_CONVERSION: Final = FxClause()


def fx_clause(calendar: object) -> FxClause:
    """The conversion clause of a licence whose calendar is ``calendar`` (a
    ``royalty_chain.terms.Calendar``, whose ``fx_rule`` and ``fx_source`` are the signed
    calendar's ``fxRule`` and ``fxSource``): the one place where the terms' clause reaches the
    oracle and the API (``LicenceInfo`` calls it for every licence both of them read)."""
    number = int(getattr(calendar, "fx_rule", 0) or 0)
    if number == 0:
        return NO_CONVERSION
    rule = FxRule.of(number)
    if rule is None:
        raise ValueError(f"conversion rule {number} is not one the ledger knows (0..{MAX_FX_RULE})")
    return FxClause(rule, source_text(getattr(calendar, "fx_source", "") or ""))


# ---------------------------------------------------------------------------- rate files


@dataclass(frozen=True, slots=True)
class Quote:
    """One line of a rate file: ``rate`` units of ``currency`` per unit of the base, scaled by
    10^18; ``text`` is the rate as published (what the outbox stores)."""

    line_number: int
    day: date
    currency: str
    rate: int
    text: str


@dataclass(frozen=True, slots=True)
class RateFile:
    """A parsed rate file: its good quotes (each day and currency once, in line order) and the
    rejections of the other lines (in line order). ``repeated`` counts lines that repeat an
    earlier line's day, currency and rate (kept once, not rejected)."""

    base: str
    quotes: list[Quote] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    repeated: int = 0

    @property
    def days(self) -> list[date]:
        return sorted({q.day for q in self.quotes})

    @property
    def currencies(self) -> list[str]:
        return sorted({q.currency for q in self.quotes})


def bound_problem(rate: int) -> str | None:
    """Why a scaled rate (or quote) is none, naming the bound it breaks; None inside the bounds."""
    if rate == 0:
        return f"is zero; a rate is at least {format_amount(MIN_RATE, RATE_DECIMALS)} (MIN_RATE)"
    if rate < MIN_RATE:
        return f"is below the minimum rate {format_amount(MIN_RATE, RATE_DECIMALS)} (MIN_RATE)"
    if rate > MAX_RATE:
        return f"is above the maximum rate {format_amount(MAX_RATE, RATE_DECIMALS)} (MAX_RATE)"
    return None


def rate_problem(text: str) -> tuple[int, None] | tuple[None, str]:
    """``(scaled rate, None)`` for a published rate text, else ``(None, reason)``: a plain positive
    decimal (no sign or exponent) with at most 18 significant fractional digits, inside the bounds.
    Trailing zeros past 18 digits are exact and accepted, as the project's decimal parser does."""
    value, problem = plain_decimal(
        text, RATE_DECIMALS, "a rate", "1.0856", _MAX_WHOLE_DIGITS, bound_problem(MAX_RATE + 1) or ""
    )
    if value is None:
        return None, problem or ""
    problem = bound_problem(value)
    return (value, None) if problem is None else (None, problem)


def parse_rate(text: str) -> int:
    """A published rate text as an integer scaled by 10^18 (``"1.0856"`` -> 1085600000000000000);
    ValueError naming the reason for anything ``rate_problem`` refuses."""
    value, problem = rate_problem(text)
    if value is None:
        raise ValueError(f"rate {text!r} {problem}")
    return value


def _currency_problem(text: str, base: str) -> str | None:
    if text in CURRENCIES:
        return "is the file's base currency: its rate is 1 by definition" if text == base else None
    if not text:
        return "is empty"
    if text.upper() in CURRENCIES:
        return f"is not an ISO 4217 code (codes are uppercase: {text.upper()!r})"
    if text in NO_MINOR_UNIT:
        return "is an ISO 4217 code without a minor unit (a metal, fund or unit of account): no sale is priced in it"
    return "is not an active ISO 4217 currency code"


def _day_problem(text: str, today: date) -> tuple[date, None] | tuple[None, str]:
    try:
        parse_date(text)  # only YYYY-MM-DD, with the calendar's reasons (date.fromisoformat takes more)
        day = date.fromisoformat(text)
    except ValueError as err:  # "2025-02-30 is not a date: February 2025 has 28 days"
        return None, str(err).removeprefix(f"{text!r} ").removeprefix(f"{text} ")
    if day > today:
        return None, f"is in the future (today is {today.isoformat()})"
    return day, None


class _Line(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        self.rejection = (field, echo(value), reason)


def _quote(line_number: int, row: list[str], base: str, today: date) -> Quote:
    """The line's Quote, or raises _Line for its first bad field (in column order)."""
    for column, text in zip(RATE_FILE_HEADER, row, strict=True):
        if text != text.strip():
            raise _Line(column, text, "has leading or trailing whitespace")
    day_text, currency, rate_text = row
    day, problem = _day_problem(day_text, today)
    if day is None:
        raise _Line("date", day_text, problem or "")
    problem = _currency_problem(currency, base)
    if problem is not None:
        raise _Line("currency", currency, problem)
    rate, problem = rate_problem(rate_text)
    if rate is None:
        raise _Line("rate", rate_text, problem or "")
    return Quote(line_number, day, currency, rate, rate_text)


def parse_rates(lines: Iterable[bytes], *, base: str, today: date | None = None) -> RateFile:
    """Parse a rate file given as binary lines (an open binary file works) whose quotes are per
    one unit of ``base``.

    The first line must be exactly ``date,currency,rate`` (after an optional UTF-8 byte order
    mark), else RateFileError naming the expected header. Every other line is a Quote or a
    Rejection (line, field, value, reason); blank lines and CRLF endings are tolerated. A day and
    currency given twice with the same rate counts once; with different rates, every line of it
    is rejected: which one the publisher meant is not for the oracle to guess.
    """
    currency_minor_units(base)  # UnknownCodeError for a base that is no currency
    today = today if today is not None else datetime.now(UTC).date()
    rejections: list[Rejection] = []
    by_key: dict[tuple[date, str], list[Quote]] = {}
    for line_number, row in read_rows(lines, RATE_FILE_HEADER, "a rate file", RateFileError, rejections):
        try:
            quote = _quote(line_number, row, base, today)
        except _Line as bad:
            rejections.append(Rejection(line_number, *bad.rejection))
        else:
            by_key.setdefault((quote.day, quote.currency), []).append(quote)
    return _kept_once(base, by_key, rejections)


def _kept_once(base: str, by_key: dict[tuple[date, str], list[Quote]], rejections: list[Rejection]) -> RateFile:
    """The file with each (day, currency) once; lines that disagree on its rate are all rejected."""
    kept: list[Quote] = []
    repeated = 0
    for (day, currency), quotes in by_key.items():
        if all(q.rate == quotes[0].rate for q in quotes):  # "1.0856" and "1.08560" are one rate
            kept.append(quotes[0])
            repeated += len(quotes) - 1
            continue
        for q in quotes:
            others = ", ".join(f"line {o.line_number} ({o.text})" for o in quotes if o.rate != q.rate)
            reason = f"differs from the rate of {currency} for {day.isoformat()} on {others}: none of them is loaded"
            rejections.append(Rejection(q.line_number, "rate", echo(q.text), reason))
    kept.sort(key=lambda q: q.line_number)
    rejections.sort(key=lambda r: r.line_number)
    return RateFile(base, kept, rejections, repeated)


def read_rate_file(path: str | os.PathLike[str], *, base: str, today: date | None = None) -> RateFile:
    """Parse the rate file at ``path``; RateFileError (naming the file) when it cannot be read
    or its header is not ``date,currency,rate``."""
    try:
        with open(path, "rb") as file:
            return parse_rates(file, base=base, today=today)
    except OSError as err:
        raise RateFileError(f"{os.fspath(path)}: cannot read it: {err.strerror or err}") from err
    except RateFileError as err:
        raise RateFileError(f"{os.fspath(path)}: {err}", err.rejection) from err


# ---------------------------------------------------------------------------- rates from quotes

Quotes = Mapping[str, int]  # one day of a source: currency -> units per unit of the base, * 10^18


def _quote_of(quotes: Quotes, currency: str, base: str, day: date | None, source: str | None) -> int:
    if currency == base:
        return RATE_SCALE
    quote = quotes.get(currency)
    if quote is None:
        raise RateMissing(currency, source, base, day=day)
    return quote


def exact_cross_rate(
    quotes_of_day: Quotes, sale: str, licence: str, base: str, *, day: date | None = None, source: str | None = None
) -> Fraction:
    """The exact value of one unit of ``sale`` in ``licence`` on one day: q(licence) / q(sale)."""
    sale_quote = _quote_of(quotes_of_day, sale, base, day, source)
    return Fraction(_quote_of(quotes_of_day, licence, base, day, source), sale_quote)


def _rounded(value: Fraction, what: str) -> int:
    rate = value.numerator * RATE_SCALE // value.denominator  # floor: both are positive
    problem = bound_problem(rate)
    if problem is not None:
        raise RateOutOfBounds(what, rate, problem)
    return rate


def _what(sale: str, licence: str, source: str | None, day: date | None) -> str:
    on = f" for {day.isoformat()}" if day else ""
    return f"the {source + ' ' if source else ''}rate of {sale} in {licence}{on}"


def cross_rate(
    quotes_of_day: Quotes, sale: str, licence: str, base: str, *, day: date | None = None, source: str | None = None
) -> int:
    """The rate of ``sale`` in ``licence`` on one day, scaled by 10^18 and rounded down:
    q(licence) / q(sale) with q(base) = 1. RateMissing (naming the currency, and ``day`` and
    ``source`` when given) without a quote; RateOutOfBounds outside 10^-9..10^9."""
    if sale == licence:
        return RATE_SCALE
    return _rounded(
        exact_cross_rate(quotes_of_day, sale, licence, base, day=day, source=source), _what(sale, licence, source, day)
    )


class RateBook:
    """Published quotes by (source, base) and day: what a rule chooses from, and how far each
    source has published (``published_through``: its last day with a quote, which may lie after
    the days the book holds: ``note_published_through``)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, str], dict[date, dict[str, int]]] = {}
        self._through: dict[tuple[str, str], date] = {}

    def add(self, source: str, base: str, day: date, currency: str, rate: int) -> None:
        """One published quote; ValueError for a second, different quote of the same day."""
        quotes = self._days.setdefault((source, base), {}).setdefault(day, {})
        if quotes.setdefault(currency, rate) != rate:
            raise ValueError(f"{source} {currency} (base {base}) for {day}: two rates, {quotes[currency]} and {rate}")

    def add_file(self, source: str, rates: RateFile) -> None:
        for q in rates.quotes:
            self.add(source, rates.base, q.day, q.currency, q.rate)

    def published_days(self, source: str, base: str, start: date, end: date) -> list[date]:
        """The days in [start, end) the source published quotes for, in order."""
        return sorted(d for d in self._days.get((source, base), {}) if start <= d < end)

    def quotes(self, source: str, base: str, day: date) -> Quotes:
        return self._days.get((source, base), {}).get(day, {})

    def note_published_through(self, source: str, base: str, day: date) -> None:
        """The source published quotes (base ``base``) up to ``day``, whether or not the book
        holds that day's (a book of one period's days, from a store that holds later ones)."""
        key = (source, base)
        self._through[key] = max(day, self._through.get(key, day))

    def published_through(self, source: str, base: str) -> date | None:
        """The last day the source published quotes (base ``base``) for, as far as the book
        knows; None when it knows of none."""
        days = self._days.get((source, base), {})
        known = [d for d in (max(days, default=None), self._through.get((source, base))) if d is not None]
        return max(known, default=None)


_EPOCH: Final = date(1970, 1, 1)
_DAY_SECONDS: Final = 86_400


def period_rate_days(start: int, end: int) -> tuple[date, date]:
    """The dates a rate of the period [start, end) (unix seconds) may be of, end exclusive: from
    the first whose 00:00 UTC is at or after ``start`` to the first at or after ``end``, the days
    whose sales are the period's (a period-average rate averages the source's days among them)."""
    first, after = -(-start // _DAY_SECONDS), -(-end // _DAY_SECONDS)
    return _EPOCH + timedelta(days=first), _EPOCH + timedelta(days=after)


def rate_for(
    rule: FxRule | str,
    book: RateBook,
    source: str,
    base: str,
    sale: str,
    licence: str,
    period_start_day: date,
    period_end_day: date,
    sale_day: date | None = None,
    fixed: int | None = None,
) -> tuple[int, date | None]:
    """The rate the licence's rule gives a sale in ``sale`` for the period [start, end) (end
    exclusive), scaled by 10^18, and the day of the rate (None for a fixed rate or the same
    currency, whose rate is 1):

    - ``period-average``: the mean of the exact daily rates of every day published in the period,
      rounded down once; its day is the last published day;
    - ``period-end``: the rate of the last published day of the period;
    - ``sale-date``: the rate of ``sale_day``, or of the last day published before it inside the period;
    - ``fixed``: ``fixed``, the clause's rate.

    A rate from published days is given only once the source has published through the days
    it depends on (``RateBook.published_through``): under period-average and period-end the
    period's last day (a quote dated on it, or any dated after it: the publisher's weekend or
    holiday at the period's end), under sale-date the sale day. Before that, the mean of the
    days so far, the last day so far or the last day before the sale would be a guess:
    RatesNotPublishedYet (a RateMissing) names the last published day and the day needed.

    RateMissing when no day of the period (up to the sale day) was published, or a chosen day
    has no quote of a currency needed; RateOutOfBounds for a rate outside 10^-9..10^9.
    """
    rule = FxRule(rule)
    if period_end_day <= period_start_day:
        raise ValueError(f"the period {period_start_day}..{period_end_day} is empty (its end is exclusive)")
    if sale == licence:
        return RATE_SCALE, None
    if rule is FxRule.NONE:
        raise RateError(f"the licence converts nothing (rule none): a sale in {sale} cannot be paid in {licence}")
    if rule is FxRule.FIXED:
        if fixed is None:
            raise ValueError(f"rule fixed needs the clause's rate of {sale}")
        problem = bound_problem(fixed)
        if problem is not None:
            raise RateOutOfBounds(f"the fixed rate of {sale} in {licence}", fixed, problem)
        return fixed, None
    end = period_end_day
    if rule is FxRule.SALE_DATE:
        if sale_day is None:
            raise ValueError("rule sale-date needs the sale day")
        if not period_start_day <= sale_day < period_end_day:
            raise ValueError(f"the sale day {sale_day} is outside the period {period_start_day}..{period_end_day}")
        end = sale_day + timedelta(days=1)
    needed = end - timedelta(days=1)  # the period's last day, or the sale day
    through = book.published_through(source, base)
    if through is not None and through < needed:  # (nothing published at all: RateMissing below)
        raise RatesNotPublishedYet(
            sale, source, base, licence=licence, published_through=through, needed_through=needed, rule=rule.value
        )
    days = book.published_days(source, base, period_start_day, end)
    if not days:
        raise RateMissing(sale if sale != base else licence, source, base, period=(period_start_day, end))
    if rule is FxRule.PERIOD_AVERAGE:
        total = sum(
            (exact_cross_rate(book.quotes(source, base, d), sale, licence, base, day=d, source=source) for d in days),
            Fraction(0),
        )
        what = f"the {source} average rate of {sale} in {licence} from {days[0]} to {days[-1]}"
        return _rounded(total / len(days), what), days[-1]
    day = days[-1]  # period-end, and sale-date (the sale day or the last published day before it)
    return cross_rate(book.quotes(source, base, day), sale, licence, base, day=day, source=source), day


def convert(amount_minor: int, minor_units: int, rate: int, token_decimals: int) -> int:
    """An amount in a currency's minor units in licence-token units, as the ledger checks it:
    ``floor(amount * rate * 10^token_decimals / (10^minor_units * 10^18))``."""
    for name, value in (("amount", amount_minor), ("minor units", minor_units), ("token decimals", token_decimals)):
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    if amount_minor > UINT128_MAX:
        raise ValueError(f"amount {amount_minor} does not fit uint128")
    if minor_units > MAX_MINOR_UNITS:
        raise ValueError(f"minor units {minor_units} is not an ISO 4217 exponent (0..{MAX_MINOR_UNITS})")
    if type(rate) is not int:
        raise ValueError(f"rate must be an integer scaled by 10^18, not {rate!r}")
    problem = bound_problem(rate)
    if problem is not None:
        raise RateOutOfBounds("the conversion's rate", rate, problem)
    token_unit: int = 10**token_decimals
    minor_unit: int = 10**minor_units
    return amount_minor * rate * token_unit // (minor_unit * RATE_SCALE)
