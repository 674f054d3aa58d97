"""A report's conversions of sales in other currencies (docs/currencies.md), from stored rates.

The aggregator sums a period's lines in other currencies per (bucket, currency), and for the
clause's rule sale-date per (bucket, currency, sale day), in the currencies' minor units
(``PeriodTotals.foreign``). Here each sum gets its rate by the licence's clause from the
outbox's quotes of the clause's source (``intake.fx.rate_for``), is converted as the ledger
converts it (``intake.fx.convert``: each amount once, rounded down,
``floor(amount * rate * 10^tokenDecimals / (10^minorUnits * 10^18))``), and becomes one
``ConversionRecord``; each bucket's gross and deductions are its licence-currency part plus its
converted parts. The records come ordered by (bucket, currency, rate_day), as the ledger requires:
two sale days that take the rate of one published day are one conversion of their summed amounts.

- The clause is ``LicenceInfo.clause`` (``intake.fx.fx_clause`` reads it from the licence's
  calendar: the one seam to the terms); the licence currency is ``LicenceInfo.currency``, the
  token's ISO code (USD for USDX), its decimals the token's.
- A source's base is the base its stored quotes have: one, or the report is held naming both.
- Rate days are the dates whose 00:00 UTC lies in the period (as sale days belong to periods);
  ``rate_day`` is that 00:00 UTC in unix seconds, as the ledger checks it (``rateDay % 1 days
  == 0``, inside the period) and as every other day of a report is.
- Under ``fixed`` the rate of a currency is the one the table of fixed contractual rates in force
  at the period's start agrees (``FixedTable``, read from LicenceFx), dated the period's first day;
  no table yet, or one that lists no rate of the currency, holds the report as a missing rate
  does, saying so: both parties sign a table (a currency a begun period's table leaves out can
  only be added for periods that have not begun).
- An adjustment converts a currency at the rate its period's earlier reports signed for it, for
  the rules period-average and period-end, whose rate is one per currency and period: a quote
  loaded later cannot make a correction take back a sale at another rate than it was paid at.
  (Sale-date rates are the rates of their days, which stored quotes never change.)

``ConversionHeld`` says why a report cannot be converted yet: a rate missing (``missing`` names
each currency and its days; loading the rates releases it at the next round), the source not
having published through the period's last day (period-average, period-end) or the sale day
(sale-date) yet, which is a missing rate too (its days are those not published yet, its reason
names the source's last published day: ``intake.fx.rate_for``), or something an
operator must fix (``missing`` empty): a source with quotes under two bases, a rate out of
bounds, a licence that converts nothing. The report builder then signs nothing for the period,
and its lines keep waiting.

``with_conversions`` is where a report's records become the signed ``Report.fx``: the one place
where they join.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy.engine import Connection

from intake.errors import RateError, RateMissing, RatesNotPublishedYet
from intake.fx import NO_CONVERSION, FxClause, FxRule, RateBook, convert, fx_clause, period_rate_days, rate_for
from intake.money import UINT128_MAX
from intake.validate import LicenceInfo
from oracle.aggregate import BucketSums, PeriodTotals
from outbox import Outbox, StoredReport
from royalty_chain.fx import FixedTable, in_force
from royalty_chain.terms import Conversion, Report

__all__ = [
    "NO_CONVERSION",
    "ConversionHeld",
    "ConversionRecord",
    "ConvertedReport",
    "FxClause",
    "FxRule",
    "MissingRate",
    "convert_report",
    "fx_clause",
    "prepare_conversions",
    "rate_days",
    "records_of",
    "with_conversions",
]

DAY: Final = 86_400
_EPOCH: Final = date(1970, 1, 1)
# The rules whose rate is one per currency and period (an adjustment reuses it).
_PERIOD_RULES: Final = (FxRule.PERIOD_AVERAGE, FxRule.PERIOD_END)


@dataclass(frozen=True, slots=True)
class ConversionRecord:
    """One conversion of a report (IRoyaltyLedger.Conversion): the sales of bucket ``bucket``
    (an index in the report's buckets, then its returned buckets after them) in ``currency``,
    ``gross`` and ``deductions`` in its minor units (``minor_units``, its ISO 4217 exponent),
    converted at ``rate`` (licence-currency units one unit of it is worth, scaled by 10^18), the
    rate of the day whose 00:00 UTC is ``rate_day`` (unix seconds)."""

    bucket: int
    currency: str
    minor_units: int
    rate_day: int
    rate: int
    gross: int
    deductions: int

    def converted(self, token_decimals: int) -> tuple[int, int]:
        """(gross, deductions) in token units, each rounded down once, as the ledger converts them."""
        return (
            convert(self.gross, self.minor_units, self.rate, token_decimals),
            convert(self.deductions, self.minor_units, self.rate, token_decimals),
        )

    def as_dict(self) -> dict[str, Any]:
        """As the outbox stores it (``StoredReport.fx``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> ConversionRecord:
        return cls(
            int(value["bucket"]), str(value["currency"]), int(value["minor_units"]), int(value["rate_day"]),
            int(value["rate"]), int(value["gross"]), int(value["deductions"]),
        )  # fmt: skip


def records_of(stored: StoredReport) -> list[ConversionRecord]:
    """A stored report's conversions."""
    return [ConversionRecord.from_dict(c) for c in stored.fx]


def with_conversions(report: Report, fx: Sequence[ConversionRecord]) -> Report:
    """The report as signed and sent, with its conversions as the signed ``Report.fx``: the one
    place where the outbox's records become what k oracles sign and the ledger checks."""
    return replace(report, fx=tuple(Conversion(**c.as_dict()) for c in fx))


@dataclass(frozen=True, slots=True)
class MissingRate:
    """A currency a report needs a rate of, and the days it has none for: ``2025-03-31``, or
    ``2025-01-01..2025-03-31`` for days of which none was published. ``reason`` is the first
    rate asked, in words (``no ECB rate of JPY (base EUR) for 2025-03-31``)."""

    currency: str
    days: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "days": list(self.days), "reason": self.reason}


class ConversionHeld(Exception):
    """A report that cannot be converted yet: not signed, its lines keep waiting.

    ``missing`` lists the currencies without a rate (loading the rates releases it); empty, the
    report waits for an operator (``reason`` says why: a source with two bases, a rate out of
    bounds, a licence that converts nothing)."""

    def __init__(
        self,
        licence_id: int,
        period: int,
        source: str,
        reason: str,
        missing: Sequence[MissingRate] = (),
        base: str | None = None,
    ) -> None:
        self.licence_id = licence_id
        self.period = period
        self.source = source
        self.base = base
        self.missing = list(missing)
        self.reason = reason
        super().__init__(f"licence {licence_id} period {period}: {reason}")

    @property
    def waits_for_rates(self) -> bool:
        return bool(self.missing)


@dataclass(frozen=True, slots=True)
class ConvertedReport:
    """What a report carries, converted: its buckets and returned buckets as the outbox stores
    them (``[year, territory, field, channel, units, gross, deductions]`` in token units, the
    converted parts included) and its conversions, by (bucket, currency, rate_day)."""

    buckets: list[list[int]]
    returned: list[list[int]]
    fx: list[ConversionRecord] = field(default_factory=list)


def rate_days(info: LicenceInfo, period: int) -> tuple[date, date]:
    """The dates a rate of the period may be of: from the first whose 00:00 UTC is at or after
    the period's start to the first at or after its end (exclusive), the days whose sales are
    the period's."""
    return period_rate_days(*info.rule.period_bounds(period))


def _date_of(seconds: int) -> date:
    return _EPOCH + timedelta(days=seconds // DAY)


def _seconds_of(day: date) -> int:
    return (day - _EPOCH).days * DAY


def _rows(buckets: Sequence[BucketSums]) -> list[list[int]]:
    return [[b.year, b.territory, b.field, b.channel, b.units, b.gross, b.deductions] for b in buckets]


def _span(first: date, after: date) -> str:
    last = after - timedelta(days=1)
    return first.isoformat() if last <= first else f"{first.isoformat()}..{last.isoformat()}"


def _lacks(quotes: Mapping[str, int], currency: str, base: str) -> bool:
    return currency != base and currency not in quotes


def convert_report(
    info: LicenceInfo,
    totals: PeriodTotals,
    base: str,
    book: RateBook,
    *,
    known: Mapping[str, tuple[int, int]] | None = None,
    fixed: FixedTable | None = None,
) -> ConvertedReport:
    """The period's buckets with their sums in other currencies converted by the licence's clause
    at the rates of ``book`` (the clause's source, quotes per unit of ``base``), and the
    conversions (module docstring). ``known``: currency -> (rate, rate_day) an earlier report of
    the period signed, reused under the period rules. ConversionHeld when a rate is missing
    (every currency and day without one is named) or cannot be used."""
    clause = info.clause
    buckets, returned = _rows(totals.buckets), _rows(totals.returned)
    groups = [g for g in totals.foreign if g.gross or g.deductions]  # nothing to convert: no rate needed
    if not groups:
        return ConvertedReport(buckets, returned)
    licence_id, period, source = totals.licence_id, totals.period, clause.source
    if not clause.converts:
        currencies = ", ".join(sorted({g.currency for g in groups}))
        reason = (
            f"it holds sales in {currencies}, but the licence's terms convert nothing (its conversion rule is none)"
        )
        raise ConversionHeld(licence_id, period, source, reason)
    start, end = rate_days(info, period)
    rule, licence = clause.rule, info.currency
    if rule is FxRule.FIXED:
        return _converted(
            info, totals, buckets, returned, groups, _fixed_rates(info, totals, groups, fixed, start, end)
        )
    chosen: dict[tuple[str, int | None], tuple[int, int]] = {}  # (currency, sale day) -> (rate, rate_day)
    missing: dict[str, tuple[set[str], str]] = {}  # currency -> (days without a rate, the first reason)
    failed: set[tuple[str, int | None]] = set()
    behind: date | None = None  # the source's last published day, when the rates wait for later ones
    for g in groups:
        key = (g.currency, g.sale_day)
        if key in chosen or key in failed:
            continue
        if known and rule in _PERIOD_RULES and g.currency in known:
            chosen[key] = known[g.currency]
            continue
        sale_day = _date_of(g.sale_day) if rule is FxRule.SALE_DATE and g.sale_day is not None else None
        try:
            rate, day = rate_for(rule, book, source, base, g.currency, licence, start, end, sale_day=sale_day)
        except RateMissing as err:
            days = _missing_days(err, rule, book, source, base, g.currency, licence, start, end)
            if isinstance(err, RatesNotPublishedYet) and err.published_through is not None:
                behind = err.published_through
            failed.add(key)
            held, first = missing.get(g.currency, (set(), str(err)))
            missing[g.currency] = (held | set(days), first)
            continue
        except (RateError, ValueError) as err:
            raise ConversionHeld(licence_id, period, source, f"{g.currency}: {err}", base=base) from err
        assert day is not None  # a rate of another currency by a published day's quotes
        chosen[key] = (rate, _seconds_of(day))
    if missing:  # every currency lacking a rate is named, with each of its days
        named = [MissingRate(c, tuple(sorted(days)), first) for c, (days, first) in sorted(missing.items())]
        what = "; ".join(f"{m.currency} for {', '.join(m.days)}" for m in named)
        reason = f"waits for {source} rates (base {base}) of {what}"
        if behind is not None:  # a period (or sale day) the source has not published through yet
            reason += f": {source} has published only up to {behind.isoformat()}"
        raise ConversionHeld(licence_id, period, source, reason, named, base)
    return _converted(info, totals, buckets, returned, groups, chosen)


def _fixed_rates(
    info: LicenceInfo,
    totals: PeriodTotals,
    groups: Sequence[Any],
    table: FixedTable | None,
    start: date,
    end: date,
) -> dict[tuple[str, int | None], tuple[int, int]]:
    """Each group's rate under rule fixed: the table's, dated the period's first day (as the
    ledger checks it against the table in force at the period's start)."""
    licence_id, period, source = totals.licence_id, totals.period, info.clause.source
    chosen: dict[tuple[str, int | None], tuple[int, int]] = {}
    lacking = sorted({g.currency for g in groups if table is None or g.currency not in table.rates})
    if lacking:
        span = _span(start, end)
        if table is None:
            first = "no table of fixed rates is agreed yet: both parties sign one (POST /licences/{id}/fixed-rates)"
        else:
            first = (
                f"the table of fixed rates in force at {start.isoformat()} (version {table.version}) agrees no rate "
                f"of {', '.join(lacking)}"
            )
        named = [MissingRate(c, (span,), first) for c in lacking]
        reason = f"waits for fixed contractual rates of {', '.join(lacking)} for {span}: {first}"
        raise ConversionHeld(licence_id, period, source, reason, named)
    assert table is not None
    for g in groups:
        try:
            rate, _ = rate_for(FxRule.FIXED, RateBook(), source, "", g.currency, info.currency, start, end,
                               fixed=table.rates[g.currency])  # fmt: skip
        except (RateError, ValueError) as err:
            raise ConversionHeld(licence_id, period, source, f"{g.currency}: {err}") from err
        chosen[g.currency, g.sale_day] = (rate, _seconds_of(start))
    return chosen


def _converted(
    info: LicenceInfo,
    totals: PeriodTotals,
    buckets: list[list[int]],
    returned: list[list[int]],
    groups: Sequence[Any],
    chosen: Mapping[tuple[str, int | None], tuple[int, int]],
) -> ConvertedReport:
    """The conversions of ``groups`` at the ``chosen`` rates, one per (bucket, currency, rate
    day), and the buckets with the converted parts added."""
    merged: dict[tuple[int, str, int], list[int]] = {}  # (bucket, currency, rate_day) -> [minor, rate, gross, ded]
    for g in groups:
        rate, rate_day = chosen[g.currency, g.sale_day]
        held = merged.get((g.bucket, g.currency, rate_day))
        if held is None:
            merged[g.bucket, g.currency, rate_day] = [g.minor_units, rate, g.gross, g.deductions]
        else:  # another sale day taking the same published day's rate (one conversion on chain)
            finer = max(held[0], g.minor_units)  # one exponent, should ISO 4217 have changed it between them
            held[2] = held[2] * 10 ** (finer - held[0]) + g.gross * 10 ** (finer - g.minor_units)
            held[3] = held[3] * 10 ** (finer - held[0]) + g.deductions * 10 ** (finer - g.minor_units)
            held[0] = finer
    fx = []
    rows = buckets + returned
    for (bucket, currency, rate_day), (minor_units, rate, gross, deductions) in sorted(merged.items()):
        record = ConversionRecord(bucket, currency, minor_units, rate_day, rate, gross, deductions)
        for name, amount in (("gross", gross), ("deductions", deductions)):
            if amount > UINT128_MAX:
                raise ConversionHeld(
                    totals.licence_id, totals.period, info.clause.source,
                    f"bucket {bucket}'s {name} in {currency}, {amount}, exceeds uint128",
                )  # fmt: skip
        converted_gross, converted_deductions = record.converted(info.decimals)
        rows[bucket][5] += converted_gross
        rows[bucket][6] += converted_deductions
        fx.append(record)
    for index, row in enumerate(rows):
        for column, total in (("gross", row[5]), ("deductions", row[6])):
            if total > UINT128_MAX:
                raise ConversionHeld(
                    totals.licence_id, totals.period, info.clause.source,
                    f"bucket {index}'s {column} with its converted parts, {total}, exceeds uint128",
                )  # fmt: skip
    return ConvertedReport(rows[: len(buckets)], rows[len(buckets) :], fx)


def _missing_days(
    err: RateMissing,
    rule: FxRule,
    book: RateBook,
    source: str,
    base: str,
    sale: str,
    licence: str,
    start: date,
    end: date,
) -> list[str]:
    """The days a rule lacks a rate of ``sale`` on: every day of the span searched when none was
    published, every published day without a quote needed (period-average), or the day chosen."""
    if err.period is not None:
        return [_span(*err.period)]
    if rule is FxRule.PERIOD_AVERAGE:
        return [
            d.isoformat()
            for d in book.published_days(source, base, start, end)
            if _lacks(book.quotes(source, base, d), sale, base) or _lacks(book.quotes(source, base, d), licence, base)
        ]
    assert err.day is not None
    return [err.day.isoformat()]


def prepare_conversions(
    outbox: Outbox,
    conn: Connection,
    info: LicenceInfo,
    totals: PeriodTotals,
    earlier: Sequence[StoredReport] = (),
    fixed_tables: Sequence[FixedTable] = (),
) -> ConvertedReport:
    """``convert_report`` over the outbox's stored quotes of the clause's source for the period,
    reusing the rates ``earlier`` reports of the period signed (module docstring); under rule
    fixed over the table of ``fixed_tables`` (the licence's, from LicenceFx) in force at the
    period's start. ConversionHeld when a rate is missing or cannot be had."""
    clause = info.clause
    if not any(g.gross or g.deductions for g in totals.foreign) or not clause.converts:
        return convert_report(info, totals, "", RateBook())
    if clause.rule is FxRule.FIXED:
        table = in_force(fixed_tables, info.rule.period_bounds(totals.period)[0])
        return convert_report(info, totals, "", RateBook(), fixed=table)
    licence_id, period, source = totals.licence_id, totals.period, clause.source
    bases = outbox.source_bases(conn, source)
    if len(bases) > 1:
        reason = (
            f"the source {source} has quotes under {len(bases)} bases, {' and '.join(bases)}: which one the "
            "licence's rates are derived from is ambiguous; remove one base's quotes from the outbox"
        )
        raise ConversionHeld(licence_id, period, source, reason)
    start, end = rate_days(info, period)
    known: dict[str, tuple[int, int]] = {}
    if clause.rule in _PERIOD_RULES:
        for report in earlier:  # in adjustment order: the latest signed rate of a currency counts
            if report.state != "rejected":
                known.update({c.currency: (c.rate, c.rate_day) for c in records_of(report)})
    if not bases:
        currencies = sorted(
            {g.currency for g in totals.foreign if (g.gross or g.deductions) and g.currency not in known}
        )
        if not currencies:
            return convert_report(info, totals, "", RateBook(), known=known)
        named = [MissingRate(c, (_span(start, end),), f"no {source} rate is stored at all") for c in currencies]
        reason = f"waits for {source} rates of {', '.join(currencies)} for {_span(start, end)}: none is stored"
        raise ConversionHeld(licence_id, period, source, reason, named)
    book = outbox.rate_book(conn, source, bases[0], start, end)
    return convert_report(info, totals, bases[0], book, known=known)
