"""Index files for escalation (``royalty_chain.escalation``): the published values of price
indices, one month of one index a line, that the oracle signs into escalation steps.

An index file is ``index,month,value`` lines: ``US-CPI-U,2024-09,315.301`` is the value of the
index ``US-CPI-U`` for September 2024, in index points as published. The chain holds an index's
name as 16 ASCII bytes and its values as points times 1,000,000 (``VALUE_SCALE``), so a name is
1 to 16 printable ASCII characters and a value has at most six decimals.

Pure: no database, file output or clock beyond ``today``. Shaped like rate files
(``intake.fx.parse_rates``): a wrong header refuses the file, a bad line is a Rejection naming
its field, and the good lines beside it are kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from intake.errors import IndexFileError
from intake.feed import Rejection
from intake.table_file import echo, is_digits, plain_decimal, read_rows
from royalty_chain.escalation import VALUE_SCALE, month_text, parse_month

INDEX_FILE_HEADER: Final = ("index", "month", "value")
MAX_INDEX_NAME: Final = 16  # bytes16 on chain
VALUE_DECIMALS: Final = 6  # VALUE_SCALE = 10^6
MAX_INDEX_POINTS: Final = 10**9
"""The largest value an index file may give, in points: a thousand million points is no price
index anyone publishes (CPI-U is in the hundreds), so a larger one is a typo or a wrong column."""


@dataclass(frozen=True, slots=True)
class IndexValue:
    """One line of an index file: ``value`` is points times 1,000,000 (315.301 -> 315,301,000),
    ``text`` the value as published (what the outbox stores); ``month`` is YYYYMM."""

    line_number: int
    index: str
    month: int
    value: int
    text: str


@dataclass(frozen=True, slots=True)
class IndexFile:
    """A parsed index file: its good values (each index and month once, in line order) and the
    rejections of the other lines (in line order). ``repeated`` counts lines that repeat an
    earlier line's index, month and value (kept once, not rejected)."""

    values: list[IndexValue] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    repeated: int = 0

    @property
    def indices(self) -> list[str]:
        return sorted({v.index for v in self.values})


def name_problem(text: str, noun: str = "an index name", example: str = "US-CPI-U") -> str | None:
    """Why ``text`` cannot be a name the chain holds as bytes16 (an index's, a benchmark's), None
    when it can: 1 to 16 printable ASCII characters without spaces (right-padded with zero
    bytes). ``noun`` and ``example`` name it in the reasons."""
    if not text:
        return "is empty"
    if not text.isascii():
        return f"is not ASCII: {noun} is 1 to 16 printable ASCII characters, such as {example}"
    if len(text) > MAX_INDEX_NAME:
        return f"has {len(text)} characters; {noun} has at most {MAX_INDEX_NAME} (bytes16 on chain)"
    if not all("!" <= c <= "~" for c in text):
        return f"is not {noun}: printable ASCII characters without spaces, such as {example}"
    return None


def index_name_problem(text: str) -> str | None:
    """Why ``text`` cannot be an index's name on chain, None when it can (:func:`name_problem`)."""
    return name_problem(text)


def value_problem(text: str) -> tuple[int, None] | tuple[None, str]:
    """``(points x 1,000,000, None)`` for a published value text, else ``(None, reason)``: a plain
    positive decimal (no sign or exponent) with at most six decimals, up to MAX_INDEX_POINTS.
    Trailing zeros past six decimals are exact and accepted."""
    too_big = f"is above the largest index value {MAX_INDEX_POINTS} (MAX_INDEX_POINTS)"
    value, problem = plain_decimal(
        text, VALUE_DECIMALS, "an index value", "315.301", len(str(MAX_INDEX_POINTS)), too_big
    )
    if value is None:
        return None, problem or ""
    if value == 0:
        return None, "is zero; an index value is positive"
    if value > MAX_INDEX_POINTS * VALUE_SCALE:
        return None, too_big
    return value, None


def parse_index_value(text: str) -> int:
    """A published value text as points times 1,000,000; ValueError for what ``value_problem`` refuses."""
    value, problem = value_problem(text)
    if value is None:
        raise ValueError(f"index value {text!r} {problem}")
    return value


