"""The one terms format: licence terms as JSON, validated by one model and turned into exact Terms.

``TermsIn`` is what ``POST /licences`` and ``/licences/drafts`` take as ``terms`` and what the
``terms`` of ``examples/licences/*.json`` are; ``examples/TERMS_FORMAT.md`` documents it. It
accepts the human form (amounts as decimals in the token's currency when the terms say
``"amounts": "decimal"``, ISO codes, ISO dates, durations in days, the legal text itself, payees
in any order) and the exact form (integers in the token's smallest unit, unix seconds, seconds,
the text's keccak256), field by field. Range checks happen at validation, so a bad request fails
naming its field; what needs the deployment (the token's address and decimals) is checked by
:func:`to_terms`, whose :class:`SpecError` names the field too.

Role names ("licensor_brand") are a demo convenience and not part of the format:
:class:`royalty_chain.dev.licence_files.LicenceSpec` (an examples file: name, kind, summary, demo
deposit, terms) resolves them before validation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from eth_utils import keccak, to_checksum_address
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from royalty_chain import units
from royalty_chain.calendar import (
    MAX_RESERVE_BPS,
    MAX_RESERVE_PERIODS,
    PERIOD_WORDS,
    parse_period_rule,
    parse_year_start,
)
from royalty_chain.codes import CHANNELS, FIELDS, TERRITORIES, CodeTable, Scope
from royalty_chain.escalation import NO_FLOOR, Clause, ClauseError, Rounding, Target, month_text, parse_month
from royalty_chain.fx import FIXED_SOURCE, MAX_SOURCE_LENGTH, ON_CHAIN_RULES, FxRule, source_problem
from royalty_chain.manifest import Manifest
from royalty_chain.soltypes import (
    BigId,
    Bytes32,
    DecimalText,
    PartyAddress,
    TermsAmount,
    Timestamp,
    Uint8,
    Uint16,
    Uint32,
    check_address,
)
from royalty_chain.terms import BPS, DAY, ZERO_ADDRESS, Calendar, FieldRate, Payee, Schedule, Term, Terms, Tier

_UINT32_MAX = (1 << 32) - 1
_MAX_DAYS = _UINT32_MAX // DAY  # 49,710: the most days whose seconds fit uint32
# The schema's words for what the validators check, so that the schema and they agree.
_DAYS_SCHEMA: JsonDict = {"maximum": _MAX_DAYS}
_YEAR_START_PATTERN = (
    "^(start|calendar|(01|03|05|07|08|10|12)-(0[1-9]|[12][0-9]|3[01])|(04|06|09|11)-(0[1-9]|[12][0-9]|30)"
    "|02-(0[1-9]|1[0-9]|2[0-9]))$"
)


def _codes_schema(table: CodeTable) -> JsonDict:
    return {"items": {"type": "string", "enum": list(table.codes)}}


def _int_range(low: int, high: int) -> Any:
    """json_schema_extra of an integer field that a validator keeps within ``low``..``high``."""

    def apply(schema: dict[str, Any]) -> None:
        schema.update(type="integer", minimum=low, maximum=high)

    return apply


class SpecError(ValueError):
    """Terms that cannot become Terms on this deployment; ``field`` names the offending value and
    ``error``, when the contract has one for it, the custom error it would revert with."""

    def __init__(self, field: str, reason: str, error: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.error = error
        super().__init__(f"{field}: {reason}")


def _code_list(table: CodeTable) -> Any:
    def check(values: list[str]) -> list[str]:
        for value in values:
            if value not in table.by_code:
                raise ValueError(f"unknown {table.name} code {value!r}")
        return values

    return AfterValidator(check)


def _upper(values: Any) -> Any:
    return [v.upper() if isinstance(v, str) else v for v in values] if isinstance(values, list) else values


def _days(days: int | None, seconds: int | None, names: str, default: int | None = None) -> int | None:
    """One duration written either in seconds or in whole days."""
    if days is not None and seconds is not None:
        raise ValueError(f"give {names}, not both")
    if days is None:
        return default if seconds is None else seconds
    if days * DAY > _UINT32_MAX:
        raise ValueError(f"{days} days do not fit uint32 seconds")
    return days * DAY


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeIn(_Model):
    territories: Annotated[list[str], BeforeValidator(_upper), _code_list(TERRITORIES)] = Field(
        examples=[["US", "CA"]],
        description="ISO 3166-1 alpha-2 codes (any case)",
        json_schema_extra=_codes_schema(TERRITORIES),
    )
    fields: Annotated[list[str], _code_list(FIELDS)] = Field(
        examples=[["apparel"]], json_schema_extra=_codes_schema(FIELDS)
    )
    channels: Annotated[list[str], _code_list(CHANNELS)] = Field(
        examples=[["retail", "online"]], json_schema_extra=_codes_schema(CHANNELS)
    )


class AnniversaryPeriodIn(_Model):
    months: int = Field(ge=1, le=60, description="length of one period in months")
    anniversary: bool = Field(True, description="counted from the start date (false: from 1 January)")


def _known_period(value: Any) -> Any:
    """One clear error for an unknown period word (not one per member of the union)."""
    if isinstance(value, str) and value not in PERIOD_WORDS:
        raise ValueError(
            f'{value!r} is not a reporting period: use "month", "quarter", "half", "year", '
            '{"months": N, "anniversary": true}, or period_days / period_seconds'
        )
    return value


_FX_RULE_NAMES = tuple(rule.value for rule in ON_CHAIN_RULES)
_FX_SOURCE_PATTERN = f"^[!-~]{{1,{MAX_SOURCE_LENGTH}}}$"  # printable ASCII without spaces: source_problem


def _known_fx_rule(value: Any) -> Any:
    """One clear error for a rule that does not exist."""
    if isinstance(value, str) and value not in _FX_RULE_NAMES:
        names = ", ".join(f'"{name}"' for name in _FX_RULE_NAMES)
        raise ValueError(f"{value!r} is not a conversion rule: use {names}")
    return value


class FxIn(_Model):
    """The conversion clause (docs/currencies.md): how sales in other currencies than the
    licence's token are converted, and whose published rates convert them."""

    rule: Annotated[
        Literal["none", "period-average", "period-end", "sale-date", "fixed"], BeforeValidator(_known_fx_rule)
    ] = Field(
        description='"period-average": the mean of the source\'s rates dated in the period; "period-end": its '
        'last rate in the period; "sale-date": its rate of the sale date; "fixed": the rates both parties '
        "agree in a table signed apart (POST /licences/{id}/fixed-rates), the one in force at the period's "
        'start; "none": no conversion (a sale in another currency is refused)',
        examples=["period-average"],
    )
    source: str | None = Field(
        None,
        validate_default=True,
        description=f"the publisher of the rates (1 to {MAX_SOURCE_LENGTH} printable ASCII characters, no spaces), "
        'e.g. "ECB"; required unless the rule is "none", and absent then',
        examples=["ECB"],
        json_schema_extra={"pattern": _FX_SOURCE_PATTERN},
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None, info: ValidationInfo) -> str | None:
        rule = info.data.get("rule")
        if rule is None:  # the rule itself failed: its error says why
            return value
        if rule == FxRule.NONE.value:
            if value is not None:
                raise ValueError('rule "none" converts nothing: give no source, or a rule that uses it')
            return value
        if value is None:
            if rule == FxRule.FIXED.value:  # the contract's own rates
                return FIXED_SOURCE
            raise ValueError(f'rule "{rule}" needs a source: the publisher of its rates, e.g. "ECB"')
        problem = source_problem(value)
        if problem is not None:
            raise ValueError(f"source {value!r} {problem}")
        return value

    def number(self) -> int:
        return FxRule(self.rule).number


