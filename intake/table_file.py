"""A publisher's small CSV table (a rate file, an index file): its lines read the way feeds are.

One reader for every such file, so each treats a byte order mark, CRLF endings, blank lines, a
line that is not UTF-8, a line that is not CSV, a quoted field with a line break and a wrong
number of fields alike: a problem at the header refuses the whole file (the caller's error
type, with the Rejection the rejects file records), a problem on any other line is a Rejection
of that line while the lines alongside it are kept. What a field means is the caller's: it gets
each well-formed row with its line number.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from intake.feed import Rejection

BOM: Final = b"\xef\xbb\xbf"
MAX_VALUE_ECHO: Final = 200  # a rejected value is echoed up to this many characters


def echo(value: str) -> str:
    """A value as a rejection quotes it: cut after MAX_VALUE_ECHO characters."""
    return value if len(value) <= MAX_VALUE_ECHO else value[:MAX_VALUE_ECHO] + "..."


def is_digits(text: str) -> bool:
    """ASCII digits only (str.isdigit alone takes other scripts' digits)."""
    return text.isdigit() and text.isascii()


def plain_decimal(
    text: str, decimals: int, noun: str, example: str, max_whole_digits: int, too_big: str
) -> tuple[int, None] | tuple[None, str]:
    """``(value x 10^decimals, None)`` for a published figure written as a plain decimal (no sign,
    no exponent, at most ``decimals`` significant fractional digits; trailing zeros past them are
    exact and accepted), else ``(None, reason)``. ``noun`` and ``example`` name the figure in the
    reasons ("a rate", "1.0856"); more than ``max_whole_digits`` whole digits is ``too_big``,
    found before the text is turned into an integer (a 5,000-digit figure is just too big)."""
    if not text:
        return None, "is empty"
    whole, dot, frac = text.partition(".")
    if not (is_digits(whole) and (not dot or is_digits(frac))):
        mantissa, e, exponent = text.lower().partition("e")
        if e and is_digits(mantissa.replace(".", "", 1)) and is_digits(exponent.lstrip("+-")):
            return None, f"is in exponent notation; write a plain decimal such as {example}"
        if text[0] in "+-":
            return None, f"has a sign; {noun} is a positive decimal such as {example}"
        return None, "is not a decimal number (digits with at most one point)"
    significant = frac.rstrip("0")
    if len(significant) > decimals:
        return None, f"has {len(significant)} decimals; at most {decimals} allowed"
    if len(whole.lstrip("0")) > max_whole_digits:
        return None, too_big
    return int(whole + significant.ljust(decimals, "0")), None


def _decode(lines: Iterable[bytes], undecodable: list[int]) -> Iterator[str]:
    """UTF-8 text lines; a line that is not UTF-8 is noted in ``undecodable`` and left blank."""
    for number, raw in enumerate(lines, 1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            undecodable.append(number)
            yield "\n"


def read_rows(
    lines: Iterable[bytes],
    header: tuple[str, ...],
    what: str,
    refuse: Callable[[str, Rejection], Exception],
    rejections: list[Rejection],
) -> Iterator[tuple[int, list[str]]]:
    """Each row of ``lines`` after the header ``header`` with as many fields, with its line number.

    ``what`` names the file in the header's rejection ("a rate file"); ``refuse(message,
    rejection)`` builds the error raised when the header is wrong, missing or unreadable. Bad
    lines are appended to ``rejections`` (line, field, value, reason)."""
    header_text = ",".join(header)
    expected = f"expected the header {header_text}"

    def refused(line_number: int, reason: str) -> Exception:
        return refuse(f"line {line_number} {reason}", Rejection(line_number, "line", "", reason))

    undecodable: list[int] = []
    reader = csv.reader(_decode(lines, undecodable), strict=True)
    header_seen = False
    last = 0  # physical line number where the previous row ended
    rows = iter(reader)
    while True:
        try:
            row = next(rows, None)
        except csv.Error as err:
            start, last = last + 1, reader.line_num
            if not header_seen:
                raise refused(start, f"is not valid CSV ({err}); {expected}") from err
            rejections.append(Rejection(start, "line", "", f"is not valid CSV: {err}"))
            continue
        if row is None:
            break
        start, last = last + 1, reader.line_num
        if undecodable:
            if not header_seen:
                raise refused(undecodable[0], f"is not valid UTF-8; {expected}")
            rejections.extend(Rejection(n, "line", "", "is not valid UTF-8") for n in undecodable)
            undecodable.clear()
        if not row:
            continue  # a blank line (or an undecodable one, rejected above)
        if not header_seen:
            if tuple(row) != header or last != start:
                got = echo(",".join(row))
                reason = f"is not {header_text}, the header {what} starts with"
                raise refuse(
                    f"line {start}: the header is {got!r}; expected {header_text}",
                    Rejection(start, "header", got, reason),
                )
            header_seen = True
            continue
        if last != start:
            reason = f"spans lines {start}-{last}: a quoted field contains a line break"
            rejections.append(Rejection(start, "row", echo(",".join(row)), reason))
        elif len(row) != len(header):
            reason = f"has {len(row)} field{'' if len(row) == 1 else 's'}; expected {len(header)}: {header_text}"
            rejections.append(Rejection(start, "row", echo(",".join(row)), reason))
        else:
            yield start, row
    if undecodable and not header_seen:
        raise refused(undecodable[0], f"is not valid UTF-8; {expected}")
    rejections.extend(Rejection(n, "line", "", "is not valid UTF-8") for n in undecodable)
    if not header_seen:
        reason = f"is missing: the file is empty; {expected}"
        raise refuse(f"the file is empty: {expected}", Rejection(1, "header", "", reason))
