"""A corpus of bad lines, one case per kind, with the exact field, value and reason.

Each case sits between two good lines so the test also shows that a bad line never hides its
neighbours. Line numbers are physical: the header is line 1, the good lines 2 and 4.
"""

from __future__ import annotations

import json

import pytest
from oracle_testkit import (
    GOOD,
    csv_feed,
    csv_line,
    jsonl_line,
    parse_csv_bytes,
    parse_jsonl_bytes,
)

from intake.feed import Rejection, SaleLine

MAX_UINT128 = 2**128 - 1
# A negative amount makes a line a return, whose amounts must all be zero or less.
_RETURN_RULE = "a return has units, gross and deductions of zero or less"
NEGATIVE_UNITS = f"is negative but gross is not: {_RETURN_RULE}"
NEGATIVE_GROSS = f"is negative but units is not: {_RETURN_RULE}"
NEGATIVE_DEDUCTIONS = f"is negative but units and gross are not: {_RETURN_RULE}"

# (case id, the bad CSV line, field, value, reason)
CSV_CASES: list[tuple[str, str, str, str, str]] = [
    ("line_id-empty", csv_line(line_id=""), "line_id", "", "is empty"),
    (
        "line_id-too-long",
        csv_line(line_id="X" * 129),
        "line_id",
        "X" * 129,
        "is longer than 128 characters",
    ),
    (
        "line_id-whitespace",
        csv_line(line_id=" INV-2"),
        "line_id",
        " INV-2",
        "has leading or trailing whitespace",
    ),
    ("licence_id-empty", csv_line(licence_id=""), "licence_id", "", "is empty"),
    ("licence_id-text", csv_line(licence_id="L1"), "licence_id", "L1", "is not a whole number"),
    ("licence_id-negative", csv_line(licence_id="-1"), "licence_id", "-1", "is negative"),
    ("licence_id-zero", csv_line(licence_id="0"), "licence_id", "0", "must be positive"),
    (
        "licence_id-above-uint256",
        csv_line(licence_id=str(2**256)),
        "licence_id",
        str(2**256),
        "exceeds uint256",
    ),
    ("sale_date-empty", csv_line(sale_date=""), "sale_date", "", "is empty"),
    (
        "sale_date-slashes",
        csv_line(sale_date="2025/01/05"),
        "sale_date",
        "2025/01/05",
        "is not a date in YYYY-MM-DD form",
    ),
    (
        "sale_date-basic-iso",
        csv_line(sale_date="20250105"),
        "sale_date",
        "20250105",
        "is not a date in YYYY-MM-DD form",
    ),
    (
        "sale_date-not-a-day",
        csv_line(sale_date="2025-02-31"),
        "sale_date",
        "2025-02-31",
        "is not a date: February 2025 has 28 days",  # the value names the date, the reason why
    ),
    (
        "sale_date-not-a-day-leap-year",
        csv_line(sale_date="2024-02-30"),
        "sale_date",
        "2024-02-30",
        "is not a date: February 2024 has 29 days",
    ),
    (
        "sale_date-no-such-month",
        csv_line(sale_date="2025-13-01"),
        "sale_date",
        "2025-13-01",
        "is not a date: there is no month 13",
    ),
    (
        "sale_date-future",
        csv_line(sale_date="2025-07-01"),
        "sale_date",
        "2025-07-01",
        "is in the future (today is 2025-06-30)",
    ),
    (
        "sale_date-before-epoch",
        csv_line(sale_date="1969-12-31"),
        "sale_date",
        "1969-12-31",
        "is before 1970-01-01",
    ),
    ("territory-empty", csv_line(territory=""), "territory", "", "is empty"),
    (
        "territory-unassigned",
        csv_line(territory="XK"),
        "territory",
        "XK",
        "is not an ISO 3166-1 alpha-2 code",
    ),
    (
        "territory-alpha3",
        csv_line(territory="USA"),
        "territory",
        "USA",
        "is not an ISO 3166-1 alpha-2 code",
    ),
    (
        "territory-lowercase",
        csv_line(territory="us"),
        "territory",
        "us",
        "is not an ISO 3166-1 alpha-2 code (codes are case-sensitive: 'US')",
    ),
    (
        "field-unknown",
        csv_line(field="cooking"),
        "field",
        "cooking",
        "is not a published field-of-use code",
    ),
    (
        "field-capitalised",
        csv_line(field="SOFTWARE"),
        "field",
        "SOFTWARE",
        "is not a published field-of-use code (codes are case-sensitive: 'software')",
    ),
    (
        "channel-unknown",
        csv_line(channel="drone"),
        "channel",
        "drone",
        "is not a published channel code",
    ),
    ("units-empty", csv_line(units=""), "units", "", "is empty"),
    ("units-negative", csv_line(units="-3"), "units", "-3", NEGATIVE_UNITS),
    ("units-fraction", csv_line(units="2.5"), "units", "2.5", "is not a whole number"),
    ("units-text", csv_line(units="ten"), "units", "ten", "is not a whole number"),
    (
        "units-above-uint128",
        csv_line(units=str(MAX_UINT128 + 1)),
        "units",
        str(MAX_UINT128 + 1),
        "exceeds uint128",
    ),
    ("gross-empty", csv_line(gross=""), "gross", "", "is empty"),
    ("gross-negative", csv_line(gross="-1.00"), "gross", "-1.00", NEGATIVE_GROSS),
    (
        "gross-thousands-separator",
        csv_line(gross='"1,000.00"'),
        "gross",
        "1,000.00",
        "is not a decimal number",
    ),
    ("gross-exponent", csv_line(gross="1e3"), "gross", "1e3", "is not a decimal number"),
    ("gross-bare-point-left", csv_line(gross=".5"), "gross", ".5", "is not a decimal number"),
    ("gross-bare-point-right", csv_line(gross="5."), "gross", "5.", "is not a decimal number"),
    ("gross-leading-space", csv_line(gross=" 12"), "gross", " 12", "is not a decimal number"),
    ("gross-plus-sign", csv_line(gross="+12"), "gross", "+12", "is not a decimal number"),
    (
        "gross-fullwidth-digits",
        csv_line(gross="\uff11\uff12"),
        "gross",
        "\uff11\uff12",
        "is not a decimal number",
    ),
    (
        "gross-too-many-decimals",
        csv_line(gross="0.0000001"),
        "gross",
        "0.0000001",
        "has 7 decimals; at most 6 allowed",
    ),
    (
        "gross-above-uint128",
        csv_line(gross=str(MAX_UINT128 // 10**6 + 1)),
        "gross",
        str(MAX_UINT128 // 10**6 + 1),
        "exceeds uint128 when scaled to 6 decimals",
    ),
    ("deductions-text", csv_line(deductions="n/a"), "deductions", "n/a", "is not a decimal number"),
    ("deductions-negative", csv_line(deductions="-0.01"), "deductions", "-0.01", NEGATIVE_DEDUCTIONS),
    ("currency-empty", csv_line(currency=""), "currency", "", "is empty"),
    (
        "currency-lowercase",
        csv_line(currency="usd"),
        "currency",
        "usd",
        "is not a 3-letter uppercase currency code",
    ),
    (
        "currency-two-letters",
        csv_line(currency="US"),
        "currency",
        "US",
        "is not a 3-letter uppercase currency code",
    ),
    (
        "row-missing-columns",
        "INV-2,1,2025-01-05",
        "row",
        "INV-2,1,2025-01-05",
        "has 3 fields; missing columns: territory, field, channel, units, gross, deductions, currency",
    ),
    (
        "row-extra-column",
        csv_line() + ",surplus",
        "row",
        csv_line() + ",surplus",
        "has 11 fields; 1 more than the 10 columns",
    ),
    (
        "csv-bad-quoting",
        csv_line(line_id='"INV-2"x'),
        "line",
        "",
        "is not valid CSV: ',' expected after '\"'",
    ),
]


def _between_good_lines(bad: bytes) -> bytes:
    header_and_first = csv_feed(csv_line(line_id="GOOD-A"))
    return header_and_first + bad + b"\n" + csv_line(line_id="GOOD-B").encode() + b"\n"


@pytest.mark.parametrize(
    ("line", "field", "value", "reason"),
    [case[1:] for case in CSV_CASES],
    ids=[case[0] for case in CSV_CASES],
)
def test_csv_bad_line_is_rejected_exactly(line: str, field: str, value: str, reason: str) -> None:
    items = parse_csv_bytes(_between_good_lines(line.encode("utf-8")))

    assert items[1] == Rejection(3, field, value, reason)
    assert [(x.line_number, x.line_id) for x in items if isinstance(x, SaleLine)] == [
        (2, "GOOD-A"),
        (4, "GOOD-B"),
    ]
    assert len(items) == 3


def test_csv_line_that_is_not_utf8_is_rejected_and_neighbours_survive() -> None:
    items = parse_csv_bytes(_between_good_lines(b"INV-2,1,2025-01-05,\xff\xfe,software"))

    assert items[1] == Rejection(3, "line", "", "is not valid UTF-8")
    assert [x.line_number for x in items if isinstance(x, SaleLine)] == [2, 4]


def test_csv_unclosed_quote_rejects_the_lines_it_swallowed_by_range() -> None:
    data = csv_feed(
        csv_line(line_id="GOOD-A"),
        csv_line(line_id='"INV-2'),
        csv_line(line_id="INV-3"),
        csv_line(line_id='INV-4"'),
        csv_line(line_id="GOOD-B"),
    )
    items = parse_csv_bytes(data)

    bad = items[1]
    assert isinstance(bad, Rejection)
    assert (bad.line_number, bad.field) == (3, "row")
    assert bad.reason == "spans lines 3-5: a quoted field contains a line break"
    assert [x.line_number for x in items if isinstance(x, SaleLine)] == [2, 6]


def test_csv_rejects_every_kind_in_one_file_with_physical_line_numbers() -> None:
    data = csv_feed(*(case[1] for case in CSV_CASES), csv_line(line_id="LAST"))
    items = parse_csv_bytes(data)

    got = [(r.line_number, r.field, r.reason) for r in items if isinstance(r, Rejection)]
    expected = [(n, case[2], case[4]) for n, case in enumerate(CSV_CASES, start=2)]
    assert got == expected
    last = items[-1]
    assert isinstance(last, SaleLine)
    assert last.line_number == len(CSV_CASES) + 2


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions",
            "missing columns: currency",
        ),
        (
            "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,note",
            "unexpected columns: note",
        ),
        (
            "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,units",
            "duplicate columns: units",
        ),
        (
            "id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency",
            "missing columns: line_id; unexpected columns: id",
        ),
    ],
    ids=["missing", "extra", "duplicate", "renamed"],
)
def test_csv_header_problem_rejects_the_file_at_its_header_line(header: str, reason: str) -> None:
    data = f"{header}\n{csv_line()}\n".encode()

    assert parse_csv_bytes(data) == [Rejection(1, "header", header, reason)]


