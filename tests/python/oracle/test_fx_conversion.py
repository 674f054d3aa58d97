"""A period's sales in other currencies: summed per (bucket, currency[, sale day]) in minor units,
then converted at the licence's clause's rate from stored quotes, exactly as the ledger converts
(``floor(amount * rate * 10^6 / (10^minorUnits * 10^18))`` for the testkit's USD token of 6
decimals), every figure below worked out by hand.

Licence 1 of the testkit: USD with 6 decimals, period 0 = 2025-01-01..2025-03-31 (90 days).
ECB quotes (base EUR: units of a currency one euro buys), the same in every test:

    day         USD   JPY   KWD
    2025-01-02  1.25  160   0.40
    2025-01-03  1.20  150   0.30

so a unit of each currency is worth, in USD (q(USD) / q(currency)):

    day         JPY                   EUR    KWD
    2025-01-02  1.25/160 = 0.0078125  1.25   1.25/0.40 = 3.125
    2025-01-03  1.20/150 = 0.008      1.20   1.20/0.30 = 4
    average     0.00790625            1.225  3.5625
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from oracle_testkit import TERM_START, licence

from intake.fx import FxClause, FxRule, RateBook, parse_rates
from intake.judge import judge
from intake.validate import InMemorySeenLines, ValidLine
from oracle.aggregate import Aggregator, ForeignSums, PeriodTotals
from oracle.conversion import (
    ConversionHeld,
    ConversionRecord,
    convert_report,
    prepare_conversions,
    rate_days,
    with_conversions,
)
from outbox import Outbox
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.terms import Conversion, Report

DAY = 86_400
JAN_2, JAN_3 = TERM_START + DAY, TERM_START + 2 * DAY  # 00:00 UTC, as rate days are signed
US, GB, SOFTWARE, ONLINE = (
    territory_index("US"),
    territory_index("GB"),
    field_index("software"),
    channel_index("online"),
)
QUOTES = (
    "2025-01-02,USD,1.25", "2025-01-02,JPY,160", "2025-01-02,KWD,0.40",
    "2025-01-03,USD,1.20", "2025-01-03,JPY,150", "2025-01-03,KWD,0.30",
)  # fmt: skip
AVERAGE = FxClause(FxRule.PERIOD_AVERAGE, "ECB")
PERIOD_END = FxClause(FxRule.PERIOD_END, "ECB")
SALE_DATE = FxClause(FxRule.SALE_DATE, "ECB")
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,action,returns_line_id"


def _rates(*lines: str, base: str = "EUR") -> object:
    text = "date,currency,rate\n" + "".join(f"{line}\n" for line in lines)
    return parse_rates(text.encode().splitlines(keepends=True), base=base, today=date(2025, 4, 30))


def _book(*lines: str, through: date | None = date(2025, 3, 31)) -> RateBook:
    """The quotes, from a source that has published through ``through`` (by default the period's
    last day: its rates are complete; its quotes after 2025-01-03 are not needed here)."""
    book = RateBook()
    book.add_file("ECB", _rates(*lines))  # type: ignore[arg-type]
    if through is not None:
        book.note_published_through("ECB", "EUR", through)
    return book


def _row(line_id: str, gross: str, currency: str, *, deductions: str = "0", day: str = "2025-01-05",
         territory: str = "US", units: str = "1", action: str = "", ref: str = "") -> str:  # fmt: skip
    return f"{line_id},1,{day},{territory},software,online,{units},{gross},{deductions},{currency},{action},{ref}"


def _totals(*rows: str, clause: FxClause = AVERAGE) -> PeriodTotals:
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    info = licence(fx=clause)
    verdicts, _ = judge(("csv", data), {1: info}, InMemorySeenLines(), None, chain_time=TERM_START + 100 * DAY)
    aggregator = Aggregator(foreign_by_day=clause.rule is FxRule.SALE_DATE)
    for item in verdicts:
        assert isinstance(item, ValidLine), item
        aggregator.add(item)
    (totals,) = aggregator.finish()
    return totals


def _convert(*rows: str, clause: FxClause = AVERAGE, quotes: tuple[str, ...] = QUOTES) -> object:
    return convert_report(licence(fx=clause), _totals(*rows, clause=clause), "EUR", _book(*quotes))


# ------------------------------------------------------------------ aggregation


def test_foreign_lines_count_in_their_buckets_units_and_sum_per_currency_in_minor_units() -> None:
    totals = _totals(
        _row("U-1", "100.00", "USD", units="2"),
        _row("E-1", "123.45", "EUR", deductions="10.50"),
        _row("E-2", "0.55", "EUR"),
        _row("J-1", "12345", "JPY", units="3"),
        _row("J-2", "1000", "JPY", territory="GB"),
    )
    (gb, us) = totals.buckets  # by (year, territory, field, channel): GB (82) before US (232)
    assert (us.territory, us.units, us.gross, us.deductions) == (US, 7, 100_000_000, 0)  # USD only in gross
    assert (gb.territory, gb.units, gb.gross) == (GB, 1, 0)
    assert totals.foreign == (
        ForeignSums(0, "JPY", 0, None, 1_000, 0),  # bucket 0 is GB
        ForeignSums(1, "EUR", 2, None, 12_400, 1_050),  # 123.45 + 0.55 = 124.00 EUR = 12,400 cents
        ForeignSums(1, "JPY", 0, None, 12_345, 0),
    )
    assert totals.line_count == 5


def test_per_sale_day_under_the_rule_sale_date() -> None:
    totals = _totals(
        _row("J-1", "100", "JPY", day="2025-01-02"),
        _row("J-2", "200", "JPY", day="2025-01-03"),
        _row("J-3", "300", "JPY", day="2025-01-03"),
        clause=SALE_DATE,
    )
    assert totals.foreign == (ForeignSums(0, "JPY", 0, JAN_2, 100, 0), ForeignSums(0, "JPY", 0, JAN_3, 500, 0))


def test_returns_and_replaces_take_away_in_the_currency_of_the_version_they_take_away() -> None:
    totals = _totals(
        _row("S-1", "123.45", "EUR", units="2"),
        _row("S-1", "12345", "JPY", units="2", action="replace"),  # the EUR version is taken away
        _row("R-1", "-10", "KWD", units="-1"),  # a credit note in KWD
    )
    (sales,) = totals.buckets
    (taken,) = totals.returned
    assert (sales.units, sales.gross, taken.units, taken.gross) == (4, 0, 3, 0)  # amounts all foreign
    assert totals.foreign == (
        ForeignSums(0, "EUR", 2, None, 12_345, 0),  # the sale as first read (replaced in the same report)
        ForeignSums(0, "JPY", 0, None, 12_345, 0),
        ForeignSums(1, "EUR", 2, None, 12_345, 0),  # returned[0] is bucket 1: 10.000 KWD and the old EUR
        ForeignSums(1, "KWD", 3, None, 10_000, 0),
    )


# ------------------------------------------------------------------ conversion, by hand


def test_jpy_at_the_ecb_average() -> None:
    converted = _convert(_row("J-1", "12345", "JPY"))
    # rate = (1.25/160 + 1.20/150) / 2 = (0.0078125 + 0.008) / 2 = 0.00790625 -> 7,906,250,000,000,000
    # 12,345 yen * 0.00790625 = 97.60265625 USD -> floor to 6 decimals: 97.602656 = 97,602,656 units
    assert converted.fx == [ConversionRecord(0, "JPY", 0, JAN_3, 7_906_250_000_000_000, 12_345, 0)]
    assert converted.buckets == [[0, US, SOFTWARE, ONLINE, 1, 97_602_656, 0]]
    assert converted.fx[0].converted(6) == (97_602_656, 0)
    # an average's day is the last published day of the period: 2025-01-03
    assert rate_days(licence(), 0) == (date(2025, 1, 1), date(2025, 4, 1))


def test_eur_cents_at_the_period_end() -> None:
    converted = _convert(_row("E-1", "123.45", "EUR", deductions="10.50"), clause=PERIOD_END)
    # EUR is the base: rate = q(USD) / 1 = 1.20 on the last published day, 2025-01-03
    # gross 12,345 cents * 1.20 = 148.14 USD = 148,140,000; deductions 1,050 cents * 1.20 = 12.60 = 12,600,000
    assert converted.fx == [ConversionRecord(0, "EUR", 2, JAN_3, 1_200_000_000_000_000_000, 12_345, 1_050)]
    assert converted.buckets == [[0, US, SOFTWARE, ONLINE, 1, 148_140_000, 12_600_000]]


def test_a_kwd_line_in_fils() -> None:
    converted = _convert(_row("K-1", "1.234", "KWD"))
    # rate = (1.25/0.40 + 1.20/0.30) / 2 = (3.125 + 4) / 2 = 3.5625
    # 1,234 fils (1.234 KWD) * 3.5625 = 4.396125 USD = 4,396,125 units
    assert converted.fx == [ConversionRecord(0, "KWD", 3, JAN_3, 3_562_500_000_000_000_000, 1_234, 0)]
    assert converted.buckets == [[0, US, SOFTWARE, ONLINE, 1, 4_396_125, 0]]


def test_a_mixed_bucket_is_its_usd_plus_each_converted_part() -> None:
    converted = _convert(
        _row("U-1", "100.00", "USD"),
        _row("E-1", "123.45", "EUR"),
        _row("J-1", "12345", "JPY"),
    )
    # USD 100.00 = 100,000,000 units, as given
    # EUR at (1.25 + 1.20) / 2 = 1.225: 123.45 * 1.225 = 151.22625 -> 151,226,250
    # JPY at 0.00790625: 12,345 * 0.00790625 = 97.60265625 -> 97,602,656 (rounded down)
    # bucket: 100,000,000 + 151,226,250 + 97,602,656 = 348,828,906
    assert converted.fx == [
        ConversionRecord(0, "EUR", 2, JAN_3, 1_225_000_000_000_000_000, 12_345, 0),
        ConversionRecord(0, "JPY", 0, JAN_3, 7_906_250_000_000_000, 12_345, 0),
    ]
    assert converted.buckets == [[0, US, SOFTWARE, ONLINE, 3, 348_828_906, 0]]


def test_the_rate_and_each_amount_are_rounded_down_once() -> None:
    converted = _convert(
        _row("J-1", "12345", "JPY", day="2025-01-06"),
        clause=SALE_DATE,
        quotes=("2025-01-06,USD,1.10", "2025-01-06,JPY,165"),
    )
    # rate = 1.10 / 165 = 1/150 = 0.00666... -> floor to 18 decimals: 0.006666666666666666
    # 12,345 * 6,666,666,666,666,666 * 10^6 / 10^18 = 82,299,999.99999999177 -> 82,299,999
    # (12,345 / 150 = 82.30 exactly: the ledger, converting the same way, also pays 82.299999)
    assert converted.fx == [ConversionRecord(0, "JPY", 0, TERM_START + 5 * DAY, 6_666_666_666_666_666, 12_345, 0)]
    assert converted.buckets[0][5] == 82_299_999


def test_sale_date_with_two_days_gives_two_conversions() -> None:
    converted = _convert(
        _row("J-1", "10000", "JPY", day="2025-01-02"),
        _row("J-2", "20000", "JPY", day="2025-01-03"),
        _row("J-3", "1000", "JPY", day="2025-01-04"),  # nothing published that day: the 3rd's rate
        clause=SALE_DATE,
    )
    # 2025-01-02: 10,000 yen * 0.0078125 = 78.125 USD = 78,125,000
    # 2025-01-03: (20,000 + 1,000) yen * 0.008 = 168 USD = 168,000,000 (one conversion per rate day)
    # bucket: 78,125,000 + 168,000,000 = 246,125,000
    assert converted.fx == [
        ConversionRecord(0, "JPY", 0, JAN_2, 7_812_500_000_000_000, 10_000, 0),
        ConversionRecord(0, "JPY", 0, JAN_3, 8_000_000_000_000_000, 21_000, 0),
    ]
    assert converted.buckets == [[0, US, SOFTWARE, ONLINE, 3, 246_125_000, 0]]


def test_sums_of_one_currency_in_two_exponents_are_one_conversion_at_the_finer() -> None:
    # Two sale days of one bucket taking 2025-01-03's rate, read with EUR at exponents 2 and 3 (as
    # if ISO 4217 had changed it between two feeds): 1.00 EUR = 100 cents = 1,000 thousandths.
    totals = PeriodTotals(
        1, 0, 2, _totals(_row("E-1", "1", "EUR")).buckets, bytes(32), (),
        (ForeignSums(0, "EUR", 2, JAN_3, 100, 0), ForeignSums(0, "EUR", 3, JAN_3 + DAY, 1_000, 0)),
    )  # fmt: skip
    converted = convert_report(licence(fx=SALE_DATE), totals, "EUR", _book(*QUOTES))
    # 2,000 thousandths (2.00 EUR) * 1.20 = 2.40 USD = 2,400,000 units
    assert converted.fx == [ConversionRecord(0, "EUR", 3, JAN_3, 1_200_000_000_000_000_000, 2_000, 0)]
    assert converted.buckets[0][5] == 2_400_000


def test_conversions_go_by_bucket_then_currency_and_returned_buckets_follow_the_buckets() -> None:
    converted = _convert(
        _row("E-1", "100.00", "EUR"),  # US
        _row("J-1", "1000", "JPY", territory="GB"),
        _row("K-1", "0.001", "KWD", territory="GB"),
        _row("R-1", "-10.00", "EUR", units="-1"),  # returned, US
    )
    # GB: JPY 1,000 * 0.00790625 = 7.90625 USD -> 7,906,250; KWD 1 fils * 3.5625 = 0.0035625 -> 3,562
    # US: EUR 10,000 cents * 1.225 = 122.50 USD -> 122,500,000; returned US: 1,000 cents * 1.225 = 12,250,000
    assert [(c.bucket, c.currency, c.gross) for c in converted.fx] == [
        (0, "JPY", 1_000),
        (0, "KWD", 1),
        (1, "EUR", 10_000),
        (2, "EUR", 1_000),  # returned[0]: index len(buckets) + 0
    ]
    assert [b[5] for b in converted.buckets] == [7_906_250 + 3_562, 122_500_000]
    assert converted.returned == [[0, US, SOFTWARE, ONLINE, 1, 12_250_000, 0]]


def test_a_period_in_the_licences_currency_or_of_zero_amounts_needs_no_rate() -> None:
    converted = _convert(_row("U-1", "5", "USD"), _row("J-0", "0", "JPY", units="4"), quotes=())
    assert (converted.fx, converted.buckets) == ([], [[0, US, SOFTWARE, ONLINE, 5, 5_000_000, 0]])


def test_the_seam_gives_the_signed_report_its_conversions_member_by_member() -> None:
    report = Report(1, 0, 1, 2, bytes(32), 1, ())
    signed = with_conversions(report, [ConversionRecord(0, "JPY", 0, JAN_3, 7_906_250_000_000_000, 12_345, 45)])
    assert signed.fx == (Conversion(0, "JPY", 0, JAN_3, 7_906_250_000_000_000, 12_345, 45),)
    assert signed.as_abi()[-1] == [(0, b"JPY", 0, JAN_3, 7_906_250_000_000_000, 12_345, 45)]
    assert replace(signed, fx=()) == report  # nothing else changes


# ------------------------------------------------------------------ missing rates hold the report


def test_a_day_without_a_quote_holds_the_report_naming_currency_and_day() -> None:
    quotes = (*QUOTES[:3], "2025-01-03,USD,1.20", "2025-01-03,KWD,0.30")  # no JPY on 2025-01-03
    with pytest.raises(ConversionHeld) as held:
        _convert(_row("J-1", "12345", "JPY"), _row("K-1", "1", "KWD"), quotes=quotes)
    assert held.value.waits_for_rates
    assert [(m.currency, m.days, m.reason) for m in held.value.missing] == [
        ("JPY", ("2025-01-03",), "no ECB rate of JPY (base EUR) for 2025-01-03")
    ]
    assert (held.value.licence_id, held.value.period, held.value.source, held.value.base) == (1, 0, "ECB", "EUR")
    assert str(held.value) == "licence 1 period 0: waits for ECB rates (base EUR) of JPY for 2025-01-03"


def test_every_currency_and_day_without_a_rate_is_named() -> None:
    with pytest.raises(ConversionHeld) as held:
        _convert(
            _row("J-1", "1", "JPY", day="2025-01-01"),  # before anything was published
            _row("J-2", "1", "JPY", day="2025-01-03"),
            _row("C-1", "1", "CHF", day="2025-01-05"),  # never quoted
            clause=SALE_DATE,
        )
    assert [(m.currency, m.days) for m in held.value.missing] == [
        ("CHF", ("2025-01-03",)),  # the day sale-date takes for the 5th, without a CHF quote
        ("JPY", ("2025-01-01",)),
    ]


def test_a_period_without_any_published_day_names_the_whole_period() -> None:
    with pytest.raises(ConversionHeld) as held:
        _convert(_row("J-1", "1", "JPY"), quotes=())
    assert [(m.currency, m.days) for m in held.value.missing] == [("JPY", ("2025-01-01..2025-03-31",))]


@pytest.mark.parametrize("clause", [AVERAGE, PERIOD_END], ids=["period-average", "period-end"])
def test_a_period_rate_waits_until_the_source_has_published_through_the_periods_last_day(
    clause: FxClause,
) -> None:
    rows = (_row("J-1", "12345", "JPY"), _row("E-1", "1.00", "EUR"))
    with pytest.raises(ConversionHeld) as held:
        convert_report(licence(fx=clause), _totals(*rows, clause=clause), "EUR", _book(*QUOTES, through=None))
    # Every currency waits for the days not published yet, and the reason names the last one published.
    assert [(m.currency, m.days) for m in held.value.missing] == [
        ("EUR", ("2025-01-04..2025-03-31",)),
        ("JPY", ("2025-01-04..2025-03-31",)),
    ]
    assert held.value.waits_for_rates
    assert held.value.missing[1].reason == (
        f"ECB has published rates (base EUR) only up to 2025-01-03: the {clause.rule.value} rate of JPY in USD needs "
        "them through 2025-03-31"
    )
    assert held.value.reason == (
        "waits for ECB rates (base EUR) of EUR for 2025-01-04..2025-03-31; JPY for 2025-01-04..2025-03-31: "
        "ECB has published only up to 2025-01-03"
    )
    # Published through 2025-03-30 is not enough; a quote of the last day itself is.
    with pytest.raises(ConversionHeld):
        convert_report(licence(fx=clause), _totals(*rows, clause=clause), "EUR",
                       _book(*QUOTES, through=date(2025, 3, 30)))  # fmt: skip
    converted = convert_report(
        licence(fx=clause), _totals(*rows, clause=clause), "EUR", _book(*QUOTES, "2025-03-31,USD,1.10",
                                                                         "2025-03-31,JPY,110", through=None)
    )  # fmt: skip
    if clause is AVERAGE:  # JPY: (0.0078125 + 0.008 + 1.10/110 = 0.01) / 3 = 0.008604166666666666|66...
        assert [r.rate for r in converted.fx] == [(1_250 + 1_200 + 1_100) * 10**15 // 3, 8_604_166_666_666_666]
    else:  # the last day's: EUR 1.10, JPY 0.01
        assert [r.rate for r in converted.fx] == [1_100 * 10**15, 10**16]


def test_a_sale_date_rate_from_a_day_before_the_sale_waits_until_the_source_has_published_through_the_sale_day() -> (
    None
):
    rows = (_row("J-1", "100", "JPY", day="2025-01-05"),)  # a Sunday: the rate is Friday's once Monday is known
    with pytest.raises(ConversionHeld) as held:
        convert_report(licence(fx=SALE_DATE), _totals(*rows, clause=SALE_DATE), "EUR", _book(*QUOTES, through=None))
    assert [(m.currency, m.days) for m in held.value.missing] == [("JPY", ("2025-01-04..2025-01-05",))]
    assert held.value.missing[0].reason == (
        "ECB has published rates (base EUR) only up to 2025-01-03: the sale-date rate of JPY in USD needs them "
        "through 2025-01-05"
    )
    # A sale on a published day needs nothing later; a later quote makes Friday's the Sunday's rate.
    on_friday = (_row("J-1", "100", "JPY", day="2025-01-03"),)
    assert convert_report(licence(fx=SALE_DATE), _totals(*on_friday, clause=SALE_DATE), "EUR",
                          _book(*QUOTES, through=None)).fx == [
        ConversionRecord(0, "JPY", 0, JAN_3, 8_000_000_000_000_000, 100, 0)
    ]  # fmt: skip
    later = convert_report(
        licence(fx=SALE_DATE), _totals(*rows, clause=SALE_DATE), "EUR", _book(*QUOTES, through=date(2025, 1, 6))
    )
    assert later.fx == [ConversionRecord(0, "JPY", 0, JAN_3, 8_000_000_000_000_000, 100, 0)]


def test_a_licence_that_converts_nothing_holds_a_report_with_foreign_sums() -> None:
    totals = _totals(_row("J-1", "1", "JPY"))
    with pytest.raises(ConversionHeld, match="holds sales in JPY, but the licence's terms convert nothing") as held:
        convert_report(licence(), totals, "EUR", _book(*QUOTES))
    assert not held.value.waits_for_rates


def test_an_adjustment_converts_at_the_rate_its_period_was_signed_with() -> None:
    info, totals = licence(fx=AVERAGE), _totals(_row("J-1", "12345", "JPY"))
    signed = {"JPY": (8_000_000_000_000_000, JAN_2)}  # what an earlier report of the period signed
    converted = convert_report(info, totals, "EUR", _book(*QUOTES), known=signed)
    # 12,345 * 0.008 = 98.76 USD, not the average the quotes give now
    assert converted.fx == [ConversionRecord(0, "JPY", 0, JAN_2, 8_000_000_000_000_000, 12_345, 0)]
    assert converted.buckets[0][5] == 98_760_000


# ------------------------------------------------------------------ from the outbox's stored quotes


def test_prepared_from_the_outbox_as_from_the_quotes(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    info, totals = licence(fx=AVERAGE), _totals(_row("U-1", "100.00", "USD"), _row("J-1", "12345", "JPY"))
    try:
        with outbox.connect() as conn:
            with pytest.raises(ConversionHeld) as held:
                prepare_conversions(outbox, conn, info, totals)
            assert str(held.value) == (
                "licence 1 period 0: waits for ECB rates of JPY for 2025-01-01..2025-03-31: none is stored"
            )
            assert [(m.currency, m.days) for m in held.value.missing] == [("JPY", ("2025-01-01..2025-03-31",))]

            outbox.store_rates(conn, "ECB", _rates(*QUOTES), "ecb.csv")  # type: ignore[arg-type]
            # Stored through 2025-01-03 only: the average of two days would be a guess of the quarter's.
            with pytest.raises(ConversionHeld) as held:
                prepare_conversions(outbox, conn, info, totals)
            assert [(m.currency, m.days) for m in held.value.missing] == [("JPY", ("2025-01-04..2025-03-31",))]
            assert held.value.reason.endswith(": ECB has published only up to 2025-01-03")
            # A quote dated after the period (its last days had none: a weekend) completes it; the
            # quarter's average is still that of its own two days.
            outbox.store_rates(conn, "ECB", _rates("2025-04-01,USD,1.30"), "ecb-april.csv")  # type: ignore[arg-type]
            converted = prepare_conversions(outbox, conn, info, totals)
            assert converted == convert_report(info, totals, "EUR", _book(*QUOTES))
            assert converted.buckets[0][5] == 100_000_000 + 97_602_656

            outbox.store_rates(conn, "ECB", _rates("2025-01-02,EUR,0.80", base="USD"), "ecb-usd.csv")  # type: ignore[arg-type]
            with pytest.raises(ConversionHeld, match="the source ECB has quotes under 2 bases, EUR and USD") as held:
                prepare_conversions(outbox, conn, info, totals)
            assert not held.value.waits_for_rates
    finally:
        outbox.close()