class TermIn(_Model):
    start: Timestamp = Field(description="first second of the term: a date (00:00 UTC) for month-based periods")
    end: Timestamp = Field(description="first second after the term")
    sell_off_days: Uint32 = 0
    period: Annotated[
        Literal["month", "quarter", "half", "year"] | AnniversaryPeriodIn | None, BeforeValidator(_known_period)
    ] = Field(
        None,
        description="calendar months, quarters, halves or years from 1 January, or N-month periods from the start",
        examples=["quarter", {"months": 3, "anniversary": True}],
    )
    period_seconds: Uint32 | None = Field(
        None, description="or fixed periods of this many seconds", examples=[7_776_000]
    )
    period_days: Uint32 | None = Field(
        None, description="or fixed periods of this many days", examples=[90], json_schema_extra=_DAYS_SCHEMA
    )
    contract_year_start: str = Field(
        "start",
        description='contract years begin on the start date ("start"), on 1 January ("calendar") '
        'or on a month and day ("07-01")',
        examples=["start", "calendar", "07-01"],
        json_schema_extra={"pattern": _YEAR_START_PATTERN},
    )
    due_days: Uint16 = Field(
        30,
        description="reports and payments are due this many days after a period ends (1..365)",
        json_schema_extra=_int_range(1, 365),
    )
    late_interest_bps: Uint16 = Field(
        0,
        description="simple yearly interest on amounts paid after their due date, actual/365 (1200 = 12%)",
        json_schema_extra=_int_range(0, 10_000),
    )
    reserve_bps: Uint16 = Field(
        0,
        description="share of each report's payable royalty held back as a reserve against returns "
        "(2000 = 20%, at most 5000), released after reserve_periods periods or consumed by returns",
        json_schema_extra=_int_range(0, MAX_RESERVE_BPS),
    )
    reserve_periods: int = Field(
        0,
        ge=0,
        le=255,
        description="a period's reserve is released at the end of the period this many later (1..24)",
        json_schema_extra=_int_range(0, MAX_RESERVE_PERIODS),
    )
    audit_threshold_bps: Uint16 = Field(
        500,
        description="an audit finding whose underpayment exceeds this share of the period's settled royalty "
        "bears interest from the original due date and the audit's cost (500 = 5%; 0: any underpayment)",
        json_schema_extra=_int_range(0, 10_000),
    )
    fx: FxIn | None = Field(
        None,
        description="the conversion clause for sales in other currencies; absent: none (such sales are refused)",
        examples=[{"rule": "period-average", "source": "ECB"}],
    )
    # Filled in by the validator from the fields above: what the contract stores (not an input).
    period_months: SkipJsonSchema[int] = Field(0, exclude=True)
    anniversary: SkipJsonSchema[bool] = Field(False, exclude=True)
    year_month: SkipJsonSchema[int] = Field(0, exclude=True)
    year_day: SkipJsonSchema[int] = Field(0, exclude=True)

    @field_validator("contract_year_start")
    @classmethod
    def _year_start(cls, value: str) -> str:
        parse_year_start(value)  # names the problem: "February has at most 29 days"
        return value

    @field_validator("due_days")
    @classmethod
    def _due_days(cls, value: int) -> int:
        if not 1 <= value <= 365:
            raise ValueError(f"due_days must be 1 to 365 days after a period ends, not {value}")
        return value

    @field_validator("late_interest_bps")
    @classmethod
    def _interest(cls, value: int) -> int:
        if value > 10_000:
            raise ValueError(f"late_interest_bps must be at most 10,000 (100% a year), not {value}")
        return value

    @field_validator("reserve_bps")
    @classmethod
    def _reserve(cls, value: int) -> int:
        if value > MAX_RESERVE_BPS:
            raise ValueError(f"reserve_bps must be at most 5,000 (half of each royalty), not {value}")
        return value

    @field_validator("audit_threshold_bps")
    @classmethod
    def _audit_threshold(cls, value: int) -> int:
        if value > 10_000:
            raise ValueError(f"audit_threshold_bps must be at most 10,000 (100%), not {value}")
        return value

    @model_validator(mode="after")
    def _reserve_periods(self) -> TermIn:
        if self.reserve_bps == 0 and self.reserve_periods != 0:
            raise ValueError("reserve_periods needs a reserve: give reserve_bps too, or leave reserve_periods 0")
        if self.reserve_bps != 0 and not 1 <= self.reserve_periods <= MAX_RESERVE_PERIODS:
            raise ValueError(
                f"reserve_periods must be 1 to {MAX_RESERVE_PERIODS} periods for a reserve, not {self.reserve_periods}"
            )
        return self

    @model_validator(mode="after")
    def _one_period(self) -> TermIn:
        seconds = _days(self.period_days, self.period_seconds, "period_seconds or period_days")
        if self.period is not None:
            if seconds is not None:
                raise ValueError("give period, or period_seconds / period_days, not both")
            rule = self.period if isinstance(self.period, str) else self.period.model_dump()
            self.period_months, self.anniversary = parse_period_rule(rule)
            if self.start % DAY != 0:
                raise ValueError("month-based periods start at 00:00 UTC: give the start as a date (2026-01-01)")
            self.period_seconds = 0
        elif seconds is None:
            raise ValueError("period (month, quarter, half, year), period_seconds or period_days is required")
        else:
            self.period_seconds = seconds
        self.period_days = None
        self.year_month, self.year_day = parse_year_start(self.contract_year_start)
        return self

    def calendar(self) -> Calendar:
        return Calendar(
            self.period_months,
            self.anniversary,
            self.year_month,
            self.year_day,
            self.due_days,
            self.late_interest_bps,
            self.reserve_bps,
            self.reserve_periods,
            self.audit_threshold_bps,
            0 if self.fx is None else self.fx.number(),
            "" if self.fx is None or self.fx.source is None else self.fx.source,
        )


