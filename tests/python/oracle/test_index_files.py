"""Index files (intake.indices): the header, every line-level rejection with its exact reason,
and the good lines kept beside the bad ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.errors import IndexFileError
from intake.feed import Rejection
from intake.indices import parse_indices, read_index_file

TODAY = date(2025, 12, 4)


def _parse(text: str) -> tuple[list[tuple[int, str, int, int]], list[tuple[int, str, str, str]], int]:
    parsed = parse_indices(text.encode().splitlines(keepends=True), today=TODAY)
    values = [(v.line_number, v.index, v.month, v.value) for v in parsed.values]
    rejections = [(r.line_number, r.field, r.value, r.reason) for r in parsed.rejections]
    return values, rejections, parsed.repeated


def test_good_lines_are_kept_beside_each_kind_of_bad_line() -> None:
    values, rejections, repeated = _parse(
        "index,month,value\n"
        "US-CPI-U,2024-09,315.301\n"  # 2
        ",2024-10,1\n"  # 3
        "ABCDEFGHIJKLMNOPQ,2024-10,1\n"  # 4: 17 characters
        "US CPI,2024-10,1\n"  # 5
        "CPI-\u00e9,2024-10,1\n"  # 6
        "X,2024-9,1\n"  # 7
        "X,2024-13,1\n"  # 8
        "X,2026-01,1\n"  # 9: next month
        "X,2024-10,0\n"  # 10
        "X,2024-10,-1\n"  # 11
        "X,2024-10,1.1234567\n"  # 12
        "X,2024-10,1e3\n"  # 13
        "X,2024-10,1000000001\n"  # 14
        "X,2024-10,abc\n"  # 15
        "X,2024-10,\n"  # 16
        "X,2024-10\n"  # 17
        "X, 2024-10,1\n"  # 18
        "\n"
        "EU-HICP,2025-11,128.100000\n"  # 20
        "EU-HICP,2025-11,128.1\n"  # 21: the same value again, counted once
        "Y,2024-01,100\n"  # 22
        "Y,2024-01,101\n"  # 23: another value for the same month
    )
    assert values == [(2, "US-CPI-U", 202409, 315_301_000), (20, "EU-HICP", 202511, 128_100_000)]
    assert repeated == 1
    assert rejections == [
        (3, "index", "", "is empty"),
        (4, "index", "ABCDEFGHIJKLMNOPQ", "has 17 characters; an index name has at most 16 (bytes16 on chain)"),
        (5, "index", "US CPI", "is not an index name: printable ASCII characters without spaces, such as US-CPI-U"),
        (
            6,
            "index",
            "CPI-\u00e9",
            "is not ASCII: an index name is 1 to 16 printable ASCII characters, such as US-CPI-U",
        ),
        (7, "month", "2024-9", "is not a month (YYYY-MM, such as 2024-09)"),
        (8, "month", "2024-13", "is not a month: months run 01 to 12, years 1900 to 9999"),
        (9, "month", "2026-01", "is in the future (this month is 2025-12)"),
        (10, "value", "0", "is zero; an index value is positive"),
        (11, "value", "-1", "has a sign; an index value is a positive decimal such as 315.301"),
        (12, "value", "1.1234567", "has 7 decimals; at most 6 allowed"),
        (13, "value", "1e3", "is in exponent notation; write a plain decimal such as 315.301"),
        (14, "value", "1000000001", "is above the largest index value 1000000000 (MAX_INDEX_POINTS)"),
        (15, "value", "abc", "is not a decimal number (digits with at most one point)"),
        (16, "value", "", "is empty"),
        (17, "row", "X,2024-10", "has 2 fields; expected 3: index,month,value"),
        (18, "month", " 2024-10", "has leading or trailing whitespace"),
        (22, "value", "100", "differs from the value of Y for 2024-01 on line 23 (101): none of them is loaded"),
        (23, "value", "101", "differs from the value of Y for 2024-01 on line 22 (100): none of them is loaded"),
    ]


def test_a_wrong_header_refuses_the_file(tmp_path: Path) -> None:
    with pytest.raises(IndexFileError, match="the header is 'index,date,value'; expected index,month,value") as err:
        parse_indices([b"index,date,value\n", b"US-CPI-U,2024-09,315.301\n"], today=TODAY)
    assert err.value.rejection == Rejection(
        1, "header", "index,date,value", "is not index,month,value, the header an index file starts with"
    )
    with pytest.raises(IndexFileError, match="the file is empty: expected the header index,month,value"):
        parse_indices([], today=TODAY)
    with pytest.raises(IndexFileError, match="cannot read it"):
        read_index_file(tmp_path / "missing.csv")


def test_a_byte_order_mark_and_crlf_endings_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "cpi.csv"
    path.write_bytes(b"\xef\xbb\xbfindex,month,value\r\nUS-CPI-U,2024-09,315.301\r\n")
    parsed = read_index_file(path, today=TODAY)
    assert [(v.index, v.month, v.text) for v in parsed.values] == [("US-CPI-U", 202409, "315.301")]
    assert parsed.rejections == []