def test_csv_empty_file_is_rejected_for_its_missing_header() -> None:
    assert parse_csv_bytes(b"") == [Rejection(1, "header", "", "is missing: the file is empty")]
    assert parse_csv_bytes(b"\xef\xbb\xbf\r\n\r\n") == [Rejection(1, "header", "", "is missing: the file is empty")]


# (case id, the bad JSON line, field, value, reason)
JSONL_CASES: list[tuple[str, str, str, str, str]] = [
    (
        "malformed",
        '{"line_id": "INV-2",',
        "line",
        '{"line_id": "INV-2",',
        "is not valid JSON: Expecting property name enclosed in double quotes at column 21",
    ),
    ("not-an-object", "[1, 2]", "line", "[1, 2]", "is not a JSON object"),
    (
        "missing-key",
        json.dumps({k: v for k, v in GOOD.items() if k != "currency"}),
        "line",
        json.dumps({k: v for k, v in GOOD.items() if k != "currency"}),
        "missing keys: currency",
    ),
    (
        "missing-and-unexpected-keys",
        '{"id": "INV-2"}',
        "line",
        '{"id": "INV-2"}',
        "missing keys: line_id, licence_id, sale_date, territory, field, channel, units, gross, "
        "deductions, currency; unexpected keys: id",
    ),
    (
        "money-float",
        jsonl_line(gross=99.99),
        "gross",
        "99.99",
        "is a JSON float; use a string for money",
    ),
    (
        "money-exponent",
        jsonl_line(deductions=1e3),
        "deductions",
        "1000.0",
        "is a JSON float; use a string for money",
    ),
    (
        "line_id-number",
        jsonl_line(line_id=17),
        "line_id",
        "17",
        "must be a string, not an integer",
    ),
    (
        "territory-null",
        jsonl_line(territory=None),
        "territory",
        "null",
        "must be a string, not null",
    ),
    (
        "units-boolean",
        jsonl_line(units=True),
        "units",
        "true",
        "must be an integer or a string, not a boolean",
    ),
    (
        "units-float",
        jsonl_line(units=2.0),
        "units",
        "2.0",
        "must be an integer or a string, not a float",
    ),
    (
        "licence_id-array",
        jsonl_line(licence_id=[1]),
        "licence_id",
        "[1]",
        "must be an integer or a string, not an array",
    ),
    ("units-negative-int", jsonl_line(units=-1), "units", "-1", NEGATIVE_UNITS),
    (
        "duplicate-key",
        '{"gross": "1", "gross": "2"}',
        "line",
        '{"gross": "1", "gross": "2"}',
        "is not valid JSON: duplicate key 'gross'",
    ),
    (
        "gross-too-many-decimals",
        jsonl_line(gross="0.0000001"),
        "gross",
        "0.0000001",
        "has 7 decimals; at most 6 allowed",
    ),
]


