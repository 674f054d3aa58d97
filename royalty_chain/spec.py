"""Licence specs: licence terms as a person writes them (JSON), turned into exact on-chain Terms.

A spec names territories, fields and channels by their codes, dates as ISO dates, money as
decimal strings in the payment token's currency (e.g. "25000.00"), and parties either by address
or, on a local chain, by development role name ("licensor_brand"). This is an edge of the
system: past it, money is an integer in the token's smallest unit.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

from royalty_chain.codes import encode_scope, field_index
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY, ZERO_ADDRESS, FieldRate, Payee, Schedule, Term, Terms, Tier


class SpecError(ValueError):
    """A spec that cannot become terms; the message names the field."""


def to_units(amount: str, decimals: int, where: str) -> int:
    """Exact decimal string -> integer token units; refuses fractions finer than the token."""
    try:
        value = Decimal(amount)
    except InvalidOperation as err:
        raise SpecError(f"{where}: {amount!r} is not a decimal amount") from err
    if value < 0:
        raise SpecError(f"{where}: {amount!r} is negative")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise SpecError(f"{where}: {amount!r} has more than {decimals} decimals")
    return int(scaled)


def resolve_address(value: str, where: str) -> str:
    if is_address(value):
        return to_checksum_address(value)
    from royalty_chain.dev.keys import ROLES, role  # role names: a local demo convenience only

    if value in ROLES:
        return role(value).address
    raise SpecError(f"{where}: {value!r} is neither an address nor a development role")


def to_timestamp(value: str | int, where: str) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC).timestamp())
    except ValueError as err:
        raise SpecError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from err


class TierSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: str = Field(description="yearly net sales at which this rate starts, in currency units")
    rate_bps: int = Field(ge=0, le=10_000)


class FieldRateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    rate_bps: int = Field(ge=0, le=10_000)


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: str | int | None = None
    fixed_fee_per_period: str = "0"
    rate_bps: int = Field(0, ge=0, le=10_000)
    per_unit: str = "0"
    minimum_guarantee: str = "0"
    tiers: list[TierSpec] = Field(default_factory=list)
    field_rates: list[FieldRateSpec] = Field(default_factory=list)

    def to_schedule(self, decimals: int, default_effective_from: int) -> Schedule:
        try:
            field_rates = tuple(FieldRate(field_index(f.field), f.rate_bps) for f in self.field_rates)
        except ValueError as err:
            raise SpecError(f"schedule.field_rates: {err}") from err
        return Schedule(
            effective_from=(
                to_timestamp(self.effective_from, "schedule.effective_from")
                if self.effective_from is not None
                else default_effective_from
            ),
            fixed_fee_per_period=to_units(self.fixed_fee_per_period, decimals, "schedule.fixed_fee_per_period"),
            rate_bps=self.rate_bps,
            per_unit=to_units(self.per_unit, decimals, "schedule.per_unit"),
            minimum_guarantee=to_units(self.minimum_guarantee, decimals, "schedule.minimum_guarantee"),
            tiers=tuple(
                Tier(to_units(t.threshold, decimals, f"schedule.tiers[{i}].threshold"), t.rate_bps)
                for i, t in enumerate(self.tiers)
            ),
            field_rates=field_rates,
        )


class PayeeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str
    share_bps: int = Field(gt=0, le=10_000)


class LicenceSpec(BaseModel):
    """A licence as written in examples/licences/*.json (see the README for the schema)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field(description="trademark, patent, copyright, data set, AI model, ...")
    summary: str = ""
    licensor: str
    licensee: str
    legal_text: str = Field(description="the signed legal text (its keccak256 is what goes on chain)")
    asset_ids: list[int] = Field(default_factory=list)
    territories: list[str]
    fields: list[str]
    channels: list[str]
    start: str | int
    end: str | int
    sell_off_days: int = Field(180, ge=0)
    period_days: int = Field(90, gt=0)
    token: str = "USDX"
    advance: str = "0"
    schedule: ScheduleSpec
    payees: list[PayeeSpec]
    tax_bps: int = Field(0, ge=0, lt=10_000)
    tax_account: str | None = None
    oracles: list[str] = Field(default_factory=lambda: ["oracle1", "oracle2", "oracle3"])
    threshold: int = Field(2, ge=0)
    dispute_window_days: int = Field(0, ge=0)
    arbiter: str = "arbiter"
    cure_days: int = Field(30, ge=0)
    salt: str = "0"
    deposit: str = Field("0", description="demo only: what the licensee deposits into escrow at start")

    @field_validator("territories")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [v.upper() for v in value]

    def decimals(self, manifest: Manifest) -> int:
        return self._token(manifest)[1]

    def _token(self, manifest: Manifest) -> tuple[str, int]:
        if is_address(self.token):
            info = manifest.token_by_address(self.token)
            if info is None:
                raise SpecError(f"token: {self.token} is not a token of this deployment")
            return to_checksum_address(self.token), info.decimals
        info = manifest.tokens.get(self.token)
        if info is None:
            raise SpecError(f"token: {self.token!r} is not a token of this deployment ({', '.join(manifest.tokens)})")
        return to_checksum_address(info.address), info.decimals

    def to_terms(self, manifest: Manifest) -> Terms:
        token, decimals = self._token(manifest)
        start = to_timestamp(self.start, "start")
        try:
            scope = encode_scope(self.territories, self.fields, self.channels)
        except ValueError as err:
            raise SpecError(f"scope: {err}") from err
        return Terms(
            licensor=resolve_address(self.licensor, "licensor"),
            licensee=resolve_address(self.licensee, "licensee"),
            legal_text_hash=keccak(text=self.legal_text),
            asset_ids=tuple(self.asset_ids),
            scope=scope,
            term=Term(
                start=start,
                end=to_timestamp(self.end, "end"),
                sell_off_days=self.sell_off_days,
                period_seconds=self.period_days * DAY,
            ),
            token=token,
            schedule=self.schedule.to_schedule(decimals, start),
            payees=tuple(
                Payee(resolve_address(p.account, f"payees[{i}].account"), p.share_bps)
                for i, p in enumerate(self.payees)
            ),
            oracles=tuple(resolve_address(o, f"oracles[{i}]") for i, o in enumerate(self.oracles)),
            threshold=self.threshold,
            arbiter=resolve_address(self.arbiter, "arbiter"),
            advance=to_units(self.advance, decimals, "advance"),
            tax_bps=self.tax_bps,
            tax_account=resolve_address(self.tax_account, "tax_account") if self.tax_account else ZERO_ADDRESS,
            dispute_window=self.dispute_window_days * DAY,
            cure_period=self.cure_days * DAY,
            salt=keccak(text=f"{self.name}|{self.salt}"),
        )

    @classmethod
    def load(cls, path: Path) -> LicenceSpec:
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError) as err:
            raise SpecError(f"{path}: {err}") from err


def spec_json_schema() -> dict[str, Any]:
    return LicenceSpec.model_json_schema()
