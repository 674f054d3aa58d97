"""Response models; the consent actions' bodies are in api.relay_schemas. Amounts are exact
integers in the token's smallest unit, serialised as decimal strings; times are unix seconds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from api.inputs import Amount

# A signed figure of a report (a period whose returns exceed its sales prices below zero), as a
# decimal string like Amount.
SignedAmount = Annotated[
    int,
    PlainSerializer(str, return_type=str),
    Field(json_schema_extra={"type": "string", "pattern": "^-?[0-9]{1,78}$"}, examples=["-1000000"]),
]


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
    credit_carried: Amount = Field(description="credit carried by reports priced below zero, in all")
    credit_applied: Amount = Field(description="credit used to pay royalties, in all")


class FxClauseOut(Out):
    """The conversion clause in the terms format's words (docs/currencies.md)."""

    rule: str = Field(examples=["period-average"], description='"period-average", "period-end" or "sale-date"')
    source: str = Field(examples=["ECB"], description="the publisher of the rates")


class CalendarOut(Out):
    """The licence's date rule in the terms format's words, and in a sentence."""

    period: str | dict[str, Any] | None = Field(
        description='"month", "quarter", "half", "year", {"months": N, "anniversary": bool}; null for fixed periods'
    )
    period_months: int = Field(description="0: fixed periods of period_seconds")
    anniversary: bool
    period_seconds: int | None
    contract_year_start: str = Field(description='"start", "calendar" or "MM-DD"')
    due_days: int
    late_interest_bps: int
    reserve_bps: int = Field(0, description="share of each payable royalty held back against returns (0: none)")
    reserve_periods: int = Field(0, description="a reserve is released at the end of the period this many later")
    audit_threshold_bps: int = Field(
        description="an audit's underpayment above this share of the period's royalty bears interest and its cost"
    )
    fx: FxClauseOut | None = Field(
        None, description="the conversion clause for sales in other currencies; null: none (such sales are refused)"
    )
    words: str = Field(examples=["calendar quarters; contract years from 1 January; reports due 30 days after each "
                                 "quarter; late interest 12%/year"])  # fmt: skip


class PeriodOut(Out):
    period: int
    period_name: str = Field(examples=["2025-Q1", "2025-03", "2025-H2", "2025", "2025-02-10--2025-05-09"])
    period_start: int = Field(description="first second (unix)")
    period_end: int = Field(description="first second after the period (exclusive)")
    period_last_day: str = Field(description="last day of the period, YYYY-MM-DD (UTC)")
    due_at: int = Field(description="report and payment due (unix): due_days after period_end")
    contract_years: list[int] = Field(description="the contract years the period overlaps")
    state: Literal["reported", "nil report", "not reported", "open"]
    late: bool = Field(description="reported or paid after due_at, or still unreported or unpaid after it")
    settlement_id: int | None = Field(description="the period's original report")
    royalty: Amount = Field(description="the original report's royalty")
    latest_settlement_id: int | None = Field(
        description="the last of the period's chain: its original or latest adjustment"
    )
    adjustments: int = Field(description="adjustment reports of the period")
    net_royalty: SignedAmount = Field(
        description="the period's royalty after its adjustments: the sum of its reports' priced totals "
        "(below zero, a credit to the licensee)"
    )


class PeriodPage(Out):
    items: list[PeriodOut]
    total: int
    page: int
    size: int


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
    credit: Amount = Field(
        description="the licensee's credit from returns and downward adjustments, not yet used against royalties"
    )
    calendar: CalendarOut
    contract_year: int = Field(description="the contract year now (0 before the start)")
    contract_year_name: str = Field(examples=["2025-01-01--2025-12-31"])
    contract_year_start: int
    contract_year_end: int = Field(description="first second after the contract year (its anniversary)")
    current_period: PeriodOut | None = Field(description="the reporting period now (null outside the term)")
    next_minimum_guarantee_date: int | None = Field(
        description="end of the current contract year (cut at the term's end) when a guarantee applies"
    )
    minimum_guarantee: Amount
    breach_notice: BreachOut | None
    arrears_cleared_at: int | None
    scope_breaches: int
    registered_block: int
    registered_tx: str
    escalation: EscalationSummary | None = Field(None, description="the escalation clause and its steps, if any")
    reviews: ReviewsSummary | None = Field(None, description="the rate-review clause and its reviews, if any")


