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

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")
# The schema's pattern of a party's address: 40 hex digits, not all zero (the JSON Schema form of
# check_party; pydantic's own regex engine has no look-ahead, so the check itself is Python).
PARTY_PATTERN = "^0x(?!0{40}$)[0-9a-fA-F]{40}$"
ADDRESS_FORMAT = "evm-address"
"""OpenAPI ``format`` of addresses: 0x and 40 hex digits, all lower case, all upper case or EIP-55
checksummed (mixed case with a wrong checksum is refused: it is likely a typo)."""
# The latest time a Timestamp takes: 9999-12-31T23:59:59Z, the last second an ISO 8601 date can
# name. Far inside uint64, and exact as a JSON number (below 2**53) in every client.
MAX_TIMESTAMP = 253_402_300_799
# Dates from 1970 (unix time is unsigned); date-times from 1971 to 9998, so that no UTC offset can
# take them outside 0..MAX_TIMESTAMP.
_DATE_PATTERN = "^(19[7-9][0-9]|[2-9][0-9]{3})-"
_DATE_TIME_PATTERN = "^(197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
# JSON numbers with a fraction or an exponent are read as floats: exact as integers up to 2**53.
_EXACT_FLOAT = 2**53
# The largest integer the schema offers as a JSON number: above it many JSON clients (and schema
# tools) round, so larger amounts and ids are offered as strings of digits. (The validators also
# take larger JSON integers, which Python reads exactly.)
JSON_SAFE_INT = 2**53 - 1
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}\Z")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*\Z")  # \Z: Python's $ would let a final newline through


def check_address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    mixed = value[2:] != value[2:].lower() and value[2:] != value[2:].upper()
    if mixed and not is_checksum_address(value):
        raise ValueError("has a wrong EIP-55 checksum")
    return str(to_checksum_address(value))


def check_party(value: Any) -> str:
    """An address that names a party (licensor, licensee, payee, oracle, arbiter, tax account, or a
    party asked about): never the zero address, which nobody holds a key to."""
    address = check_address(value)
    if int(address, 16) == 0:
        raise ValueError("is the zero address, which cannot be a party: name the party's own account")
    return address


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
        elif isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_FLOAT:
            number = int(value)  # JSON Schema counts 1.0 and 1e3 as integers; exact up to 2**53
        elif isinstance(value, float) and value.is_integer():
            raise ValueError(
                "is a JSON number above 2**53 with a fraction or exponent, which is not exact: "
                "write it as an integer or a string of digits"
            )
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
    """Unix seconds, or an ISO 8601 date (00:00 UTC) or date-time (UTC unless it says otherwise),
    from 1970 to the end of 9999 (``MAX_TIMESTAMP``)."""
    if isinstance(value, str) and not value.isdigit():
        if len(value) > 64:
            raise ValueError("must be unix seconds or an ISO 8601 date (2026-01-01) or date-time")
        if (impossible := _impossible_date(value)) is not None:
            raise ValueError(impossible)
        try:
            if len(value) == 10:
                parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            else:
                parsed = datetime.fromisoformat(value.upper())  # RFC 3339 allows "t" and "z"
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
            value = int(parsed.timestamp())
        except (ValueError, OverflowError):
            raise ValueError("must be unix seconds or an ISO 8601 date (2026-01-01) or date-time") from None
    seconds = int(uint(64)(value))
    if seconds > MAX_TIMESTAMP:
        raise ValueError(f"must be at most {MAX_TIMESTAMP} (9999-12-31T23:59:59Z)")
    return seconds


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
        if isinstance(raw, float) and raw.is_integer() and abs(raw) <= _EXACT_FLOAT:
            raw = int(raw)  # JSON Schema counts 25000.0 as an integer, as uint() does
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


# The patterns are the schema's words for what the validators check; they go in json_schema_extra
# because pydantic leaves a Field's own ``pattern`` out of the schema of a BeforeValidator type.
Address = Annotated[
    str,
    BeforeValidator(check_address),
    Field(
        json_schema_extra={"pattern": "^0x[0-9a-fA-F]{40}$", "format": ADDRESS_FORMAT},
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    ),
]
# The address of a party: as Address, and never the zero address.
PartyAddress = Annotated[
    str,
    BeforeValidator(check_party),
    Field(
        json_schema_extra={"pattern": PARTY_PATTERN, "format": ADDRESS_FORMAT},
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    ),
]
Bytes32 = Annotated[
    str,
    BeforeValidator(_bytes32),
    Field(json_schema_extra={"pattern": "^0x[0-9a-fA-F]{64}$"}, examples=["0x" + "00" * 32]),
]
HexBytes = Annotated[
    str, BeforeValidator(_hex_bytes), Field(json_schema_extra={"pattern": "^0x([0-9a-fA-F]{2})*$"}, examples=["0x"])
]
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
                    {"type": "integer", "minimum": 0, "maximum": JSON_SAFE_INT},
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
                    {"type": "integer", "minimum": 0, "maximum": JSON_SAFE_INT},
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
            {
                "anyOf": [
                    {"type": "string", "pattern": "^[0-9]{1,77}$"},
                    {"type": "integer", "minimum": 0, "maximum": JSON_SAFE_INT},
                ]
            }
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
                    {"type": "integer", "minimum": 0, "maximum": MAX_TIMESTAMP},
                    {"type": "string", "format": "date", "pattern": _DATE_PATTERN},
                    {"type": "string", "format": "date-time", "pattern": _DATE_TIME_PATTERN},
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
