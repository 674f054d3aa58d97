"""Rates derived from published quotes (intake.fx): cross rates, the clause's rules, and the
conversion the ledger checks; every expected value is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from intake.errors import RateError, RateMissing, RateOutOfBounds
from intake.fx import (
    MAX_RATE,
    MIN_RATE,
    RATE_SCALE,
    FxRule,
    RateBook,
    convert,
    cross_rate,
    parse_rate,
    parse_rates,
    rate_for,
)

# Under base EUR: 1 EUR = 1.0856 USD = 162.25 JPY (2025-01-02), = 1.0856 USD = 160.01 JPY (2025-01-03).
DAY_1 = {"USD": parse_rate("1.0856"), "JPY": parse_rate("162.25"), "KWD": parse_rate("0.3345")}
DAY_2 = {"USD": parse_rate("1.0856"), "JPY": parse_rate("160.01")}
JANUARY = (date(2025, 1, 1), date(2025, 2, 1))  # [start, end)

# JPY -> USD on day 1 = q(USD) / q(JPY) = 1.0856 / 162.25 = 46 / 6875 = 0.006690909090909090|9090...
# rounded down at 18 decimals:
JPY_USD_DAY_1 = 6_690_909_090_909_090
# JPY -> USD on day 2 = 1.0856 / 160.01 = 2714 / 400025 = 0.006784575964002249|8593...
JPY_USD_DAY_2 = 6_784_575_964_002_249


def _book() -> RateBook:
    """Two January days, from a source that has published through the end of March (its later
    quotes are not the periods' here): January's rates are complete."""
    book = RateBook()
    for day, quotes in ((date(2025, 1, 2), DAY_1), (date(2025, 1, 3), DAY_2)):
        for currency, quote in quotes.items():
            book.add("ECB", "EUR", day, currency, quote)
    book.note_published_through("ECB", "EUR", date(2025, 3, 31))
    return book


def test_cross_rate_is_the_quote_of_the_licence_currency_over_that_of_the_sale_currency() -> None:
    assert cross_rate(DAY_1, "JPY", "USD", "EUR") == JPY_USD_DAY_1 == 6690909090909090
    assert cross_rate(DAY_2, "JPY", "USD", "EUR") == JPY_USD_DAY_2
    # USD -> JPY = 162.25 / 1.0856 = 149.456521739130434782|6086...
    assert cross_rate(DAY_1, "USD", "JPY", "EUR") == 149_456_521_739_130_434_782
    # KWD -> USD = 1.0856 / 0.3345 = 3.245440956651718983|5575...
    assert cross_rate(DAY_1, "KWD", "USD", "EUR") == 3_245_440_956_651_718_983


def test_the_base_has_quote_one() -> None:
    # EUR -> USD = q(USD) / q(EUR) = 1.0856 / 1 exactly; USD -> EUR = 1 / 1.0856 = 0.921149594694178334|5615...
    assert cross_rate(DAY_1, "EUR", "USD", "EUR") == 1_085_600_000_000_000_000
    assert cross_rate(DAY_1, "USD", "EUR", "EUR") == 921_149_594_694_178_334
    # Under base USD, with 1 USD = 0.8 EUR: EUR -> USD = q(USD) / q(EUR) = 1 / 0.8 = 1.25.
    assert cross_rate({"EUR": parse_rate("0.8")}, "EUR", "USD", "USD") == 1_250_000_000_000_000_000


def test_the_same_currency_is_rate_one_without_any_quote() -> None:
    assert cross_rate({}, "JPY", "JPY", "EUR") == RATE_SCALE == 10**18


def test_a_missing_quote_names_the_currency_the_day_and_the_source() -> None:
    with pytest.raises(RateMissing, match=r"^no ECB rate of CHF \(base EUR\) for 2025-01-02$") as caught:
        cross_rate(DAY_1, "CHF", "USD", "EUR", day=date(2025, 1, 2), source="ECB")
    assert (caught.value.currency, caught.value.day, caught.value.source) == ("CHF", date(2025, 1, 2), "ECB")
    with pytest.raises(RateMissing, match=r"^no ECB rate of GBP \(base EUR\) for 2025-01-02$"):
        cross_rate(DAY_1, "USD", "GBP", "EUR", day=date(2025, 1, 2), source="ECB")  # the licence's, too


def test_a_derived_rate_outside_the_bounds_names_the_bound() -> None:
    extreme = {"USD": parse_rate("1000000000"), "JPY": parse_rate("0.000000001")}
    # JPY -> USD = 10^9 / 10^-9 = 10^18 > 10^9
    with pytest.raises(RateOutOfBounds, match=r"is above the maximum rate 1000000000 \(MAX_RATE\)$") as caught:
        cross_rate(extreme, "JPY", "USD", "EUR", day=date(2025, 1, 2), source="ECB")
    assert caught.value.rate == 10**36
    assert str(caught.value).startswith("the ECB rate of JPY in USD for 2025-01-02, 1000000000000000000, ")
    # USD -> JPY = 10^-18, which rounds to 1 / 10^18
    with pytest.raises(RateOutOfBounds, match=r"0.000000000000000001, is below the minimum rate 0.000000001"):
        cross_rate(extreme, "USD", "JPY", "EUR")


def test_period_average_is_the_mean_of_the_exact_daily_rates_rounded_down_once() -> None:
    rate, day = rate_for("period-average", _book(), "ECB", "EUR", "JPY", "USD", *JANUARY)

    # (46/6875 + 2714/400025) / 2 = 0.006690909090909090909... + 0.006784575964002249859...
    #   = 0.013475485054911340768... / 2 = 0.006737742527455670|384...  -> 6737742527455670
    # The mean of the rounded daily rates would be (6690909090909090 + 6784575964002249) / 2
    # = 6737742527455669.5 -> ...669: one unit less, which is why the mean is taken of exact values.
    assert (rate, day) == (6_737_742_527_455_670, date(2025, 1, 3))
    assert rate - 1 == (JPY_USD_DAY_1 + JPY_USD_DAY_2) // 2


def test_period_average_of_the_base_is_the_plain_mean_of_its_quotes() -> None:
    book = _book()
    book.add("ECB", "EUR", date(2025, 1, 3), "KWD", parse_rate("0.3355"))
    # EUR -> USD: (1.0856 + 1.0856) / 2 = 1.0856; EUR -> KWD: (0.3345 + 0.3355) / 2 = 0.335 exactly.
    assert rate_for(FxRule.PERIOD_AVERAGE, book, "ECB", "EUR", "EUR", "USD", *JANUARY) == (
        1_085_600_000_000_000_000,
        date(2025, 1, 3),
    )
    assert rate_for(FxRule.PERIOD_AVERAGE, book, "ECB", "EUR", "EUR", "KWD", *JANUARY)[0] == 335 * 10**15


def test_period_end_is_the_last_published_day_of_the_period() -> None:
    assert rate_for("period-end", _book(), "ECB", "EUR", "JPY", "USD", *JANUARY) == (JPY_USD_DAY_2, date(2025, 1, 3))
    # A period ending before the second day: its last published day is the first.
    assert rate_for("period-end", _book(), "ECB", "EUR", "JPY", "USD", date(2025, 1, 1), date(2025, 1, 3)) == (
        JPY_USD_DAY_1,
        date(2025, 1, 2),
    )


def test_sale_date_is_the_sale_day_or_the_last_published_day_before_it_inside_the_period() -> None:
    book = _book()

    def on(sale_day: date) -> tuple[int, date | None]:
        return rate_for("sale-date", book, "ECB", "EUR", "JPY", "USD", *JANUARY, sale_day=sale_day)

    assert on(date(2025, 1, 2)) == (JPY_USD_DAY_1, date(2025, 1, 2))
    assert on(date(2025, 1, 3)) == (JPY_USD_DAY_2, date(2025, 1, 3))
    assert on(date(2025, 1, 5)) == (JPY_USD_DAY_2, date(2025, 1, 3))  # a Sunday: Friday's rate
    # 1 January: nothing published on it, nor before it inside the period (December's rate does not count).
    book.add("ECB", "EUR", date(2024, 12, 31), "JPY", parse_rate("163.1"))
    with pytest.raises(RateMissing, match=r"^no ECB rate of JPY \(base EUR\) published from 2025-01-01 to 2025-01-01$"):
        on(date(2025, 1, 1))
    with pytest.raises(ValueError, match=r"the sale day 2025-02-01 is outside the period 2025-01-01\.\.2025-02-01"):
        on(date(2025, 2, 1))
    with pytest.raises(ValueError, match="rule sale-date needs the sale day"):
        rate_for("sale-date", book, "ECB", "EUR", "JPY", "USD", *JANUARY)


def test_a_period_without_a_published_day_has_no_rate() -> None:
    for rule in ("period-average", "period-end"):
        with pytest.raises(
            RateMissing, match=r"^no ECB rate of JPY \(base EUR\) published from 2025-02-01 to 2025-02-28$"
        ):
            rate_for(rule, _book(), "ECB", "EUR", "JPY", "USD", date(2025, 2, 1), date(2025, 3, 1))
    with pytest.raises(RateMissing, match=r"no Fed rate of JPY \(base EUR\)"):  # another source's days
        rate_for("period-end", _book(), "Fed", "EUR", "JPY", "USD", *JANUARY)


def test_a_published_day_without_the_currency_is_missing_not_skipped() -> None:
    book = _book()
    book.add("ECB", "EUR", date(2025, 1, 6), "USD", parse_rate("1.09"))  # no JPY that day
    for rule in ("period-average", "period-end"):
        with pytest.raises(RateMissing, match=r"^no ECB rate of JPY \(base EUR\) for 2025-01-06$"):
            rate_for(rule, book, "ECB", "EUR", "JPY", "USD", *JANUARY)


def test_fixed_is_the_clause_rate_without_a_day() -> None:
    fixed = parse_rate("0.0067")
    assert rate_for("fixed", RateBook(), "ECB", "EUR", "JPY", "USD", *JANUARY, fixed=fixed) == (
        6_700_000_000_000_000,
        None,
    )
    with pytest.raises(ValueError, match="rule fixed needs the clause's rate of JPY"):
        rate_for("fixed", RateBook(), "ECB", "EUR", "JPY", "USD", *JANUARY)
    with pytest.raises(RateOutOfBounds, match=r"^the fixed rate of JPY in USD, 0, is zero"):
        rate_for("fixed", RateBook(), "ECB", "EUR", "JPY", "USD", *JANUARY, fixed=0)
    with pytest.raises(RateOutOfBounds, match="is above the maximum rate 1000000000"):
        rate_for("fixed", RateBook(), "ECB", "EUR", "JPY", "USD", *JANUARY, fixed=MAX_RATE + 1)
    assert rate_for("fixed", RateBook(), "ECB", "EUR", "JPY", "USD", *JANUARY, fixed=MIN_RATE)[0] == MIN_RATE


def test_the_same_currency_needs_no_rate_under_any_rule() -> None:
    for rule in FxRule:
        assert rate_for(rule, RateBook(), "ECB", "EUR", "USD", "USD", *JANUARY) == (10**18, None)


def test_rule_none_converts_nothing_and_an_unknown_rule_is_refused() -> None:
    with pytest.raises(RateError, match="the licence converts nothing \\(rule none\\): a sale in JPY cannot be paid"):
        rate_for("none", _book(), "ECB", "EUR", "JPY", "USD", *JANUARY)
    with pytest.raises(ValueError, match="'spot' is not a valid FxRule"):
        rate_for("spot", _book(), "ECB", "EUR", "JPY", "USD", *JANUARY)
    with pytest.raises(ValueError, match="is empty"):
        rate_for("period-end", _book(), "ECB", "EUR", "JPY", "USD", date(2025, 1, 2), date(2025, 1, 2))
    assert [(rule.value, rule.number) for rule in FxRule] == [
        ("none", 0), ("period-average", 1), ("period-end", 2), ("sale-date", 3), ("fixed", 4),
    ]  # fmt: skip


def test_a_book_refuses_two_rates_for_one_day_and_takes_a_parsed_file() -> None:
    book = RateBook()
    parsed = parse_rates(
        [b"date,currency,rate\n", b"2025-01-02,USD,1.0856\n", b"2025-01-02,JPY,162.25\n"],
        base="EUR",
        today=date(2025, 1, 2),
    )
    book.add_file("ECB", parsed)
    assert book.quotes("ECB", "EUR", date(2025, 1, 2)) == {"USD": DAY_1["USD"], "JPY": DAY_1["JPY"]}
    book.add("ECB", "EUR", date(2025, 1, 2), "USD", DAY_1["USD"])  # the same again: fine
    with pytest.raises(ValueError, match="two rates"):
        book.add("ECB", "EUR", date(2025, 1, 2), "USD", parse_rate("1.09"))


def test_convert_is_the_ledger_formula_rounded_down() -> None:
    # 12,345 JPY (0 minor units) at 0.006690909090909090 into USDX (6 decimals):
    # 12345 * 6690909090909090 * 10^6 / (10^0 * 10^18) = 82599272727272716050 / 10^12
    # = 82599272.727272716050 -> 82599272 units = 82.599272 USDX
    assert convert(12_345, 0, JPY_USD_DAY_1, 6) == 82_599_272
    # 1.234 KWD (1234 fils, 3 minor units) at 3.245440956651718983 into USDX:
    # 1234 * 3245440956651718983 * 10^6 / (10^3 * 10^18) = 4004874140508221225022 / 10^15
    # = 4004874.140508221225022 -> 4004874 = 4.004874 USDX
    assert convert(1_234, 3, 3_245_440_956_651_718_983, 6) == 4_004_874
    # 1 yen into an 18-decimal token: exactly the rate.
    assert convert(1, 0, JPY_USD_DAY_1, 18) == JPY_USD_DAY_1
    # 1.0001 CLF (4 minor units) at rate 1 into a 2-decimal token: 10001 * 10^18 * 10^2 / (10^4 * 10^18)
    # = 100.01 -> 100 (the hundredth of a token unit is rounded away)
    assert convert(10_001, 4, RATE_SCALE, 2) == 100
    assert convert(0, 2, JPY_USD_DAY_1, 6) == 0
    assert convert(2**128 - 1, 0, MAX_RATE, 0) == (2**128 - 1) * 10**9  # no overflow off chain


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-1, 0, RATE_SCALE, 6), ValueError, "amount must be a non-negative integer, not -1"),
        ((True, 0, RATE_SCALE, 6), ValueError, "amount must be a non-negative integer, not True"),
        ((2**128, 0, RATE_SCALE, 6), ValueError, "does not fit uint128"),
        ((1, 5, RATE_SCALE, 6), ValueError, r"minor units 5 is not an ISO 4217 exponent \(0..4\)"),
        ((1, -1, RATE_SCALE, 6), ValueError, "minor units must be a non-negative integer"),
        ((1, 0, RATE_SCALE, -1), ValueError, "token decimals must be a non-negative integer"),
        ((1, 0, 0, 6), RateOutOfBounds, "the conversion's rate, 0, is zero"),
        ((1, 0, MAX_RATE + 1, 6), RateOutOfBounds, "is above the maximum rate"),
    ],
)
def test_convert_refuses_what_the_ledger_would_not_take(
    args: tuple[int, int, int, int], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        convert(*args)