class BucketOut(Out):
    year: int = Field(description="contract year of the sales' dates")
    territory: str
    field: str
    channel: str
    units: Amount
    gross: Amount
    deductions: Amount
    net: Amount
    in_scope: bool


class ReturnOut(BucketOut):
    """A returned bucket (a return or credit note; an adjustment's cancelled or replaced line):
    positive amounts that take away. Out of scope, it took nothing back."""

    year: int = Field(description="contract year of the returned sales' dates")


class ConversionOut(Out):
    """A report's sales in another currency, converted (CurrencyConverted; docs/currencies.md):
    converted_gross = floor(gross * rate * 10^token decimals / (10^minor_units * 10^18)), and so
    converted_deductions. The bucket (in token units) holds these converted parts."""

    bucket: int = Field(description="index of the bucket: in buckets, then in returns (buckets count + i)")
    currency: str = Field(examples=["EUR"], description="ISO 4217 code of the sales")
    minor_units: int = Field(description="ISO 4217 exponent: gross and deductions are in 10^-minor_units")
    rate_day: int = Field(description="00:00 UTC of the day of the rate (unix)")
    rate: Amount = Field(description="licence-currency units one unit of the currency is worth, scaled by 10^18")
    gross: Amount = Field(description="in the currency's minor units")
    deductions: Amount = Field(description="in the currency's minor units")
    converted_gross: Amount = Field(description="in token units")
    converted_deductions: Amount = Field(description="in token units")


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


class InterestOut(Out):
    """An interest settlement's charge: floor(principal * rate_bps * (to - from) / (10,000 * 365 days))."""

    on_settlement_id: int
    on_kind: str
    principal: Amount
    from_at: int = Field(description="interest runs from: the due date of the amount (InterestCharged.from)")
    to_at: int = Field(description="to: when it was paid (InterestCharged.to)")
    days: int = Field(description="whole days late, (to_at - from_at) // 86,400")
    rate_bps: int
    interest: Amount


class SettlementSummary(Out):
    id: int
    licence_id: int
    kind: Literal[
        "advance", "report", "adjustment", "audit", "reserve", "minimum_guarantee", "interest", "audit_cost", "none"
    ]
    period: int
    period_name: str | None = Field(description="the period (a report's; an interest charge's, of what it is on)")
    period_start: int | None
    period_end: int | None = Field(description="first second after the period (exclusive)")
    period_last_day: str | None = Field(description="YYYY-MM-DD")
    contract_year: int | None
    due_at: int | None = Field(description="when the report and payment were due (unix)")
    late: bool = Field(description="reported or paid after due_at, or still unpaid after it")
    reported_late: bool = Field(description="settled after due_at")
    paid_late: Amount = Field(description="the part paid after due_at")
    overdue: Amount = Field(description="arrears outstanding after due_at")
    interest_charged: Amount = Field(description="interest charged on late payment of this settlement")
    interest: InterestOut | None = Field(description="for kind interest: what it is charged on")
    nil_report: bool = Field(description="a report of a period without sales or returns")
    corrects: int | None = Field(
        description="an adjustment: the settlement it corrects (the period's latest before it)"
    )
    corrected_by: int | None = Field(description="the adjustment that corrected this settlement")
    state: Literal["pending", "disputed", "final", "held"] = Field(description="held: a reserve, until its release")
    awaiting_release: bool = Field(description="the dispute window passed; credited on the next release")
    settled_at: int
    dispute_until: int
    royalty: Amount
    recouped: Amount
    advance_recouped: Amount
    guarantee_credit: Amount
    credit_applied: Amount = Field(description="the licensee's credit used to pay this royalty (part of recouped)")
    credit_carried: Amount = Field(description="a report priced below zero: the credit it carried to the licensee")
    priced: SignedAmount | None = Field(
        description="a report's priced total (an adjustment's difference): royalty - credit_carried"
    )
    returned_gross: Amount = Field(description="gross of its returns (an adjustment's cancelled lines)")
    returned_net_in_scope: Amount = Field(description="net of its returns inside the scope (what they took back on)")
    due: Amount
    paid: Amount
    arrears: Amount
    released: Amount
    tax_withheld: Amount
    payee_parts: list[PayeePart]
    tx_hash: str
    block_number: int


