"""Bodies of the consent actions the API relays: each action's draft request, the typed data a
party signs (with the terms it binds), the signed submission, and the relayed answer. Amounts are
exact integers in the token's smallest unit; times are unix seconds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from api.inputs import AmountIn, EscalationIn, HexBytes, PartyAddress, ScheduleIn, TermsIn, Timestamp
from api.schemas import Out
from intake.fx import NO_MINOR_UNIT, rate_problem
from royalty_chain.codes import CURRENCIES
from royalty_chain.spec import mark_decimal_schedule


class RegisterDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terms: TermsIn
    deadline: Timestamp | None = Field(None, description="consent deadline; default one day from now")


class Draft(Out):
    typed_data: dict[str, Any] = Field(description="EIP-712 message for eth_signTypedData_v4")
    digest: str
    deadline: int


class RegisterDraft(Draft):
    terms: dict[str, Any] = Field(description="canonical terms: post these back unchanged")


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terms: TermsIn
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


class Relayed(Out):
    tx_hash: str
    block_number: int
    licence_id: int | None = None
    settlement_id: int | None = None


class AmendScheduleIn(ScheduleIn):
    """An amendment's schedule: as the terms' schedule, and it says from when it applies."""

    effective_from: Timestamp = Field(description="when the amended schedule takes effect")


class _Amendment(BaseModel):
    """An amendment's schedule in the one terms format: integers in the token's smallest unit, or
    with ``"amounts": "decimal"`` decimals in the licence's currency, as in the terms."""

    model_config = ConfigDict(extra="forbid")
    amounts: Literal["units", "decimal"] = Field(
        "units", description='"units": integers in the token\'s smallest unit; "decimal": decimals in its currency'
    )

    @model_validator(mode="before")
    @classmethod
    def _mark_decimal_amounts(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("amounts") == "decimal" and "schedule" in data:
            return {**data, "schedule": mark_decimal_schedule(data["schedule"])}
        return data


class AmendDraftIn(_Amendment):
    schedule: AmendScheduleIn
    new_end: Timestamp
    deadline: Timestamp | None = None


class AmendDraft(Draft):
    version: int
    schedule: dict[str, Any]
    new_end: int


class AmendIn(_Amendment):
    schedule: AmendScheduleIn
    new_end: Timestamp
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


class EscalationDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clause: EscalationIn
    deadline: Timestamp | None = Field(None, description="consent deadline; default one day from now")


class EscalationDraft(Draft):
    clause: dict[str, Any] = Field(description="the canonical clause: post it back unchanged")


class EscalationAttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clause: EscalationIn
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


# A rate between 10^-9 and 10^9 with at most 18 decimals, as a plain decimal (the schema's
# reading of intake.fx.rate_problem, which the validator applies).
_FIXED_RATE_PATTERN = r"^([1-9][0-9]{0,8}(\.[0-9]{1,18})?|1000000000(\.0{1,18})?|0\.[0-9]{0,8}[1-9][0-9]{0,9})$"
# The ISO 4217 currencies a sale can be in (no metals or funds without a minor unit).
_SALE_CURRENCIES: list[JsonValue] = [code for code in sorted(CURRENCIES) if code not in NO_MINOR_UNIT]


class FixedRatesIn(BaseModel):
    """A table of fixed contractual rates (docs/currencies.md): for each ISO 4217 currency, how
    many units of the licence currency one unit of it is worth."""

    model_config = ConfigDict(extra="forbid")
    rates: dict[str, str] = Field(
        min_length=1,
        max_length=32,
        description="currency -> rate as a plain decimal with at most 18 decimals (10^-9..10^9)",
        examples=[{"EUR": "1.08", "JPY": "0.0065"}],
        json_schema_extra={
            "propertyNames": {"enum": _SALE_CURRENCIES},
            "additionalProperties": {"type": "string", "pattern": _FIXED_RATE_PATTERN},
        },
    )
    effective_from: Timestamp | None = Field(
        None,
        description="the period start the table is in force from: the licence's start for its first table "
        "(the default), a period that has not begun for a later one (default: the next period's start)",
    )

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict[str, str]) -> dict[str, str]:
        for code, text in value.items():
            if code not in CURRENCIES or code in NO_MINOR_UNIT:
                raise ValueError(f"{code!r} is not an ISO 4217 currency sales can be in")
            _, problem = rate_problem(text)
            if problem is not None:
                raise ValueError(f"the rate of {code}, {text!r}, {problem}")
        return value


class FixedRatesDraftIn(FixedRatesIn):
    deadline: Timestamp | None = Field(None, description="consent deadline; default one day from now")


class FixedRatesDraft(Draft):
    version: int = Field(description="the table's version: signatures agree this version only")
    effective_from: int
    rates: dict[str, str] = Field(description="the canonical rates (post them back unchanged)")


class FixedRatesAgreeIn(FixedRatesIn):
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


class ReviewDeclineDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: PartyAddress = Field(description="the licensor or the licensee, who declines")
    deadline: Timestamp | None = Field(None, description="consent deadline; default one day from now")


class ReviewDeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: PartyAddress
    deadline: Timestamp
    signature: HexBytes


class ReviewAcceptDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: Timestamp | None = Field(
        None, description="when the suggested schedule takes effect; default the start of the period after the review"
    )
    deadline: Timestamp | None = Field(None, description="consent deadline; default one day from now")


class ReviewAcceptDraft(Draft):
    review_id: int
    version: int = Field(description="the schedule version the amendment adds")
    schedule: dict[str, Any] = Field(description="the suggested schedule: post it back unchanged (or another agreed)")
    new_end: int


class ReviewAcceptIn(_Amendment):
    schedule: AmendScheduleIn
    new_end: Timestamp
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


class TerminateDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: Timestamp | None = None


class TerminateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes


class DisputeDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: PartyAddress
    deadline: Timestamp | None = None


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: PartyAddress
    deadline: Timestamp
    signature: HexBytes


class ResolutionDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    final_amount: AmountIn = Field(description="what the licensee finally owes, in token units (at most the due)")
    deadline: Timestamp | None = None


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    final_amount: AmountIn
    deadline: Timestamp
    licensor_signature: HexBytes
    licensee_signature: HexBytes
