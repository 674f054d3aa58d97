"""Benchmark files for rate reviews (``royalty_chain.reviews``): the published values of market
benchmarks, one day of one benchmark a line, that the oracle signs into review evidence.

A benchmark file is ``date,benchmark,value`` lines: ``2026-11-30,DATA-LIC-RATE,4.60`` is the value
of the benchmark ``DATA-LIC-RATE`` published for 30 November 2026, in the publisher's points. A
review clause names its benchmark as 16 ASCII bytes and compares values in points times
1,000,000 (``VALUE_SCALE``, as index values), so a name is 1 to 16 printable ASCII characters
and a value has at most six decimals.

Pure: no database, file output or clock beyond ``today``. Shaped like index files
(``intake.indices``): a wrong header refuses the file, a bad line is a Rejection naming its field
(a malformed name, a date that is not one or is after ``today``, a value that is not a plain
positive decimal, zero, or above MAX_BENCHMARK_POINTS), and the good lines beside it are kept. A
benchmark and date given two values has every line of it rejected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from intake.errors import BenchmarkFileError
from intake.feed import Rejection
from intake.indices import name_problem
from intake.table_file import echo, plain_decimal, read_rows
from royalty_chain.escalation import VALUE_SCALE

BENCHMARK_FILE_HEADER: Final = ("date", "benchmark", "value")
VALUE_DECIMALS: Final = 6  # VALUE_SCALE = 10^6
MAX_BENCHMARK_POINTS: Final = 1_000_000
"""The largest value a benchmark file may give, in points: a benchmark for a licence's rate is a
rate or a price level (DATA-LIC-RATE is about 4), so a million points is a typo or a wrong
column, and signing it would open a review scaling every rate by it."""
FIRST_YEAR: Final = 1970  # a date the chain's clock (unix seconds) can name
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class BenchmarkValue:
    """One line of a benchmark file: ``value`` is points times 1,000,000 (4.60 -> 4,600,000),
    ``text`` the value as published (what the outbox stores)."""

    line_number: int
    day: date
    benchmark: str
    value: int
    text: str


@dataclass(frozen=True, slots=True)
class BenchmarkFile:
    """A parsed benchmark file: its good values (each benchmark and date once, in line order) and
    the rejections of the other lines (in line order). ``repeated`` counts lines that repeat an
    earlier line's benchmark, date and value (kept once, not rejected)."""

    values: list[BenchmarkValue] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    repeated: int = 0

    @property
    def benchmarks(self) -> list[str]:
        return sorted({v.benchmark for v in self.values})


def benchmark_name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a benchmark's name in a review clause, None when it can."""
    return name_problem(text, "a benchmark name", "DATA-LIC-RATE")


def benchmark_value_problem(text: str) -> tuple[int, None] | tuple[None, str]:
    """``(points x 1,000,000, None)`` for a published value text, else ``(None, reason)``: a plain
    positive decimal (no sign or exponent) with at most six decimals, up to MAX_BENCHMARK_POINTS."""
    too_big = f"is above the largest benchmark value {MAX_BENCHMARK_POINTS:,} (MAX_BENCHMARK_POINTS)"
    value, problem = plain_decimal(
        text, VALUE_DECIMALS, "a benchmark value", "4.60", len(str(MAX_BENCHMARK_POINTS)), too_big
    )
    if value is None:
        return None, problem or ""
    if value == 0:
        return None, "is zero; a benchmark value is positive (the reviews contract refuses 0: BenchmarkValueZero)"
    if value > MAX_BENCHMARK_POINTS * VALUE_SCALE:
        return None, too_big
    return value, None


def parse_benchmark_value(text: str) -> int:
    """A published value text as points times 1,000,000; ValueError for what the file refuses."""
    value, problem = benchmark_value_problem(text)
    if value is None:
        raise ValueError(f"benchmark value {text!r} {problem}")
    return value


def _date_problem(text: str, today: date) -> tuple[date, None] | tuple[None, str]:
    if not _DATE.fullmatch(text):
        return None, "is not a date (YYYY-MM-DD, such as 2026-11-30)"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "is not a date: no such day in the calendar"
    if day.year < FIRST_YEAR:
        return None, f"is before {FIRST_YEAR}: the chain's clock cannot name it"
    if day > today:
        return None, f"is in the future (today is {today.isoformat()})"
    return day, None


class _Line(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        self.rejection = (field, echo(value), reason)


def _value(line_number: int, row: list[str], today: date) -> BenchmarkValue:
    """The line's BenchmarkValue, or raises _Line for its first bad field (in column order)."""
    for column, text in zip(BENCHMARK_FILE_HEADER, row, strict=True):
        if text != text.strip():
            raise _Line(column, text, "has leading or trailing whitespace")
    day_text, name, value_text = row
    day, problem = _date_problem(day_text, today)
    if day is None:
        raise _Line("date", day_text, problem or "")
    problem = benchmark_name_problem(name)
    if problem is not None:
        raise _Line("benchmark", name, problem)
    value, problem = benchmark_value_problem(value_text)
    if value is None:
        raise _Line("value", value_text, problem or "")
    return BenchmarkValue(line_number, day, name, value, value_text)


def parse_benchmarks(lines: Iterable[bytes], *, today: date | None = None) -> BenchmarkFile:
    """Parse a benchmark file given as binary lines (an open binary file works).

    The first line must be exactly ``date,benchmark,value`` (after an optional UTF-8 byte order
    mark), else BenchmarkFileError naming the expected header. Every other line is a
    BenchmarkValue or a Rejection (line, field, value, reason); blank lines and CRLF endings are
    tolerated. A benchmark and date given twice with the same value counts once; with different
    values, every line of it is rejected: which one the publisher meant is not for the oracle to
    guess.
    """
    today = today if today is not None else datetime.now(UTC).date()
    rejections: list[Rejection] = []
    by_key: dict[tuple[str, date], list[BenchmarkValue]] = {}
    for line_number, row in read_rows(lines, BENCHMARK_FILE_HEADER, "a benchmark file", BenchmarkFileError, rejections):
        try:
            value = _value(line_number, row, today)
        except _Line as bad:
            rejections.append(Rejection(line_number, *bad.rejection))
        else:
            by_key.setdefault((value.benchmark, value.day), []).append(value)
    kept: list[BenchmarkValue] = []
    repeated = 0
    for (name, day), values in by_key.items():
        if all(v.value == values[0].value for v in values):  # "4.6" and "4.60" are one value
            kept.append(values[0])
            repeated += len(values) - 1
            continue
        for v in values:
            others = ", ".join(f"line {o.line_number} ({o.text})" for o in values if o.value != v.value)
            reason = f"differs from the value of {name} for {day.isoformat()} on {others}: none of them is loaded"
            rejections.append(Rejection(v.line_number, "value", echo(v.text), reason))
    kept.sort(key=lambda v: v.line_number)
    rejections.sort(key=lambda r: r.line_number)
    return BenchmarkFile(kept, rejections, repeated)


def read_benchmark_file(path: str | os.PathLike[str], *, today: date | None = None) -> BenchmarkFile:
    """Parse the benchmark file at ``path``; BenchmarkFileError (naming the file) when it cannot
    be read or its header is not ``date,benchmark,value``."""
    try:
        with open(path, "rb") as file:
            return parse_benchmarks(file, today=today)
    except OSError as err:
        raise BenchmarkFileError(f"{os.fspath(path)}: cannot read it: {err.strerror or err}") from err
    except BenchmarkFileError as err:
        raise BenchmarkFileError(f"{os.fspath(path)}: {err}", err.rejection) from err