class SettlementYearOut(Out):
    """A report's part in one contract year of its period."""

    year: int
    year_name: str
    tier_net: SignedAmount
    royalty: SignedAmount = Field(description="ReportAccepted.yearRoyalty: signed, returns can exceed sales")
    units: Amount
    gross: Amount
    net_in_scope: Amount
    returned_units: Amount
    returned_gross: Amount
    returned_net_in_scope: Amount
    net: SignedAmount = Field(description="net_in_scope - returned_net_in_scope")
    royalty_fixed_fee: SignedAmount = Field(
        description="the fixed fee per period: in an original report's first year only (nil reports too), "
        "never in an adjustment"
    )
    royalty_per_unit: SignedAmount = Field(
        description="in-scope units sold minus in-scope units returned, times the per-unit amount"
    )
    royalty_percentage: SignedAmount = Field(
        description="royalty - royalty_fixed_fee - royalty_per_unit: the base rate or tiers and the per-field "
        "rates, including the rounding of the year's percentage numerator (down, towards minus infinity)"
    )


class SettlementDetail(SettlementSummary):
    schedule: ScheduleOut | None
    royalty_fixed_fee: SignedAmount | None = Field(
        description="reports and adjustments: the priced total by component (the sum of its years'), "
        "royalty_fixed_fee + royalty_per_unit + royalty_percentage = priced; none for other kinds"
    )
    royalty_per_unit: SignedAmount | None
    royalty_percentage: SignedAmount | None
    years: list[SettlementYearOut] = Field(description="per contract year of the period, from the first")
    buckets: list[BucketOut]
    returns: list[ReturnOut] = Field(description="returned buckets (ReturnReported), in report order")
    conversions: list[ConversionOut] = Field(
        default_factory=list,
        description="sales in other currencies the buckets hold, converted (CurrencyConverted), in report order",
    )
    returned_units: Amount
    units: Amount
    gross: Amount
    net_in_scope: Amount
    scope_breaches: int
    sequence: int | None
    lines_root: str | None
    line_count: int | None
    tier_net: SignedAmount | None
    dispute: DisputeOut | None
    token: TokenOut


class SettlementPage(Out):
    items: list[SettlementSummary]
    total: int
    page: int
    size: int


