"""Benchmark files (intake.benchmarks): the header, every line-level rejection with its exact
reason, and the good lines kept beside the bad ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.benchmarks import parse_benchmark_value, parse_benchmarks, read_benchmark_file
from intake.errors import BenchmarkFileError
from intake.feed import Rejection

TODAY = date(2026, 12, 4)
ZERO = "is zero; a benchmark value is positive (the reviews contract refuses 0: BenchmarkValueZero)"


def _parse(text: str) -> tuple[list[tuple[int, str, str, int]], list[tuple[int, str, str, str]], int]:
    parsed = parse_benchmarks(text.encode().splitlines(keepends=True), today=TODAY)
    values = [(v.line_number, v.day.isoformat(), v.benchmark, v.value) for v in parsed.values]
    rejections = [(r.line_number, r.field, r.value, r.reason) for r in parsed.rejections]
    return values, rejections, parsed.repeated


def test_good_lines_are_kept_beside_each_kind_of_bad_line() -> None:
    values, rejections, repeated = _parse(
        "date,benchmark,value\n"
        "2026-11-30,DATA-LIC-RATE,4.60\n"  # 2
        "2026-11-30,,4\n"  # 3
        "2026-11-30,ABCDEFGHIJKLMNOPQ,4\n"  # 4: 17 characters
        "2026-11-30,DATA RATE,4\n"  # 5
        "2026-11-30,RATE-\u00e9,4\n"  # 6
        "2026-11-3,X,4\n"  # 7
        "30/11/2026,X,4\n"  # 8
        "2026-02-30,X,4\n"  # 9: no such day
        "2026-12-05,X,4\n"  # 10: tomorrow
        "1969-12-31,X,4\n"  # 11
        "2026-11-30,X,0\n"  # 12
        "2026-11-30,X,0.000000\n"  # 13: zero too
        "2026-11-30,X,-4\n"  # 14
        "2026-11-30,X,4.1234567\n"  # 15
        "2026-11-30,X,4e1\n"  # 16
        "2026-11-30,X,1000000.000001\n"  # 17: above a million points
        "2026-11-30,X,10000000\n"  # 18
        "2026-11-30,X,four\n"  # 19
        "2026-11-30,X,\n"  # 20
        "2026-11-30,X\n"  # 21
        "2026-11-30,X, 4\n"  # 22
        "\n"
        "2026-12-04,LES-MEDDEV-RATE,5.5\n"  # 24: today
        "2026-12-04,LES-MEDDEV-RATE,5.500\n"  # 25: the same value again, counted once
        "2026-12-01,Y,4.00\n"  # 26
        "2026-12-01,Y,4.01\n"  # 27: another value for the same day
        "2026-12-01,Z,1000000\n"  # 28: the largest value
    )
    assert values == [
        (2, "2026-11-30", "DATA-LIC-RATE", 4_600_000),
        (24, "2026-12-04", "LES-MEDDEV-RATE", 5_500_000),
        (28, "2026-12-01", "Z", 1_000_000_000_000),
    ]
    assert repeated == 1
    assert rejections == [
        (3, "benchmark", "", "is empty"),
        (4, "benchmark", "ABCDEFGHIJKLMNOPQ", "has 17 characters; a benchmark name has at most 16 (bytes16 on chain)"),
        (
            5,
            "benchmark",
            "DATA RATE",
            "is not a benchmark name: printable ASCII characters without spaces, such as DATA-LIC-RATE",
        ),
        (
            6,
            "benchmark",
            "RATE-\u00e9",
            "is not ASCII: a benchmark name is 1 to 16 printable ASCII characters, such as DATA-LIC-RATE",
        ),
        (7, "date", "2026-11-3", "is not a date (YYYY-MM-DD, such as 2026-11-30)"),
        (8, "date", "30/11/2026", "is not a date (YYYY-MM-DD, such as 2026-11-30)"),
        (9, "date", "2026-02-30", "is not a date: no such day in the calendar"),
        (10, "date", "2026-12-05", "is in the future (today is 2026-12-04)"),
        (11, "date", "1969-12-31", "is before 1970: the chain's clock cannot name it"),
        (12, "value", "0", ZERO),
        (13, "value", "0.000000", ZERO),
        (14, "value", "-4", "has a sign; a benchmark value is a positive decimal such as 4.60"),
        (15, "value", "4.1234567", "has 7 decimals; at most 6 allowed"),
        (16, "value", "4e1", "is in exponent notation; write a plain decimal such as 4.60"),
        (17, "value", "1000000.000001", "is above the largest benchmark value 1,000,000 (MAX_BENCHMARK_POINTS)"),
        (18, "value", "10000000", "is above the largest benchmark value 1,000,000 (MAX_BENCHMARK_POINTS)"),
        (19, "value", "four", "is not a decimal number (digits with at most one point)"),
        (20, "value", "", "is empty"),
        (21, "row", "2026-11-30,X", "has 2 fields; expected 3: date,benchmark,value"),
        (22, "value", " 4", "has leading or trailing whitespace"),
        (26, "value", "4.00", "differs from the value of Y for 2026-12-01 on line 27 (4.01): none of them is loaded"),
        (27, "value", "4.01", "differs from the value of Y for 2026-12-01 on line 26 (4.00): none of them is loaded"),
    ]


def test_a_wrong_header_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("benchmark,date,value\n2026-11-30,X,4\n")
    with pytest.raises(BenchmarkFileError) as refused:
        read_benchmark_file(path, today=TODAY)
    assert str(refused.value) == (
        f"{path}: line 1: the header is 'benchmark,date,value'; expected date,benchmark,value"
    )
    assert refused.value.rejection == Rejection(
        1, "header", "benchmark,date,value", "is not date,benchmark,value, the header a benchmark file starts with"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(BenchmarkFileError, match="the file is empty: expected the header date,benchmark,value"):
        read_benchmark_file(empty, today=TODAY)
    with pytest.raises(BenchmarkFileError, match="cannot read it"):
        read_benchmark_file(tmp_path / "missing.csv", today=TODAY)


def test_a_file_with_a_bom_and_crlf_endings_reads_like_any_other() -> None:
    lines = [b"\xef\xbb\xbfdate,benchmark,value\r\n", b"2026-12-04,DATA-LIC-RATE,4.6\r\n"]
    parsed = parse_benchmarks(lines, today=TODAY)
    assert [(v.benchmark, v.day, v.value, v.text) for v in parsed.values] == [
        ("DATA-LIC-RATE", TODAY, 4_600_000, "4.6")
    ]
    assert parsed.rejections == []


def test_a_stored_value_text_reads_back_exactly() -> None:
    assert parse_benchmark_value("4.60") == 4_600_000
    assert parse_benchmark_value("0.000001") == 1
    with pytest.raises(ValueError, match="benchmark value '0' is zero"):
        parse_benchmark_value("0")
