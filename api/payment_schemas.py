"""Bodies of the money actions: relayed withdrawals, permit deposits and the unsigned deposit
transactions a licensee's wallet signs itself. Amounts are exact integers in the token's smallest
unit (strings out, strings or integers in); times are unix seconds; transaction quantities are
0x-hex, as JSON-RPC and wallets (EIP-1193 ``eth_sendTransaction``) write them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.inputs import Amount, AmountIn, HexBytes, PartyAddress, Timestamp
from api.relay_schemas import Draft
from api.schemas import Out
from royalty_chain.soltypes import JSON_SAFE_INT


def _positive(value: int) -> int:
    if value == 0:
        raise ValueError("must be at least 1 (a deposit of nothing is refused)")
    return value


def _positive_schema(schema: dict[str, Any]) -> None:
    for key in ("type", "minimum", "maximum", "pattern", "anyOf"):
        schema.pop(key, None)
    schema["anyOf"] = [
        {"type": "string", "pattern": "^[1-9][0-9]{0,37}$"},
        {"type": "integer", "minimum": 1, "maximum": JSON_SAFE_INT},
    ]


PositiveAmountIn = Annotated[
    AmountIn,
    AfterValidator(_positive),
    Field(
        json_schema_extra=_positive_schema,
        description="token units (the smallest unit), at least 1",
    ),
]


def _digits_schema(schema: dict[str, Any]) -> None:
    for key in ("type", "minimum", "maximum", "pattern", "anyOf"):
        schema.pop(key, None)
    schema.update(type="string", pattern="^[1-9][0-9]{0,37}$")


# In a query string every value is text: the amount is its digits.
PositiveAmountQuery = Annotated[
    AmountIn,
    AfterValidator(_positive),
    Field(json_schema_extra=_digits_schema, description="token units (the smallest unit), at least 1"),
]


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payee: PartyAddress = Field(description="the payee paid (whoever asks): its part goes to its own address")


class Withdrawal(Out):
    tx_hash: str
    block_number: int
    licence_id: int
    account: str = Field(description="who was paid: the payee, or the licence's tax account")
    amount: Amount
    tax: bool


MAX_CLAIM_LICENCES = 50  # licences in one multi-licence claim (one transaction, bounded gas)


class Payment(Out):
    account: str = Field(description="the payee")
    amount: Amount = Field(description="what the distribution paid it, or failed to pay it (then still claimable)")
    paid: bool = Field(description="false when its transfer failed (reverted, refused or ran out of gas)")


class Distribution(Out):
    tx_hash: str
    block_number: int
    licence_id: int
    published_tx_hash: str | None = Field(
        description="the transaction that first published the licence's long payee list as code, if this call had to"
    )
    from_total: Amount = Field(description="what every payee had been paid its part of before (cumulative)")
    to_total: Amount = Field(description="what every payee has now been paid its part of (cumulative)")
    paid: Amount
    unpaid: Amount = Field(description="what failed transfers left claimable")
    payments: list[Payment] = Field(description="one per payee owed anything, in the licence's payee order")


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payee: PartyAddress = Field(description="the payee paid (whoever asks)")
    licence_ids: list[Annotated[int, Field(ge=1, le=JSON_SAFE_INT)]] = Field(
        min_length=1,
        max_length=MAX_CLAIM_LICENCES,
        description="licences to claim from; list those paid in one token together for one transfer per token",
    )


class Claim(Out):
    tx_hash: str
    block_number: int
    payee: str
    total: Amount
    withdrawals: list[Withdrawal] = Field(description="one per licence that owed the payee something")


class PermitDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveAmountIn
    deadline: Timestamp | None = Field(None, description="the permit's deadline; default one day from now")


class PermitDraft(Draft):
    owner: str = Field(description="the licensee: a permit deposit comes from its wallet")
    spender: str = Field(description="the ledger")
    token: str
    value: Amount
    nonce: int = Field(description="the owner's permit nonce at the token: post it back with the signature")


class PermitDepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveAmountIn
    deadline: Timestamp
    nonce: Annotated[int, Field(ge=0, le=JSON_SAFE_INT)] | None = Field(
        None, description="the nonce the permit was signed with; default the owner's current one"
    )
    signature: HexBytes = Field(description="the licensee's 65-byte EIP-2612 signature (r, s, v) of the draft")


class Deposit(Out):
    tx_hash: str
    block_number: int
    licence_id: int
    from_: str = Field(alias="from", serialization_alias="from", description="whose tokens were deposited")
    received: Amount
    to_arrears: Amount
    to_escrow: Amount

    model_config = ConfigDict(populate_by_name=True)


class UnsignedTransaction(Out):
    """An EIP-1559 transaction for the sender's wallet to sign and send as it is."""

    purpose: Literal["approve", "deposit"]
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    data: str
    value: str = Field(description="0x0: no ether is sent")
    chainId: str
    nonce: str
    gas: str | None = Field(description="gas limit (the estimate with a margin); null until the approve is mined")
    maxFeePerGas: str
    maxPriorityFeePerGas: str
    type: Literal["0x2"] = "0x2"

    model_config = ConfigDict(populate_by_name=True)


class UnsignedDeposit(Out):
    licence_id: int
    from_: str = Field(alias="from", serialization_alias="from")
    token: str
    spender: str = Field(description="the ledger")
    amount: Amount
    allowance: Amount = Field(description="what the ledger may take from the sender now")
    balance: Amount
    transactions: list[UnsignedTransaction] = Field(
        description="in order: approve (only when the allowance is short), then deposit; when an approve is "
        "listed the deposit's gas is null (it cannot be estimated before the approve is mined): send the approve, "
        "then ask again for the deposit alone"
    )

    model_config = ConfigDict(populate_by_name=True)


__all__ = [
    "Deposit", "PermitDepositIn", "PermitDraft", "PermitDraftIn", "PositiveAmountIn", "PositiveAmountQuery",
    "UnsignedDeposit", "UnsignedTransaction", "Withdrawal", "WithdrawalIn",
]  # fmt: skip