class StatementRow(Out):
    period: int
    period_name: str
    period_start: int
    period_end: int = Field(description="exclusive")
    period_last_day: str
    due_at: int | None
    due_date: str | None = Field(description="YYYY-MM-DD of due_at")
    late: bool
    settlement_id: int | None
    on_settlement_id: int | None = Field(
        None,
        description="interest rows: the settlement paid late; reserve rows: the report it was held from; "
        "audit_cost rows: the audit finding",
    )
    interest_principal: Amount | None = Field(None, description="interest rows: the amount paid late")
    interest_days: int | None = Field(None, description="interest rows: whole days from its due date to payment")
    interest_rate_bps: int | None = None
    corrects: int | None = Field(None, description="adjustment rows: the settlement of the period it corrects")
    kind: str = Field(
        description="report, adjustment, audit, reserve, minimum_guarantee, interest, audit_cost or total"
    )
    state: str = Field(description='a settlement\'s state, "nil report", "not reported" or "open"')
    units: Amount = Field(description="sales of this contract year")
    gross: Amount
    net_in_scope: Amount
    returned_units: Amount = Field(0, description="returns of this contract year (an adjustment's cancelled lines)")
    returned_gross: Amount = 0
    returned_net_in_scope: Amount = 0
    net: SignedAmount = Field(0, description="net_in_scope - returned_net_in_scope")
    period_royalty: SignedAmount = Field(
        description="the whole settlement's royalty (all years of the period); in the totals, the sum of royalty"
    )
    royalty: SignedAmount = Field(
        description="this contract year's part of the report's priced total (the chain's per-year figure; "
        "an adjustment's difference); below zero when returns exceed sales"
    )
    credit_carried: Amount = Field(0, description="credit the settlement carried to the licensee (royalty below zero)")
    credit_applied: Amount = Field(0, description="the licensee's credit that paid part of it (in recouped)")
    royalty_fixed_fee: SignedAmount | None = Field(
        None,
        description="report and adjustment rows: royalty by component, as the licence prices it "
        "(royalty_fixed_fee + royalty_per_unit + royalty_percentage = royalty); the fixed fee per period, in "
        "an original report's first contract year only, never in an adjustment; none on guarantee and interest "
        "rows (in the totals, the sums over the report and adjustment rows)",
    )
    royalty_per_unit: SignedAmount | None = Field(
        None, description="this year's in-scope units sold minus those returned, times the per-unit amount"
    )
    royalty_percentage: SignedAmount | None = Field(
        None,
        description="royalty - royalty_fixed_fee - royalty_per_unit: the base rate or tiers and the per-field "
        "rates, including the rounding of the year's percentage numerator",
    )
    recouped: Amount
    due: Amount
    paid: Amount
    arrears: Amount
    tax_withheld: Amount
    reserve_held: Amount = Field(
        0,
        description="report rows: the reserve against returns held back from its payable royalty (not in due); "
        "reserve rows: what is still held",
    )
    reserve_released: Amount = Field(0, description="reserve rows: released to the payees (with withholding)")
    reserve_consumed: Amount = Field(
        0,
        description="reserve rows: taken back by a later negative period; report rows: what this negative "
        "period took back from the reserves held",
    )
    reserve_refunded: Amount = Field(
        0, description="reserve rows: the part of reserve_consumed already paid, returned to the licensee"
    )
    release_at: int | None = Field(None, description="reserve rows: when it is released (the end of a later period)")
    release_date: str | None = Field(None, description="YYYY-MM-DD of release_at")
    audit_underpayment: SignedAmount | None = Field(
        None, description="audit rows: the royalty the finding adds (negative: an overpayment)"
    )
    audit_reported: Amount | None = Field(
        None, description="audit rows: the royalty the period was settled at before the finding"
    )
    audit_threshold_bps: int | None = Field(None, description="audit rows: the licence's audit threshold")
    audit_exceeded: bool | None = Field(
        None,
        description="audit rows: underpayment x 10,000 > threshold x reported: due from the original due date "
        "(interest) and the audit cost charged",
    )
    audit_cost: Amount = Field(0, description="audit and audit_cost rows: the audit cost charged to the licensee")
    schedule_version: int | None = Field(
        None,
        description="the schedule version that priced the row (the one in force at the period's start; for a "
        "guarantee, at the year's start); see the statement's schedule_versions",
    )
    payee_parts: list[PayeePart]