class TierIn(_Model):
    threshold: TermsAmount
    rate_bps: Uint16


class FieldRateIn(_Model):
    field: str = Field(examples=["model-training"], json_schema_extra={"enum": list(FIELDS.codes)})
    rate_bps: Uint16


class ScheduleIn(_Model):
    effective_from: Timestamp | None = Field(
        None, description="for amendments; at registration the contract uses the term start"
    )
    fixed_fee_per_period: TermsAmount = 0
    rate_bps: Uint16 = 0
    per_unit: TermsAmount = 0
    minimum_guarantee: TermsAmount = 0
    tiers: list[TierIn] = Field(default_factory=list, max_length=64)
    field_rates: list[FieldRateIn] = Field(default_factory=list, max_length=64)


class PayeeIn(_Model):
    account: PartyAddress
    share_bps: Uint16


_SCHEDULE_AMOUNTS = ("fixed_fee_per_period", "per_unit", "minimum_guarantee")


def _decimal(value: Any) -> DecimalText:
    return value if isinstance(value, DecimalText) else DecimalText(value)


def mark_decimal_schedule(schedule: Any) -> Any:
    """A raw schedule with every amount marked as a decimal in the token's currency (the
    ``"amounts": "decimal"`` switch of the terms and of an amendment); other values are kept."""
    if not isinstance(schedule, dict):
        return schedule
    marked = {k: _decimal(v) if k in _SCHEDULE_AMOUNTS else v for k, v in schedule.items()}
    tiers = marked.get("tiers")
    if isinstance(tiers, list):
        marked["tiers"] = [
            {**t, "threshold": _decimal(t["threshold"])} if isinstance(t, dict) and "threshold" in t else t
            for t in tiers
        ]
    return marked


