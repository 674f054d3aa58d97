"""Helpers for the oracle's pure-logic tests: one licence, a fixed today, feed builders.

A plain module with a unique name (not conftest.py) so test files can import it without
clashing with other test directories' helpers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

from intake.feed import COLUMNS, Rejection, SaleLine, parse_csv, parse_jsonl
from intake.validate import LicenceInfo
from royalty_chain.codes import encode_scope

TODAY = date(2025, 6, 30)
TERM_START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())  # 1735689600
TERM_END = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
PERIOD = 90 * 86400
LICENSEE = "0x00000000000000000000000000000000000000Aa"

GOOD = {
    "line_id": "INV-1",
    "licence_id": "1",
    "sale_date": "2025-01-05",
    "territory": "US",
    "field": "software",
    "channel": "online",
    "units": "2",
    "gross": "199.98",
    "deductions": "0",
    "currency": "USD",
}


def licence(**changes: object) -> LicenceInfo:
    """Licence 1: USD with 6 decimals, calendar 2025, 90-day periods, 180 sell-off days."""
    fields: dict[str, object] = {
        "licence_id": 1,
        "licensee": LICENSEE,
        "currency": "USD",
        "decimals": 6,
        "scope": encode_scope(
            ["US", "GB", "DE", "FR", "JP", "CA"],
            ["software", "analytics", "model-training"],
            ["online", "retail", "api", "subscription"],
        ),
        "term_start": TERM_START,
        "term_end": TERM_END,
        "sell_off_days": 180,
        "period_seconds": PERIOD,
    }
    fields.update(changes)
    return LicenceInfo(**fields)  # type: ignore[arg-type]


def csv_line(**changes: str) -> str:
    """One CSV data line: GOOD with ``changes`` (values are written as given, no quoting)."""
    values = {**GOOD, **changes}
    return ",".join(values[c] for c in COLUMNS)


def csv_feed(*lines: str, newline: str = "\n") -> bytes:
    return (newline.join([",".join(COLUMNS), *lines]) + newline).encode("utf-8")


def jsonl_line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


def parse_csv_bytes(data: bytes, decimals: int = 6) -> list[SaleLine | Rejection]:
    return list(parse_csv(io.BytesIO(data), today=TODAY, decimals=decimals))


def parse_jsonl_bytes(data: bytes, decimals: int = 6) -> list[SaleLine | Rejection]:
    return list(parse_jsonl(io.BytesIO(data), today=TODAY, decimals=decimals))


def sale_lines(items: list[SaleLine | Rejection]) -> list[SaleLine]:
    return [x for x in items if isinstance(x, SaleLine)]


def rejections(items: list[SaleLine | Rejection]) -> list[Rejection]:
    return [x for x in items if isinstance(x, Rejection)]


def iter_counting(lines: list[bytes], pulled: list[int]) -> Iterator[bytes]:
    """Yield ``lines`` and record in ``pulled[0]`` how many the consumer has taken."""
    for line in lines:
        pulled[0] += 1
        yield line