@pytest.mark.parametrize(
    ("line", "field", "value", "reason"),
    [case[1:] for case in JSONL_CASES],
    ids=[case[0] for case in JSONL_CASES],
)
def test_jsonl_bad_line_is_rejected_exactly(line: str, field: str, value: str, reason: str) -> None:
    data = "\n".join([jsonl_line(line_id="GOOD-A"), line, jsonl_line(line_id="GOOD-B")]) + "\n"
    items = parse_jsonl_bytes(data.encode("utf-8"))

    assert items[1] == Rejection(2, field, value, reason)
    assert [(x.line_number, x.line_id) for x in items if isinstance(x, SaleLine)] == [
        (1, "GOOD-A"),
        (3, "GOOD-B"),
    ]


def test_jsonl_line_that_is_not_utf8_is_rejected() -> None:
    data = jsonl_line(line_id="GOOD-A").encode() + b'\n{"line_id": "\xff"}\n'

    items = parse_jsonl_bytes(data)

    assert items[1] == Rejection(2, "line", "", "is not valid UTF-8")
    assert isinstance(items[0], SaleLine)


def test_long_bad_value_is_cut_to_200_characters_in_the_rejection() -> None:
    line = jsonl_line(note="x" * 300)

    items = parse_jsonl_bytes(line.encode())

    assert items == [Rejection(1, "line", line[:200] + "...", "unexpected keys: note")]