class StatementConversion(Out):
    """One report's sales in another currency as the statement shows them: what was sold in that
    currency, the rate used (its source, rule and day) and what it converted to in the token."""

    period: int
    period_name: str
    settlement_id: int
    kind: str = Field(description="report, adjustment or audit: the settlement the sales are in")
    returned: bool = Field(description="true for returns (a returned bucket), false for sales")
    currency: str = Field(examples=["EUR"])
    minor_units: int = Field(description="ISO 4217 exponent: gross and deductions are in 10^-minor_units")
    gross: Amount = Field(description="in the currency's minor units")
    deductions: Amount = Field(description="in the currency's minor units")
    rate: str = Field(description="licence-currency units one unit of the currency is worth (18 decimals)")
    rate_source: str = Field(description="the publisher the licence's clause names", examples=["ECB"])
    rate_rule: str = Field(description="period-average, period-end or sale-date")
    rate_date: str = Field(
        description="YYYY-MM-DD of the rate's day (the ledger's rateDay; for period-average the period's last "
        "published day)"
    )
    rate_dates: str = Field(
        description="the days the rate is of: the rate's day (period-end, sale-date) or, for period-average, the "
        "period it averages, YYYY-MM-DD..YYYY-MM-DD (first and last day)",
        examples=["2025-01-01..2025-03-31"],
    )
    rate_table: int | None = Field(
        default=None,
        description="rule fixed: the version of the table of fixed rates both parties signed that was in force at "
        "the period's start, whose rate this is (GET /licences/{id}/fixed-rates); null under the other rules",
    )
    rate_table_agreed: str | None = Field(
        default=None, description="rule fixed: YYYY-MM-DD of the day that table was agreed on chain; null otherwise"
    )
    converted_gross: Amount = Field(description="in token units: floor(gross * rate * 10^decimals / 10^minor_units)")
    converted_deductions: Amount = Field(description="in token units, rounded down alike")


class CurrencyTotal(Out):
    """A currency's sales over the statement's reports, in its minor units, and their converted sum."""

    currency: str
    minor_units: int
    gross: Amount
    deductions: Amount
    converted_gross: Amount
    converted_deductions: Amount


class EscalationClauseOut(Out):
    """A licence's escalation clause in the terms format's words (docs/escalation.md)."""

    index: str = Field(examples=["CPI-U"])
    successor: str | None
    base_month: str = Field(examples=["2023-09"], description="YYYY-MM of the index value step 1 starts from")
    escalates: list[str] = Field(examples=[["fixed_fee", "rates"]])
    upward_only: bool
    floor_bps: int | None = Field(description="the least change a step makes (null: none)")
    cap_bps: int | None = Field(description="the most a step raises (null: none)")
    rounding: Literal["down", "nearest", "up"]
    round_to: str = Field(description="amounts round to a multiple of this, in the token's currency", examples=["0.01"])
    round_to_units: Amount
    words: str
    attached_at: int
    block_number: int
    tx_hash: str


class EscalationStepSummary(Out):
    step: int = Field(description="step n takes effect when contract year n begins (or when applied, if later)")
    index: str
    from_month: str = Field(examples=["2023-09"])
    from_value: str = Field(description="index points", examples=["300.000"])
    to_month: str
    to_value: str
    index_change: str = Field(description="the index's change over the step", examples=["+3.100%"])
    limit: Literal["none", "floor", "cap"] = Field(description="the clause's limit the change was held to")
    numerator: Amount
    denominator: Amount
    ratio: str = Field(
        description="the ratio applied: the index values, or the limit in basis points", examples=["309.300 / 300.000"]
    )
    effective_from: int
    effective_date: str
    version: int = Field(description="the schedule version the step appended")
    consistent: bool = Field(description="false when recomputing the step does not give the chain's schedule")


class EscalatedAmount(Out):
    """One escalated term of a step: the previous schedule's amount, the new version's, and the
    new one recomputed from the old (royalty_chain.escalation.escalate_schedule)."""

    target: str = Field(examples=["fixed_fee_per_period", "rate_bps", "tiers.0.threshold"])
    unit: Literal["token", "bps"] = Field(description="token units, or basis points for rates")
    before: Amount
    after: Amount = Field(description="the chain's new schedule version")
    recomputed: Amount
    matches: bool
    arithmetic: str = Field(examples=["1,000.00 x 309.300 / 300.000 = 1,031.00, rounded down to 0.01"])


