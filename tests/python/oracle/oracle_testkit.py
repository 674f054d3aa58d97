"""Helpers for the oracle's pure-logic tests: one licence, a fixed today, feed builders.

A plain module with a unique name (not conftest.py) so test files can import it without
clashing with other test directories' helpers.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime

from intake.feed import COLUMNS, Rejection, SaleLine, parse_csv, parse_jsonl
from intake.merkle import keccak256
from intake.validate import LicenceInfo
from royalty_chain.codes import encode_scope

TODAY = date(2025, 6, 30)
TERM_START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())  # 1735689600
TERM_END = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
PERIOD = 90 * 86400
_UINT128_MAX = (1 << 128) - 1
# Words 3-7 of the leaf encoding: uint32 period, uint64 saleDay, uint8 x3, each left-padded.
_MIDDLE = struct.Struct(">28xI24xQ31xB31xB31xB")
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


def parse_csv_bytes(data: bytes, decimals: int = 6, today: date = TODAY) -> list[SaleLine | Rejection]:
    return list(parse_csv(io.BytesIO(data), today=today, decimals=decimals))


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


# The readable leaf encoding, with every range checked: what intake.merkle.leaf_fast (the one
# the services use) is tested against, and the tests' way to compute an expected leaf.


def line_id_hash(line_id: str) -> bytes:
    """keccak256 of the line id's UTF-8 bytes."""
    return keccak256(line_id.encode("utf-8"))


def encode_line(
    id_hash: bytes,
    licence_id: int,
    period: int,
    sale_day: int,
    territory: int,
    field: int,
    channel: int,
    units: int,
    gross: int,
    deductions: int,
) -> bytes:
    """``abi.encode`` of the leaf tuple (320 bytes); raises ValueError if a value does not fit."""
    if len(id_hash) != 32:
        raise ValueError("line id hash must be 32 bytes")
    if not 0 <= licence_id < 1 << 256:
        raise ValueError(f"licence id {licence_id} does not fit uint256")
    for name, value in (("units", units), ("gross", gross), ("deductions", deductions)):
        if not 0 <= value <= _UINT128_MAX:
            raise ValueError(f"{name} {value} does not fit uint128")
    try:
        middle = _MIDDLE.pack(period, sale_day, territory, field, channel)
    except struct.error as err:
        raise ValueError(f"period, saleDay or a code index out of range: {err}") from None
    return b"".join(
        (
            id_hash,
            licence_id.to_bytes(32, "big"),
            middle,
            units.to_bytes(32, "big"),
            gross.to_bytes(32, "big"),
            deductions.to_bytes(32, "big"),
        )
    )


def line_leaf(
    line_id: str,
    licence_id: int,
    period: int,
    sale_day: int,
    territory: int,
    field: int,
    channel: int,
    units: int,
    gross: int,
    deductions: int,
) -> bytes:
    """The canonical 32-byte leaf of one sales line (see the module docstring)."""
    encoded = encode_line(
        line_id_hash(line_id),
        licence_id,
        period,
        sale_day,
        territory,
        field,
        channel,
        units,
        gross,
        deductions,
    )
    return keccak256(keccak256(encoded))