def _month_problem(text: str, today: date) -> tuple[int, None] | tuple[None, str]:
    try:
        month = parse_month(text)  # YYYY-MM only: surrounding whitespace was refused before
    except ValueError:
        if len(text) == 7 and text[4] == "-" and is_digits(text[:4] + text[5:]):
            return None, "is not a month: months run 01 to 12, years 1900 to 9999"
        return None, "is not a month (YYYY-MM, such as 2024-09)"
    this_month = today.year * 100 + today.month
    if month > this_month:
        return None, f"is in the future (this month is {month_text(this_month)})"
    return month, None


class _Line(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        self.rejection = (field, echo(value), reason)


def _value(line_number: int, row: list[str], today: date) -> IndexValue:
    """The line's IndexValue, or raises _Line for its first bad field (in column order)."""
    for column, text in zip(INDEX_FILE_HEADER, row, strict=True):
        if text != text.strip():
            raise _Line(column, text, "has leading or trailing whitespace")
    name, month_field, value_text = row
    problem = index_name_problem(name)
    if problem is not None:
        raise _Line("index", name, problem)
    month, problem = _month_problem(month_field, today)
    if month is None:
        raise _Line("month", month_field, problem or "")
    value, problem = value_problem(value_text)
    if value is None:
        raise _Line("value", value_text, problem or "")
    return IndexValue(line_number, name, month, value, value_text)


def parse_indices(lines: Iterable[bytes], *, today: date | None = None) -> IndexFile:
    """Parse an index file given as binary lines (an open binary file works).

    The first line must be exactly ``index,month,value`` (after an optional UTF-8 byte order
    mark), else IndexFileError naming the expected header. Every other line is an IndexValue or
    a Rejection (line, field, value, reason); blank lines and CRLF endings are tolerated. An index
    and month given twice with the same value counts once; with different values, every line of
    it is rejected: which one the publisher meant is not for the oracle to guess.
    """
    today = today if today is not None else datetime.now(UTC).date()
    rejections: list[Rejection] = []
    by_key: dict[tuple[str, int], list[IndexValue]] = {}
    for line_number, row in read_rows(lines, INDEX_FILE_HEADER, "an index file", IndexFileError, rejections):
        try:
            value = _value(line_number, row, today)
        except _Line as bad:
            rejections.append(Rejection(line_number, *bad.rejection))
        else:
            by_key.setdefault((value.index, value.month), []).append(value)
    return _kept_once(by_key, rejections)


def _kept_once(by_key: dict[tuple[str, int], list[IndexValue]], rejections: list[Rejection]) -> IndexFile:
    """The file with each (index, month) once; lines that disagree on its value are all rejected."""
    kept: list[IndexValue] = []
    repeated = 0
    for (index, month), values in by_key.items():
        if all(v.value == values[0].value for v in values):  # "315.301" and "315.3010" are one value
            kept.append(values[0])
            repeated += len(values) - 1
            continue
        for v in values:
            others = ", ".join(f"line {o.line_number} ({o.text})" for o in values if o.value != v.value)
            reason = f"differs from the value of {index} for {month_text(month)} on {others}: none of them is loaded"
            rejections.append(Rejection(v.line_number, "value", echo(v.text), reason))
    kept.sort(key=lambda v: v.line_number)
    rejections.sort(key=lambda r: r.line_number)
    return IndexFile(kept, rejections, repeated)


def read_index_file(path: str | os.PathLike[str], *, today: date | None = None) -> IndexFile:
    """Parse the index file at ``path``; IndexFileError (naming the file) when it cannot be read
    or its header is not ``index,month,value``."""
    try:
        with open(path, "rb") as file:
            return parse_indices(file, today=today)
    except OSError as err:
        raise IndexFileError(f"{os.fspath(path)}: cannot read it: {err.strerror or err}") from err
    except IndexFileError as err:
        raise IndexFileError(f"{os.fspath(path)}: {err}", err.rejection) from err