class TermsIn(_Model):
    """Licence terms in the one terms format (see the module docstring and TERMS_FORMAT.md)."""

    amounts: Literal["units", "decimal"] = Field(
        "units", description='"units": integers in the token\'s smallest unit; "decimal": decimals in its currency'
    )
    licensor: PartyAddress
    licensee: PartyAddress
    legal_text_hash: Bytes32 | None = Field(None, description="keccak256 of the signed legal text")
    legal_text: str | None = Field(None, max_length=100_000, description="or the text itself")
    asset_ids: list[BigId] = Field(default_factory=list, max_length=256)
    scope: ScopeIn
    term: TermIn
    token: str = Field(description="token symbol from the manifest or its address", examples=["USDX"])
    advance: TermsAmount = 0
    schedule: ScheduleIn
    payees: list[PayeeIn] = Field(max_length=600, description="in any order; shares add up to 10,000")
    tax_bps: Uint16 = 0
    tax_account: PartyAddress | None = Field(None, description="where withheld tax goes; null for none")
    oracles: list[PartyAddress] = Field(max_length=32)
    threshold: Uint8
    dispute_window: Uint32 | None = Field(None, description="seconds; default 0")
    dispute_window_days: Uint32 | None = Field(None, description="or the same in days", json_schema_extra=_DAYS_SCHEMA)
    arbiter: PartyAddress
    cure_period: Uint32 | None = Field(None, description="seconds; default 30 days")
    cure_days: Uint32 | None = Field(None, description="or the same in days", json_schema_extra=_DAYS_SCHEMA)
    salt: Bytes32 = "0x" + "00" * 32

    @model_validator(mode="before")
    @classmethod
    def _mark_decimal_amounts(cls, data: Any) -> Any:
        """In decimal terms, mark every amount so its validator reads it as a decimal."""
        if not isinstance(data, dict) or data.get("amounts") != "decimal":
            return data
        data = dict(data)
        if "advance" in data:
            data["advance"] = _decimal(data["advance"])
        if "schedule" in data:
            data["schedule"] = mark_decimal_schedule(data["schedule"])
        return data

    @field_validator("payees")
    @classmethod
    def _shares_sum(cls, payees: list[PayeeIn]) -> list[PayeeIn]:
        total = sum(p.share_bps for p in payees)
        if payees and total != BPS:
            raise ValueError(f"shares add up to {total} basis points; they must add up to exactly {BPS}")
        return payees

    @model_validator(mode="after")
    def _one_of_each(self) -> TermsIn:
        if (self.legal_text is None) == (self.legal_text_hash is None):
            raise ValueError("give legal_text_hash or legal_text (exactly one)")
        self.dispute_window = _days(self.dispute_window_days, self.dispute_window, "dispute_window or _days", 0)
        self.cure_period = _days(self.cure_days, self.cure_period, "cure_period or cure_days", 30 * DAY)
        self.dispute_window_days = self.cure_days = None
        return self


