"""Response models; the consent actions' bodies are in api.relay_schemas. Amounts are exact
integers in the token's smallest unit, serialised as decimal strings; times are unix seconds."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.inputs import Amount


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(Out):
    status: Literal["ok", "degraded"]
    chain_id: int | None
    head_block: int | None
    indexed_block: int | None
    lag: int | None
    events_indexed: int
    reorgs: int
    resets: int
    last_error: str | None


class TokenOut(Out):
    address: str
    symbol: str | None
    decimals: int | None
    currency: str | None


class TierOut(Out):
    threshold: Amount
    rate_bps: int


class FieldRateOut(Out):
    field: str
    rate_bps: int


class ScheduleOut(Out):
    version: int
    effective_from: int
    fixed_fee_per_period: Amount
    rate_bps: int
    per_unit: Amount
    minimum_guarantee: Amount
    tiers: list[TierOut]
    field_rates: list[FieldRateOut]
    new_end: int
    previous_end: int | None
    tx_hash: str
    block_number: int


class PayeeOut(Out):
    position: int
    account: str
    share_bps: int
    entitled: Amount
    withdrawn: Amount
    claimable: Amount


class TaxOut(Out):
    tax_bps: int
    account: str | None
    withheld: Amount
    withdrawn: Amount
    claimable: Amount


class LicenceTotals(Out):
    royalty: Amount
    recouped: Amount
    due: Amount
    paid: Amount
    released: Amount
    deposited: Amount
    escrow_withdrawn: Amount


class LicenceSummary(Out):
    id: int
    licensor: str
    licensee: str
    token: TokenOut
    status: Literal["active", "expired", "terminated"]
    start: int
    end: int
    settlement_count: int
    royalty_total: Amount
    arrears: Amount
    escrow: Amount


class LicencePage(Out):
    items: list[LicenceSummary]
    total: int
    page: int
    size: int


class BreachOut(Out):
    noticed_at: int
    cures_at: int


class LicenceDetail(LicenceSummary):
    terms: dict[str, Any] = Field(description="the registered terms in the friendly form of POST /licences")
    arbiter: str
    sell_off_end: int
    terminated_at: int | None
    terminated_by_consent: bool | None
    schedule_versions: list[ScheduleOut]
    payees: list[PayeeOut]
    tax: TaxOut
    totals: LicenceTotals
    advance: Amount
    advance_left: Amount
    contract_year: int
    next_minimum_guarantee_date: int | None = Field(
        description="start + (n+1)*365 days for the current contract year n"
    )
    minimum_guarantee: Amount
    breach_notice: BreachOut | None
    arrears_cleared_at: int | None
    scope_breaches: int
    registered_block: int
    registered_tx: str


class BucketOut(Out):
    territory: str
    field: str
    channel: str
    units: Amount
    gross: Amount
    deductions: Amount
    net: Amount
    in_scope: bool


class PayeePart(Out):
    account: str
    share_bps: int
    amount: Amount


class DisputeOut(Out):
    disputed_by: str
    disputed_at: int | None
    tx_hash: str | None
    resolved_amount: Amount | None
    refunded: Amount | None
    resolved_by_arbiter: bool | None
    resolved_at: int | None


class SettlementSummary(Out):
    id: int
    licence_id: int
    kind: Literal["advance", "report", "minimum_guarantee", "none"]
    period: int
    period_start: int | None
    period_end: int | None
    contract_year: int | None
    state: Literal["pending", "disputed", "final"]
    awaiting_release: bool = Field(description="the dispute window passed; credited on the next release")
    settled_at: int
    dispute_until: int
    royalty: Amount
    recouped: Amount
    advance_recouped: Amount
    guarantee_credit: Amount
    due: Amount
    paid: Amount
    arrears: Amount
    released: Amount
    tax_withheld: Amount
    payee_parts: list[PayeePart]
    tx_hash: str
    block_number: int


class SettlementDetail(SettlementSummary):
    schedule: ScheduleOut | None
    buckets: list[BucketOut]
    units: Amount
    gross: Amount
    net_in_scope: Amount
    scope_breaches: int
    sequence: int | None
    lines_root: str | None
    line_count: int | None
    tier_net: Amount | None
    dispute: DisputeOut | None
    token: TokenOut


class SettlementPage(Out):
    items: list[SettlementSummary]
    total: int
    page: int
    size: int


class StatementRow(Out):
    period: int
    period_start: int
    period_end: int
    settlement_id: int | None
    kind: str
    state: str
    units: Amount
    gross: Amount
    net_in_scope: Amount
    royalty: Amount
    recouped: Amount
    due: Amount
    paid: Amount
    arrears: Amount
    tax_withheld: Amount
    payee_parts: list[PayeePart]


class Statement(Out):
    licence_id: int
    year: int
    year_start: int
    year_end: int
    token: TokenOut
    minimum_guarantee: Amount
    rows: list[StatementRow]
    totals: StatementRow


class PartyBalance(Out):
    entitled: Amount
    withdrawn: Amount
    claimable: Amount


class PartyLicence(LicenceSummary):
    roles: list[Literal["licensor", "licensee", "payee", "tax_account"]]
    share_bps: int | None
    balance: PartyBalance | None
    tax_balance: PartyBalance | None


class PayeeSettlement(Out):
    settlement_id: int
    licence_id: int
    kind: str
    period: int
    settled_at: int
    state: str
    amount: Amount = Field(description="this payee's credit from the settlement so far")


class Party(Out):
    address: str
    licences: list[PartyLicence]
    settlements: list[PayeeSettlement]
    settlements_total: int
    page: int
    size: int


class PartyRef(Out):
    address: str
    roles: list[str]
    licences: int


class LineProof(Out):
    settlement_id: int
    licence_id: int
    period: int
    line_id: str
    line: dict[str, Any]
    leaf: str
    proof: list[str]
    lines_root: str
    verified: bool


# ------------------------------------------------------------------ feeds


class FeedLineResult(Out):
    line_number: int
    status: Literal["valid", "rejected"]
    line_id: str | None = None
    licence_id: int | None = None
    period: int | None = None
    in_scope: bool | None = None
    leaf: str | None = None
    field: str | None = None
    value: str | None = None
    reason: str | None = None


class FeedResult(Out):
    format: Literal["csv", "jsonl"]
    lines: int
    valid: int
    rejected: int
    duplicates: int
    out_of_scope: int
    results: list[FeedLineResult]
    sink: dict[str, Any] = Field(description="what the sink did with the valid lines")
