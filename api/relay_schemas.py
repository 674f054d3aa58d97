"""Bodies of the consent actions the API relays: each action's draft request, the typed data a
party signs (with the terms it binds), the signed submission, and the relayed answer. Amounts are
exact integers in the token's smallest unit; times are unix seconds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.inputs import Address, AmountIn, HexBytes, ScheduleIn, TermsIn, Timestamp, Uint64
from api.schemas import Out


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


class AmendDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: ScheduleIn
    new_end: Timestamp
    deadline: Timestamp | None = None


class AmendDraft(Draft):
    version: int
    schedule: dict[str, Any]
    new_end: int


class AmendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: ScheduleIn
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
    party: Address
    deadline: Timestamp | None = None


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party: Address
    deadline: Uint64
    signature: HexBytes


class ResolutionDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    final_amount: AmountIn = Field(description="what the licensee finally owes, in token units (at most the due)")
    deadline: Timestamp | None = None


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    final_amount: AmountIn
    deadline: Uint64
    licensor_signature: HexBytes
    licensee_signature: HexBytes