# ------------------------------------------------------------------ conversion


def token_of(token: str, manifest: Manifest, field: str = "terms.token") -> tuple[str, int | None]:
    """The token's checksum address and, when the deployment knows it, its decimals."""
    info = manifest.tokens.get(token)
    if info is not None:
        return str(to_checksum_address(info.address)), info.decimals
    try:
        address = check_address(token)
    except ValueError:
        known = ", ".join(manifest.tokens) or "none"
        raise SpecError(field, f"is neither a known token symbol ({known}) nor an address") from None
    by_address = manifest.token_by_address(address)
    return address, None if by_address is None else by_address.decimals


def amount_units(amount: int | str, decimals: int | None, field: str) -> int:
    """An amount of the terms in token units: an int already is; a decimal needs the decimals."""
    if isinstance(amount, int):
        return amount
    if decimals is None:
        raise SpecError(field, "is a decimal amount, but the token is not one of this deployment (decimals unknown)")
    try:
        return units.parse_amount(amount, decimals)
    except units.AmountError as err:
        raise SpecError(field, f"{amount!r} {err.reason} (the token has {decimals})") from None


def to_schedule(value: ScheduleIn, effective_from: int, field: str, decimals: int | None = None) -> Schedule:
    field_rates = []
    for i, rate in enumerate(value.field_rates):
        if rate.field not in FIELDS.by_code:
            raise SpecError(f"{field}.field_rates.{i}.field", f"unknown field code {rate.field!r}")
        field_rates.append(FieldRate(FIELDS.index(rate.field), rate.rate_bps))
    return Schedule(
        effective_from=effective_from,
        fixed_fee_per_period=amount_units(value.fixed_fee_per_period, decimals, f"{field}.fixed_fee_per_period"),
        rate_bps=value.rate_bps,
        per_unit=amount_units(value.per_unit, decimals, f"{field}.per_unit"),
        minimum_guarantee=amount_units(value.minimum_guarantee, decimals, f"{field}.minimum_guarantee"),
        tiers=tuple(
            Tier(amount_units(t.threshold, decimals, f"{field}.tiers.{i}.threshold"), t.rate_bps)
            for i, t in enumerate(value.tiers)
        ),
        field_rates=tuple(field_rates),
    )


