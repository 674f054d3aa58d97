"""Solidity values as pydantic field types: what a JSON client may write for each, range-checked.

Addresses (EIP-55 checked when mixed case), bytes32, hex bytes, unsigned integers of each width
(a JSON integer or a string of digits), timestamps (unix seconds or ISO 8601), and the amounts
of licence terms (integers in the token's smallest unit, or decimals in the token's currency when
the terms say so, see ``royalty_chain.spec``). Each type checks its value against its Solidity
type, so a request fails with an error naming the field rather than at ABI encoding. Shared by
the terms model (``royalty_chain.spec``) and the API's request schemas (``api.schemas``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import BeforeValidator, Field, PlainSerializer

from royalty_chain import units
from royalty_chain.calendar import parse_date

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


def check_address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    mixed = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
    if mixed and not is_checksum_address(value):
        raise ValueError("has a wrong EIP-55 checksum")
    return str(to_checksum_address(value))


def _bytes32(value: Any) -> str:
    if not isinstance(value, str) or not _BYTES32.match(value):
        raise ValueError("must be 0x followed by 64 hex digits")
    return value.lower()


def _hex_bytes(value: Any) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        raise ValueError("must be 0x-prefixed hex bytes")
    return value.lower()


def uint(bits: int) -> Any:
    """A validator of ``uint<bits>``: a JSON integer or a string of ASCII digits."""
    limit = (1 << bits) - 1

    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("must be an integer, not a boolean")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 80:
            number = int(value)
        else:
            raise ValueError("must be a non-negative integer (a JSON integer or a string of digits)")
        if not 0 <= number <= limit:
            raise ValueError(f"must be between 0 and 2**{bits}-1")
        return number

    return check


def _impossible_date(value: str) -> str | None:
    """Why a YYYY-MM-DD text is not a day (``2025-02-31``), or None when it is not of that shape."""
    parts = value.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or [len(p) for p in parts] != [4, 2, 2]:
        return None
    try:
        parse_date(value)
    except ValueError as error:
        return str(error)
    return None


def timestamp(value: Any) -> int:
    """Unix seconds, or an ISO 8601 date (00:00 UTC) or date-time (UTC unless it says otherwise)."""
    if isinstance(value, str) and not value.isdigit():
        if (impossible := _impossible_date(value)) is not None:
            raise ValueError(impossible)
        try:
            if len(value) == 10:
                parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            else:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
        except ValueError:
            raise ValueError("must be unix seconds or an ISO 8601 date (2026-01-01) or date-time") from None
        value = int(parsed.timestamp())
    return int(uint(64)(value))


def _schema(replacement: dict[str, Any]) -> Any:
    """json_schema_extra that replaces the generated type with ``replacement``."""

    def apply(schema: dict[str, Any]) -> None:
        for key in ("type", "minimum", "maximum", "pattern", "anyOf"):
            schema.pop(key, None)
        schema.update(replacement)

    return apply


def _uint_schema(bits: int) -> Any:
    return _schema({"type": "integer", "minimum": 0, "maximum": 2**bits - 1})


@dataclass(frozen=True, slots=True)
class DecimalText:
    """An amount as written in terms whose amounts are decimals (``"amounts": "decimal"``).

    The terms model wraps such values before field validation, so the amount's validator knows
    how to read them; only the token's decimals, known when the terms are converted, turn the
    text into units.
    """

    value: Any


def _terms_amount(value: Any) -> int | str:
    if isinstance(value, DecimalText):
        raw = value.value
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError('must be a decimal string such as "25000.00" (never a JSON float) or an integer')
        text = str(raw)
        problem = units.decimal_problem(text)
        if problem is not None:
            raise ValueError(f"{text!r} {problem}")
        return text
    if isinstance(value, str) and units.decimal_problem(value) is None and "." in value:
        raise ValueError(
            'is in the token\'s smallest unit, so it has no decimal point; say "amounts": "decimal" in the terms '
            "to write amounts in the token's currency"
        )
    number: int = uint(128)(value)
    return number


Address = Annotated[
    str,
    BeforeValidator(check_address),
    Field(pattern="^0x[0-9a-fA-F]{40}$", examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]),
]
Bytes32 = Annotated[str, BeforeValidator(_bytes32), Field(pattern="^0x[0-9a-fA-F]{64}$", examples=["0x" + "00" * 32])]
HexBytes = Annotated[str, BeforeValidator(_hex_bytes), Field(pattern="^0x([0-9a-fA-F]{2})*$", examples=["0x"])]
# Amounts go out as decimal strings (exact in every JSON client), come in as strings or integers.
Amount = Annotated[
    int,
    BeforeValidator(uint(128)),
    PlainSerializer(str, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": "^[0-9]{1,38}$"}, examples=["1000000"]),
]
# What clients send: a string of digits or a JSON integer.
AmountIn = Annotated[
    int,
    BeforeValidator(uint(128)),
    Field(
        json_schema_extra=_schema(
            {
                "anyOf": [
                    {"type": "string", "pattern": "^[0-9]{1,38}$"},
                    {"type": "integer", "minimum": 0, "maximum": 2**128 - 1},
                ]
            }
        ),
        examples=["1000000"],
    ),
]
# An amount of licence terms: an int is in the token's smallest unit; a str is a checked decimal
# in the token's currency (only in terms that say "amounts": "decimal"), converted with the
# token's decimals by royalty_chain.spec.
TermsAmount = Annotated[
    int | str,
    BeforeValidator(_terms_amount),
    Field(
        json_schema_extra=_schema(
            {
                "anyOf": [
                    {"type": "string", "pattern": "^[0-9]{1,38}(\\.[0-9]+)?$"},
                    {"type": "integer", "minimum": 0, "maximum": 2**128 - 1},
                ],
                "description": 'token units (digits), or with "amounts": "decimal" a decimal in the token\'s currency',
            }
        ),
        examples=["1000000"],
    ),
]
BigId = Annotated[
    int,
    BeforeValidator(uint(256)),
    PlainSerializer(str, return_type=str),
    Field(
        json_schema_extra=_schema(
            {"anyOf": [{"type": "string", "pattern": "^[0-9]{1,77}$"}, {"type": "integer", "minimum": 0}]}
        )
    ),
]
Timestamp = Annotated[
    int,
    BeforeValidator(timestamp),
    Field(
        json_schema_extra=_schema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
                    {"type": "string", "format": "date"},
                    {"type": "string", "format": "date-time"},
                ]
            }
        ),
        examples=[1767225600, "2026-01-01"],
    ),
]
Uint8 = Annotated[int, BeforeValidator(uint(8)), Field(json_schema_extra=_uint_schema(8))]
Uint16 = Annotated[int, BeforeValidator(uint(16)), Field(json_schema_extra=_uint_schema(16))]
Uint32 = Annotated[int, BeforeValidator(uint(32)), Field(json_schema_extra=_uint_schema(32))]
Uint64 = Annotated[int, BeforeValidator(uint(64)), Field(json_schema_extra=_uint_schema(64))]
