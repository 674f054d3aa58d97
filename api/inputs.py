"""Friendly JSON for licence terms and their exact chain form.

Clients write codes as strings ("US", "apparel", "online"), the token by symbol or address,
amounts as integer strings in the token's smallest unit, and times as unix seconds or ISO dates
("2026-01-01" is 00:00 UTC). Every value is range-checked against its Solidity type here, so a
request can fail only with a 422 naming the field; rules only the contract knows (shares adding
up to 10,000, tiers in order, ...) are left to the contract's simulation.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from eth_utils import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from api.errors import InvalidInput
from royalty_chain.codes import CHANNELS, FIELDS, TERRITORIES, CodeTable, Scope
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY, FieldRate, Payee, Schedule, Term, Terms, Tier

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


def _uint(bits: int) -> Any:
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


def _timestamp(value: Any) -> int:
    if isinstance(value, str) and not value.isdigit():
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
    return int(_uint(64)(value))


def _schema(replacement: dict[str, Any]) -> Any:
    """json_schema_extra that replaces the generated type with ``replacement``."""

    def apply(schema: dict[str, Any]) -> None:
        for key in ("type", "minimum", "maximum", "pattern"):
            schema.pop(key, None)
        schema.update(replacement)

    return apply


def _uint_schema(bits: int) -> Any:
    return _schema({"type": "integer", "minimum": 0, "maximum": 2**bits - 1})


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
    BeforeValidator(_uint(128)),
    PlainSerializer(str, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": "^[0-9]{1,38}$"}, examples=["1000000"]),
]
# What clients send: a string of digits or a JSON integer.
AmountIn = Annotated[
    int,
    BeforeValidator(_uint(128)),
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
BigId = Annotated[
    int,
    BeforeValidator(_uint(256)),
    PlainSerializer(str, return_type=str),
    Field(
        json_schema_extra=_schema(
            {"anyOf": [{"type": "string", "pattern": "^[0-9]{1,77}$"}, {"type": "integer", "minimum": 0}]}
        )
    ),
]
Timestamp = Annotated[
    int,
    BeforeValidator(_timestamp),
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
Uint8 = Annotated[int, BeforeValidator(_uint(8)), Field(json_schema_extra=_uint_schema(8))]
Uint16 = Annotated[int, BeforeValidator(_uint(16)), Field(json_schema_extra=_uint_schema(16))]
Uint32 = Annotated[int, BeforeValidator(_uint(32)), Field(json_schema_extra=_uint_schema(32))]
Uint64 = Annotated[int, BeforeValidator(_uint(64)), Field(json_schema_extra=_uint_schema(64))]


def _code_list(table: CodeTable) -> Any:
    def check(values: list[str]) -> list[str]:
        for value in values:
            if value not in table.by_code:
                raise ValueError(f"unknown {table.name} code {value!r}")
        return values

    return AfterValidator(check)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeIn(_Model):
    territories: Annotated[list[str], _code_list(TERRITORIES)] = Field(examples=[["US", "CA"]])
    fields: Annotated[list[str], _code_list(FIELDS)] = Field(examples=[["apparel"]])
    channels: Annotated[list[str], _code_list(CHANNELS)] = Field(examples=[["retail", "online"]])


class TermIn(_Model):
    start: Timestamp
    end: Timestamp = Field(description="first second after the term")
    sell_off_days: Uint32 = 0
    period_seconds: Uint32 = Field(description="length of one reporting period", examples=[7_776_000])


class TierIn(_Model):
    threshold: AmountIn
    rate_bps: Uint16


class FieldRateIn(_Model):
    field: str = Field(examples=["model-training"])
    rate_bps: Uint16


class ScheduleIn(_Model):
    effective_from: Timestamp | None = Field(
        None, description="for amendments; at registration the contract uses the term start"
    )
    fixed_fee_per_period: AmountIn = 0
    rate_bps: Uint16 = 0
    per_unit: AmountIn = 0
    minimum_guarantee: AmountIn = 0
    tiers: list[TierIn] = Field(default_factory=list, max_length=64)
    field_rates: list[FieldRateIn] = Field(default_factory=list, max_length=64)


class PayeeIn(_Model):
    account: Address
    share_bps: Uint16


class TermsIn(_Model):
    """Licence terms as a client writes them (see the module docstring)."""

    licensor: Address
    licensee: Address
    legal_text_hash: Bytes32
    asset_ids: list[BigId] = Field(default_factory=list, max_length=256)
    scope: ScopeIn
    term: TermIn
    token: str = Field(description="token symbol from the manifest or its address", examples=["USDX"])
    advance: AmountIn = 0
    schedule: ScheduleIn
    payees: list[PayeeIn] = Field(max_length=600)
    tax_bps: Uint16 = 0
    tax_account: Address | None = None
    oracles: list[Address] = Field(max_length=32)
    threshold: Uint8
    dispute_window: Uint32 = 0
    arbiter: Address
    cure_period: Uint32 = 30 * DAY
    salt: Bytes32 = "0x" + "00" * 32


def resolve_token(token: str, manifest: Manifest, field: str = "terms.token") -> str:
    info = manifest.tokens.get(token)
    if info is not None:
        return str(to_checksum_address(info.address))
    try:
        return check_address(token)
    except ValueError:
        known = ", ".join(manifest.tokens) or "none"
        raise InvalidInput.field(field, f"is neither a known token symbol ({known}) nor an address") from None


def to_schedule(value: ScheduleIn, effective_from: int, field: str) -> Schedule:
    field_rates = []
    for i, rate in enumerate(value.field_rates):
        if rate.field not in FIELDS.by_code:
            raise InvalidInput.field(f"{field}.field_rates.{i}.field", f"unknown field code {rate.field!r}")
        field_rates.append(FieldRate(FIELDS.index(rate.field), rate.rate_bps))
    return Schedule(
        effective_from=effective_from,
        fixed_fee_per_period=value.fixed_fee_per_period,
        rate_bps=value.rate_bps,
        per_unit=value.per_unit,
        minimum_guarantee=value.minimum_guarantee,
        tiers=tuple(Tier(t.threshold, t.rate_bps) for t in value.tiers),
        field_rates=tuple(field_rates),
    )


def to_terms(value: TermsIn, manifest: Manifest) -> Terms:
    """The exact Terms both parties sign; the registration schedule is effective from the start."""
    zero = "0x" + "00" * 20
    return Terms(
        licensor=value.licensor,
        licensee=value.licensee,
        legal_text_hash=bytes.fromhex(value.legal_text_hash[2:]),
        asset_ids=tuple(value.asset_ids),
        scope=Scope(
            TERRITORIES.bitmap(value.scope.territories),
            FIELDS.bitmap(value.scope.fields),
            CHANNELS.bitmap(value.scope.channels),
        ),
        term=Term(value.term.start, value.term.end, value.term.sell_off_days, value.term.period_seconds),
        token=resolve_token(value.token, manifest),
        schedule=to_schedule(value.schedule, value.schedule.effective_from or 0, "terms.schedule"),
        payees=tuple(Payee(p.account, p.share_bps) for p in value.payees),
        oracles=tuple(value.oracles),
        threshold=value.threshold,
        arbiter=value.arbiter,
        advance=value.advance,
        tax_bps=value.tax_bps,
        tax_account=value.tax_account or str(to_checksum_address(zero)),
        dispute_window=value.dispute_window,
        cure_period=value.cure_period,
        salt=bytes.fromhex(value.salt[2:]),
    )


def schedule_doc(schedule: Schedule) -> dict[str, Any]:
    """A Schedule in the friendly form (codes as strings, amounts as strings)."""
    return {
        "effective_from": schedule.effective_from,
        "fixed_fee_per_period": str(schedule.fixed_fee_per_period),
        "rate_bps": schedule.rate_bps,
        "per_unit": str(schedule.per_unit),
        "minimum_guarantee": str(schedule.minimum_guarantee),
        "tiers": [{"threshold": str(t.threshold), "rate_bps": t.rate_bps} for t in schedule.tiers],
        "field_rates": [
            {"field": _code_or_index(FIELDS, f.field), "rate_bps": f.rate_bps} for f in schedule.field_rates
        ],
    }


def _code_or_index(table: CodeTable, index: int) -> str:
    return table.codes[index] if 0 <= index < len(table.codes) else f"#{index}"


def _codes(table: CodeTable, bitmap: int) -> list[str]:
    return [_code_or_index(table, i) for i in range(bitmap.bit_length()) if bitmap >> i & 1]


def terms_doc(terms: Terms) -> dict[str, Any]:
    """Terms in the canonical friendly form: what POST /licences accepts back unchanged."""
    return {
        "licensor": to_checksum_address(terms.licensor),
        "licensee": to_checksum_address(terms.licensee),
        "legal_text_hash": "0x" + terms.legal_text_hash.hex(),
        "asset_ids": [str(a) for a in terms.asset_ids],
        "scope": {
            "territories": _codes(TERRITORIES, terms.scope.territories),
            "fields": _codes(FIELDS, terms.scope.fields),
            "channels": _codes(CHANNELS, terms.scope.channels),
        },
        "term": {
            "start": terms.term.start,
            "end": terms.term.end,
            "sell_off_days": terms.term.sell_off_days,
            "period_seconds": terms.term.period_seconds,
        },
        "token": to_checksum_address(terms.token),
        "advance": str(terms.advance),
        "schedule": schedule_doc(terms.schedule),
        "payees": [{"account": to_checksum_address(p.account), "share_bps": p.share_bps} for p in terms.payees],
        "tax_bps": terms.tax_bps,
        "tax_account": None if int(terms.tax_account, 16) == 0 else to_checksum_address(terms.tax_account),
        "oracles": [to_checksum_address(o) for o in terms.oracles],
        "threshold": terms.threshold,
        "dispute_window": terms.dispute_window,
        "arbiter": to_checksum_address(terms.arbiter),
        "cure_period": terms.cure_period,
        "salt": "0x" + terms.salt.hex(),
    }