class EscalationStepOut(EscalationStepSummary):
    from_version: int | None = Field(description="the schedule version the step escalated (in force then)")
    amounts: list[EscalatedAmount]
    mismatches: list[str] = Field(description="where the chain's new version differs from the recomputation")
    stepped_at: int
    block_number: int
    tx_hash: str


class EscalationSummary(Out):
    clause: EscalationClauseOut
    steps: list[EscalationStepSummary]


class Escalation(Out):
    licence_id: int
    clause: EscalationClauseOut | None = Field(description="null: the licence has no escalation clause")
    steps_applied: int
    steps: list[EscalationStepOut]


class ReviewClauseOut(Out):
    """A licence's review clause (ILicenceReviews.Clause): each trigger it names, null where it
    names none."""

    benchmark: str | None = Field(examples=["DATA-LIC-RATE"])
    benchmark_at_signing: str | None = Field(description="the benchmark's value at signing", examples=["4.00"])
    benchmark_at_signing_units: Amount | None = Field(description="as the chain holds it: x 1,000,000")
    move_bps: int | None = Field(description="a move of more than this, either way, fires the benchmark trigger")
    volume_threshold: Amount | None = Field(description="cumulative net sales, in token units, that fire a review")
    volume_rate_bps: int | None = Field(description="the rate a volume review suggests")
    review_at: int | None
    review_date: str | None
    words: str
    attached_at: int
    block_number: int
    tx_hash: str


class AmendmentScheduleOut(Out):
    """A schedule as the AmendLicence typed data carries it (amounts in token units)."""

    effective_from: int
    effective_date: str
    fixed_fee_per_period: Amount
    rate_bps: int
    per_unit: Amount
    minimum_guarantee: Amount
    tiers: list[TierOut]
    field_rates: list[FieldRateOut]


class SuggestedAmendment(Out):
    """The amendment an open review suggests (royalty_chain.reviews.draft_schedule of the version
    it read), which both parties would sign; nothing changes until they do."""

    version: int = Field(description="the schedule version it would add")
    from_version: int = Field(description="the schedule version whose rates the review read")
    new_end: int = Field(description="the licence's end, unchanged")
    schedule: AmendmentScheduleOut


class ReviewSummary(Out):
    review_id: int
    kind: Literal["volume", "benchmark", "date"]
    trigger: str = Field(examples=["DATA-LIC-RATE moved more than 10.00% from its value at signing"])
    justification: str = Field(
        description="the data that fired the review and the suggestion's arithmetic",
        examples=[
            "benchmark DATA-LIC-RATE 4.00 -> 4.60 (+15.00%, more than the clause's 10.00%): "
            "rate 500 bps x 4.60 / 4.00 = 575 bps"
        ],
    )
    current_rate_bps: int
    suggested_rate_bps: int
    status: Literal["open", "declined", "accepted"]
    status_words: str
    opened_at: int


class ReviewOut(ReviewSummary):
    observed: Amount = Field(description="what the oracles signed: benchmark x 1,000,000, or net sales")
    reference_value: Amount = Field(description="the benchmark at signing, the volume threshold, or the date")
    numerator: Amount
    denominator: Amount
    as_of: int
    schedule_from: int = Field(description="the effective date of the schedule version the review read")
    decided_at: int | None
    decided_by: str | None = Field(description="the party that declined")
    decided_by_role: Literal["licensor", "licensee"] | None
    accepted_version: int | None
    suggested_amendment: SuggestedAmendment | None = Field(description="while open: the amendment both would sign")
    block_number: int
    tx_hash: str
    decided_tx: str | None


