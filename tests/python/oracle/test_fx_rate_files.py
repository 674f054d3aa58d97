"""Rate files (intake.fx.parse_rates): ``date,currency,rate`` lines of quotes per unit of the base,
each bad line rejected naming its line, field, value and reason while the good ones are kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.errors import RateFileError
from intake.feed import Rejection
from intake.fx import MAX_RATE, MIN_RATE, Quote, RateFile, parse_rate, parse_rates, read_rate_file
from royalty_chain.codes import UnknownCodeError

TODAY = date(2025, 3, 31)


def _parse(text: str | bytes, base: str = "EUR") -> RateFile:
    data = text.encode() if isinstance(text, str) else text
    return parse_rates(data.splitlines(keepends=True), base=base, today=TODAY)


def test_good_lines_become_quotes_scaled_by_10_18_with_the_text_as_published() -> None:
    parsed = _parse("date,currency,rate\n2025-01-02,USD,1.0856\n2025-01-02,JPY,162.25\n2025-01-03,KWD,0.3345\n")

    assert parsed == RateFile(
        "EUR",
        [
            Quote(2, date(2025, 1, 2), "USD", 1_085_600_000_000_000_000, "1.0856"),  # 1.0856 * 10^18
            Quote(3, date(2025, 1, 2), "JPY", 162_250_000_000_000_000_000, "162.25"),
            Quote(4, date(2025, 1, 3), "KWD", 334_500_000_000_000_000, "0.3345"),
        ],
        [],
        0,
    )
    assert parsed.days == [date(2025, 1, 2), date(2025, 1, 3)]
    assert parsed.currencies == ["JPY", "KWD", "USD"]


def test_a_bom_crlf_endings_blank_lines_and_quoted_fields_are_tolerated() -> None:
    parsed = _parse(b'\xef\xbb\xbfdate,currency,rate\r\n\r\n2025-01-02,USD,1.0856\r\n"2025-01-02","GBP","0.8297"\r\n')

    assert [(q.line_number, q.currency, q.rate) for q in parsed.quotes] == [
        (3, "USD", 1_085_600_000_000_000_000),
        (4, "GBP", 829_700_000_000_000_000),
    ]
    assert parsed.rejections == []


def test_the_bounds_are_inclusive() -> None:
    parsed = _parse("date,currency,rate\n2025-01-02,USD,0.000000001\n2025-01-02,JPY,1000000000\n")

    assert [q.rate for q in parsed.quotes] == [MIN_RATE, MAX_RATE] == [10**9, 10**27]
    assert parsed.rejections == []


@pytest.mark.parametrize(
    ("line", "field", "value", "reason"),
    [
        # dates: YYYY-MM-DD, a real day, not after today
        ("2025-02-30,USD,1.0856", "date", "2025-02-30", "is not a date: February 2025 has 28 days"),
        ("2025-13-01,USD,1.0856", "date", "2025-13-01", "is not a date: there is no month 13"),
        ("20250102,USD,1.0856", "date", "20250102", "is not a date: write YYYY-MM-DD"),
        ("02/01/2025,USD,1.0856", "date", "02/01/2025", "is not a date: write YYYY-MM-DD"),
        ("2025-04-01,USD,1.0856", "date", "2025-04-01", "is in the future (today is 2025-03-31)"),
        (",USD,1.0856", "date", "", "is not a date: write YYYY-MM-DD"),
        # currencies: a known ISO 4217 code with a minor unit, not the base
        ("2025-01-02,usd,1.0856", "currency", "usd", "is not an ISO 4217 code (codes are uppercase: 'USD')"),
        ("2025-01-02,Usd,1.0856", "currency", "Usd", "is not an ISO 4217 code (codes are uppercase: 'USD')"),
        ("2025-01-02,ABC,1.0856", "currency", "ABC", "is not an active ISO 4217 currency code"),
        ("2025-01-02,HRK,7.5345", "currency", "HRK", "is not an active ISO 4217 currency code"),  # euro since 2023
        ("2025-01-02,US,1.0856", "currency", "US", "is not an active ISO 4217 currency code"),
        ("2025-01-02,,1.0856", "currency", "", "is empty"),
        (
            "2025-01-02,XAU,0.00041",
            "currency",
            "XAU",
            "is an ISO 4217 code without a minor unit (a metal, fund or unit of account): no sale is priced in it",
        ),
        ("2025-01-02,EUR,1", "currency", "EUR", "is the file's base currency: its rate is 1 by definition"),
        # rates: a plain positive decimal, at most 18 decimals, inside 10^-9..10^9
        ("2025-01-02,USD,0", "rate", "0", "is zero; a rate is at least 0.000000001 (MIN_RATE)"),
        ("2025-01-02,USD,0.000", "rate", "0.000", "is zero; a rate is at least 0.000000001 (MIN_RATE)"),
        ("2025-01-02,USD,0.0000000009", "rate", "0.0000000009", "is below the minimum rate 0.000000001 (MIN_RATE)"),
        (
            "2025-01-02,USD,1000000000.000000000000000001",
            "rate",
            "1000000000.000000000000000001",
            "is above the maximum rate 1000000000 (MAX_RATE)",
        ),
        ("2025-01-02,USD," + "9" * 5000, "rate", "9" * 200 + "...", "is above the maximum rate 1000000000 (MAX_RATE)"),
        (
            "2025-01-02,USD,1.0000000000000000001",
            "rate",
            "1.0000000000000000001",
            "has 19 decimals; at most 18 allowed",
        ),
        (
            "2025-01-02,USD,1.0856e0",
            "rate",
            "1.0856e0",
            "is in exponent notation; write a plain decimal such as 1.0856",
        ),
        ("2025-01-02,USD,1E-3", "rate", "1E-3", "is in exponent notation; write a plain decimal such as 1.0856"),
        ("2025-01-02,USD,-1.0856", "rate", "-1.0856", "has a sign; a rate is a positive decimal such as 1.0856"),
        ("2025-01-02,USD,+1.0856", "rate", "+1.0856", "has a sign; a rate is a positive decimal such as 1.0856"),
        ("2025-01-02,USD,1,0856", "row", "2025-01-02,USD,1,0856", "has 4 fields; expected 3: date,currency,rate"),
        ("2025-01-02,USD,.5", "rate", ".5", "is not a decimal number (digits with at most one point)"),
        ("2025-01-02,USD,1.", "rate", "1.", "is not a decimal number (digits with at most one point)"),
        ("2025-01-02,USD,1_000", "rate", "1_000", "is not a decimal number (digits with at most one point)"),
        (
            "2025-01-02,USD,\u0661",
            "rate",
            "\u0661",
            "is not a decimal number (digits with at most one point)",
        ),  # Arabic-Indic 1
        ("2025-01-02,USD,", "rate", "", "is empty"),
        # no extra whitespace anywhere, and exactly three fields
        ("2025-01-02 ,USD,1.0856", "date", "2025-01-02 ", "has leading or trailing whitespace"),
        ("2025-01-02, USD,1.0856", "currency", " USD", "has leading or trailing whitespace"),
        ("2025-01-02,USD,1.0856 ", "rate", "1.0856 ", "has leading or trailing whitespace"),
        ("2025-01-02,USD", "row", "2025-01-02,USD", "has 2 fields; expected 3: date,currency,rate"),
        ("   ", "row", "   ", "has 1 field; expected 3: date,currency,rate"),
    ],
)
def test_each_bad_line_is_rejected_naming_its_field_and_the_good_lines_around_it_are_kept(
    line: str, field: str, value: str, reason: str
) -> None:
    parsed = _parse(f"date,currency,rate\n2025-01-02,GBP,0.8297\n{line}\n2025-01-03,GBP,0.8301\n")

    assert parsed.rejections == [Rejection(3, field, value, reason)]
    assert [(q.line_number, q.text) for q in parsed.quotes] == [(2, "0.8297"), (4, "0.8301")]


def test_lines_not_utf8_or_spanning_lines_are_rejected_whole() -> None:
    parsed = _parse(b'date,currency,rate\n2025-01-02,USD,\xff1\n"2025-01-02\n",GBP,1\n2025-01-02,JPY,162.25\n')

    assert parsed.rejections == [
        Rejection(2, "line", "", "is not valid UTF-8"),
        Rejection(3, "row", "2025-01-02\n,GBP,1", "spans lines 3-4: a quoted field contains a line break"),
    ]
    assert [q.currency for q in parsed.quotes] == ["JPY"]


def test_a_repeated_rate_counts_once_and_a_conflicting_one_rejects_every_line_of_it() -> None:
    parsed = _parse(
        "date,currency,rate\n"
        "2025-01-02,USD,1.0856\n"  # 2
        "2025-01-02,USD,1.08560\n"  # 3: the same rate written otherwise: counted once
        "2025-01-03,USD,1.0901\n"  # 4
        "2025-01-03,USD,1.0910\n"  # 5: another rate for the same day: which one was meant?
        "2025-01-03,JPY,163.1\n"  # 6
        "2025-01-03,USD,1.09010\n"  # 7: agrees with line 4, still not with line 5
    )

    assert [(q.line_number, q.day, q.currency, q.text) for q in parsed.quotes] == [
        (2, date(2025, 1, 2), "USD", "1.0856"),
        (6, date(2025, 1, 3), "JPY", "163.1"),
    ]
    assert parsed.repeated == 1
    day = "differs from the rate of USD for 2025-01-03 on"
    assert parsed.rejections == [
        Rejection(4, "rate", "1.0901", f"{day} line 5 (1.0910): none of them is loaded"),
        Rejection(5, "rate", "1.0910", f"{day} line 4 (1.0901), line 7 (1.09010): none of them is loaded"),
        Rejection(7, "rate", "1.09010", f"{day} line 5 (1.0910): none of them is loaded"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,currency\n2025-01-02,USD\n", "line 1: the header is 'date,currency'; expected date,currency,rate"),
        ("currency,date,rate\n", "line 1: the header is 'currency,date,rate'; expected date,currency,rate"),
        ("Date,Currency,Rate\n", "line 1: the header is 'Date,Currency,Rate'; expected date,currency,rate"),
        ("date, currency, rate\n", "line 1: the header is 'date, currency, rate'; expected date,currency,rate"),
        ("2025-01-02,USD,1.0856\n", "line 1: the header is '2025-01-02,USD,1.0856'; expected date,currency,rate"),
        ("date,currency,rate,source\n", "the header is 'date,currency,rate,source'; expected date,currency,rate"),
        ("", "the file is empty: expected the header date,currency,rate"),
        ("\n\n", "the file is empty: expected the header date,currency,rate"),
        ('"date,currency,rate\n', "line 1 is not valid CSV"),
    ],
)
def test_a_bad_header_rejects_the_whole_file_naming_the_expected_one(text: str, message: str) -> None:
    with pytest.raises(RateFileError, match=message):
        _parse(text)


def test_a_header_that_is_not_utf8_rejects_the_whole_file() -> None:
    with pytest.raises(RateFileError, match="line 1 is not valid UTF-8; expected the header date,currency,rate"):
        _parse(b"\xffdate,currency,rate\n2025-01-02,USD,1.0856\n")


def test_the_base_must_be_a_currency() -> None:
    with pytest.raises(UnknownCodeError, match="unknown currency code 'EU'"):
        _parse("date,currency,rate\n", base="EU")


def test_under_another_base_the_base_is_what_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fed.csv"
    path.write_text("date,currency,rate\n2025-01-02,EUR,0.9211\n2025-01-02,USD,1\n")

    parsed = read_rate_file(path, base="USD", today=TODAY)

    assert [q.currency for q in parsed.quotes] == ["EUR"]
    assert parsed.rejections == [
        Rejection(3, "currency", "USD", "is the file's base currency: its rate is 1 by definition")
    ]


def test_read_rate_file_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(RateFileError, match=r"missing\.csv: cannot read it: No such file or directory"):
        read_rate_file(tmp_path / "missing.csv", base="EUR")
    bad = tmp_path / "bad.csv"
    bad.write_text("day,ccy,rate\n")
    with pytest.raises(
        RateFileError, match=r"bad\.csv: line 1: the header is 'day,ccy,rate'; expected date,currency,rate"
    ):
        read_rate_file(bad, base="EUR")


def test_parse_rate_scales_by_10_18_exactly() -> None:
    assert parse_rate("1.0856") == 1_085_600_000_000_000_000
    assert parse_rate("162.250000000000000000000") == 162_250_000_000_000_000_000  # trailing zeros are exact
    assert parse_rate("0.006690909090909090") == 6_690_909_090_909_090
    with pytest.raises(ValueError, match=r"rate '0' is zero; a rate is at least 0\.000000001"):
        parse_rate("0")


def test_a_refused_file_says_its_problem_as_its_rejects_file_will() -> None:
    with pytest.raises(RateFileError) as wrong:
        _parse("day,ccy,rate\n2025-01-02,USD,1.0856\n")
    assert wrong.value.rejection == Rejection(
        1, "header", "day,ccy,rate", "is not date,currency,rate, the header a rate file starts with"
    )
    with pytest.raises(RateFileError) as empty:
        _parse("")
    assert empty.value.rejection == Rejection(
        1, "header", "", "is missing: the file is empty; expected the header date,currency,rate"
    )
    with pytest.raises(RateFileError) as undecodable:
        _parse(b"\n\xff\n")
    assert undecodable.value.rejection == Rejection(
        2, "line", "", "is not valid UTF-8; expected the header date,currency,rate"
    )