def to_terms(value: TermsIn, manifest: Manifest, field: str = "terms") -> Terms:
    """The exact Terms both parties sign; raises SpecError naming the field (``field`` prefixes it).

    The registration schedule's ``effective_from`` is 0 unless given: the contract uses the term
    start. Payees come out in ascending address order (``Terms`` sorts them, as the registry needs).
    """
    token, decimals = token_of(value.token, manifest, f"{field}.token")
    if value.amounts == "decimal" and decimals is None:
        raise SpecError(f"{field}.token", "is not a token of this deployment, so decimal amounts cannot be read")
    legal_text_hash = (
        keccak(text=value.legal_text) if value.legal_text is not None else bytes.fromhex(str(value.legal_text_hash)[2:])
    )
    # The validators filled these in; a model built with model_construct may not have.
    period_seconds, dispute_window, cure_period = value.term.period_seconds, value.dispute_window, value.cure_period
    assert period_seconds is not None and dispute_window is not None and cure_period is not None
    return Terms(
        licensor=value.licensor,
        licensee=value.licensee,
        legal_text_hash=legal_text_hash,
        asset_ids=tuple(value.asset_ids),
        scope=Scope(
            TERRITORIES.bitmap(value.scope.territories),
            FIELDS.bitmap(value.scope.fields),
            CHANNELS.bitmap(value.scope.channels),
        ),
        term=Term(value.term.start, value.term.end, value.term.sell_off_days, period_seconds, value.term.calendar()),
        token=token,
        schedule=to_schedule(value.schedule, value.schedule.effective_from or 0, f"{field}.schedule", decimals),
        payees=tuple(Payee(p.account, p.share_bps) for p in value.payees),
        oracles=tuple(value.oracles),
        threshold=value.threshold,
        arbiter=value.arbiter,
        advance=amount_units(value.advance, decimals, f"{field}.advance"),
        tax_bps=value.tax_bps,
        tax_account=value.tax_account or str(to_checksum_address(ZERO_ADDRESS)),
        dispute_window=dispute_window,
        cure_period=cure_period,
        salt=bytes.fromhex(value.salt[2:]),
    )


# ------------------------------------------------------------------ escalation

ESCALATION_TARGETS: dict[str, Target] = {
    "fixed_fee": Target.FIXED_FEE,
    "per_unit": Target.PER_UNIT,
    "minimum_guarantee": Target.MINIMUM_GUARANTEE,
    "rates": Target.RATES,
    "tier_thresholds": Target.TIER_THRESHOLDS,
}
"""The clause's words for what it escalates, in the order of the contract's ``targets`` bits."""
_INDEX_PATTERN = "^[ -~]{0,16}$"  # printable ASCII: the chain's bytes16 (empty: EscalationIndexMissing)
# Which field of the clause each of the escalator's clause errors is about.
_CLAUSE_ERROR_FIELDS = {
    "EscalationIndexMissing": "index",
    "EscalationSuccessorIsIndex": "successor",
    "EscalationMonthInvalid": "base_month",
    "EscalationTargetsInvalid": "escalates",
    "EscalationFloorInvalid": "floor_bps",
    "EscalationFloorAboveCap": "floor_bps",
    "EscalationRoundingInvalid": "round_to",
}