class ReviewsSummary(Out):
    clause: ReviewClauseOut | None
    open: int
    declined: int
    accepted: int
    reviews: list[ReviewSummary]


class Reviews(Out):
    licence_id: int
    clause: ReviewClauseOut | None = Field(description="null: the licence has no review clause")
    reviews: list[ReviewOut]


class StatementScheduleVersion(Out):
    """A schedule version that priced some of the statement's year, and the step it came from."""

    version: int
    effective_from: int
    effective_date: str
    source: Literal["registration", "amendment", "escalation"]
    periods: list[int] = Field(description="the year's periods whose start it was in force at")
    step: EscalationStepOut | None = Field(
        description="when the version came from a step: its index values and computation"
    )


class Statement(Out):
    licence_id: int
    year: int
    year_name: str = Field(examples=["2025-01-01--2025-12-31"])
    year_start: int = Field(description="first second of the contract year (cut at the term's start)")
    year_end: int = Field(description="first second after it (the anniversary)")
    year_last_day: str
    year_days: int = Field(description="days of the year as cut (a short first year has fewer; leap years 366)")
    due_at: int = Field(description="when the year's guarantee shortfall is due")
    split_rule: str = Field(
        description="how the money of a period crossing the year's end is divided between its contract years"
    )
    token: TokenOut
    minimum_guarantee: Amount
    rows: list[StatementRow]
    totals: StatementRow
    conversions: list[StatementConversion] = Field(
        default_factory=list, description="the reports' sales in other currencies, converted (docs/currencies.md)"
    )
    currency_totals: list[CurrencyTotal] = Field(default_factory=list, description="by currency, in code order")
    schedule_versions: list[StatementScheduleVersion] = Field(
        default_factory=list,
        description="the schedule versions in force for the year's periods; an escalated one with its step "
        "(docs/escalation.md)",
    )


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
    period_name: str | None
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


class PeriodHistoryEntry(Out):
    """One report of a period's chain: its original, or an adjustment of the one before it."""

    settlement_id: int
    kind: Literal["report", "adjustment", "audit"]
    corrects: int | None
    corrected_by: int | None
    sequence: int | None
    lines_root: str | None
    line_count: int | None
    sales_units: Amount
    sales_gross: Amount
    sales_net: Amount = Field(description="net sales inside the scope")
    returns_units: Amount
    returns_gross: Amount
    returns_net: Amount = Field(description="net returns inside the scope (an adjustment's cancelled lines)")
    net: SignedAmount = Field(description="sales_net - returns_net")
    priced: SignedAmount = Field(description="the royalty of an original, the difference an adjustment makes")
    royalty: Amount = Field(description="what the settlement charged: priced, or 0 below zero")
    credit_carried: Amount
    credit_applied: Amount
    due: Amount
    paid: Amount
    state: Literal["pending", "disputed", "final", "held"]
    settled_at: int
    tx_hash: str
    block_number: int


class PeriodHistory(Out):
    licence_id: int
    period: int
    period_name: str
    period_start: int
    period_end: int = Field(description="exclusive")
    period_last_day: str
    due_at: int
    latest_settlement_id: int | None
    adjustments: int
    entries: list[PeriodHistoryEntry] = Field(description="the original report, then each adjustment in order")
    net_royalty: SignedAmount = Field(description="sum of the entries' priced totals")
    royalty: Amount = Field(description="sum of what the entries charged")
    credit_carried: Amount
    credit_applied: Amount


class LineProof(Out):
    """A sales line and its Merkle proof against the root of the report that carried it."""

    settlement_id: int = Field(description="the settlement of the report that carried the line")
    licence_id: int
    period: int
    kind: Literal["report", "adjustment", "audit"] = Field(
        description="the line came in the period's original report, an adjustment or an audit finding"
    )
    corrects: int | None = Field(description="an adjustment: the settlement it corrects")
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