class EscalationIn(_Model):
    """An index-linked escalation clause (docs/escalation.md) as both parties read and sign it.

    The schema checks each value's form; the clause's own rules (an index named, a successor
    other than it, a real month, something escalated, a floor at least -100% and not above the
    cap, rounding to at least one token unit) are the escalator's, checked by :func:`to_clause`
    with the contract's error names, so a clause is refused before anything is sent."""

    index: str = Field(
        max_length=16,
        pattern=_INDEX_PATTERN,
        description="the index the clause follows, as its publisher names it (1 to 16 ASCII characters)",
        examples=["CPI-U"],
    )
    successor: str | None = Field(
        None,
        max_length=16,
        pattern=_INDEX_PATTERN,
        description="the index that replaces it if its publisher stops it; null: none",
        examples=["CPI-U-2024"],
    )
    base_month: str = Field(
        pattern="^[0-9]{4}-[0-9]{2}$",
        description="YYYY-MM of the index value step 1 starts from; step n compares base + 12(n-1) months "
        "with base + 12n months",
        examples=["2023-09"],
    )
    escalates: list[Literal["fixed_fee", "per_unit", "minimum_guarantee", "rates", "tier_thresholds"]] = Field(
        max_length=5, description="the money terms each step multiplies", examples=[["fixed_fee", "rates"]]
    )
    upward_only: bool = Field(False, description="a step never lowers anything (the floor is at least 0)")
    floor_bps: int | None = Field(
        None,
        ge=-(2**15),
        le=2**15 - 1,
        description="the least change a step makes, in basis points of the amounts (-200: at most 2% down; "
        "-10000 and null: none)",
    )
    cap_bps: int | None = Field(
        None, ge=0, le=2**16 - 1, description="the most a step raises, in basis points (300: 3%); null or 0: none"
    )
    rounding: Literal["down", "nearest", "up"] = Field(
        "down", description="each escalated amount is rounded once, this way, to a multiple of round_to"
    )
    round_to: str | None = Field(
        None,
        pattern="^[0-9]+(\\.[0-9]+)?$",
        description='the unit amounts are rounded to, a decimal in the token\'s currency ("0.01"); null: the '
        "token's smallest unit. Rates always round to a whole basis point",
        examples=["0.01"],
    )


def to_clause(value: EscalationIn, decimals: int | None, field: str = "escalation") -> Clause:
    """The exact Clause both parties sign; raises SpecError naming the field and, for a rule of
    the escalator's, its error (``EscalationFloorAboveCap``, ...)."""
    try:
        base_month = parse_month(value.base_month)
    except ValueError as err:
        raise SpecError(f"{field}.base_month", str(err), "EscalationMonthInvalid") from None
    targets = Target(0)
    for name in value.escalates:
        targets |= ESCALATION_TARGETS[name]
    round_to = 1 if value.round_to is None else amount_units(value.round_to, decimals, f"{field}.round_to")
    try:
        return Clause(
            index=value.index,
            successor=value.successor or "",
            base_month=base_month,
            targets=int(targets),
            upward_only=value.upward_only,
            floor_bps=NO_FLOOR if value.floor_bps is None else value.floor_bps,
            cap_bps=value.cap_bps or 0,
            rounding=Rounding[value.rounding.upper()],
            round_to=round_to,
        )
    except ClauseError as err:
        raise SpecError(f"{field}.{_CLAUSE_ERROR_FIELDS.get(err.error, 'index')}", str(err), err.error) from None


def clause_doc(clause: Clause, decimals: int | None) -> dict[str, Any]:
    """A Clause in the terms format's words (what the escalation drafts accept back unchanged)."""
    return {
        "index": clause.index,
        "successor": clause.successor or None,
        "base_month": month_text(clause.base_month),
        "escalates": [name for name, flag in ESCALATION_TARGETS.items() if flag in Target(clause.targets)],
        "upward_only": clause.upward_only,
        "floor_bps": None if clause.floor_bps == NO_FLOOR else clause.floor_bps,
        "cap_bps": clause.cap_bps or None,
        "rounding": clause.rounding.name.lower(),
        "round_to": units.format_amount(clause.round_to, decimals or 0),
    }


def spec_json_schema() -> dict[str, Any]:
    return TermsIn.model_json_schema()
