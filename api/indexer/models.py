"""Typed ORM models of the index.

``events`` keeps every decoded log (the index can replay a licence from it after a reorg, and
every licence when the projector changes); the other tables are projections of those events,
updated in the same transaction (see ``api.indexer.schema`` for how the tables change). Token amounts
are exact integers: ``Numeric(78, 0)`` on PostgreSQL, decimal strings on SQLite (whose own
numbers stop at 64 bits); they are never summed in SQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Dialect, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from royalty_chain.calendar import CALENDAR_FIELDS, LicenceCalendar


class Uint(TypeDecorator[int]):
    """An unsigned integer of up to 256 bits, stored exactly."""

    impl = String(78)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))
        return dialect.type_descriptor(String(78))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return Decimal(value) if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Int(Uint):
    """A signed integer of up to 256 bits (a report's per-year figures, which returns can make
    negative), stored exactly as ``Uint`` stores its values."""

    cache_ok = True


class Base(DeclarativeBase):
    pass


class IndexState(Base):
    """What the index was built from and how far it got (one row)."""

    __tablename__ = "index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    registry_address: Mapped[str] = mapped_column(String(42))
    ledger_address: Mapped[str] = mapped_column(String(42))
    deploy_block: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    last_block_hash: Mapped[str | None] = mapped_column(String(66))
    head_block: Mapped[int] = mapped_column(BigInteger, default=0)
    head_timestamp: Mapped[int] = mapped_column(BigInteger, default=0)
    events_indexed: Mapped[int] = mapped_column(BigInteger, default=0)
    reorgs: Mapped[int] = mapped_column(Integer, default=0)
    resets: Mapped[int] = mapped_column(Integer, default=0)
    # Projector.VERSION the projection tables were built with (None: before versions existed);
    # when it differs from the running projector's, they are replayed from ``events``.
    projection_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The contracts whose events the index holds (lowercase addresses, sorted, comma-separated;
    # None: before this was kept). A deployment's code following another set (a contract added,
    # like LicenceFx) has no stored events of the new ones: the index is rebuilt from the chain.
    watched_contracts: Mapped[str | None] = mapped_column(String, nullable=True)


class BlockRecord(Base):
    """Hash of an indexed block (blocks with events and the last block of every range)."""

    __tablename__ = "blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)


class EventRecord(Base):
    __tablename__ = "events"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    contract: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    licence_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    settlement_id: Mapped[int | None] = mapped_column(BigInteger)
    args: Mapped[str] = mapped_column(Text)


class LicenceRow(Base):
    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    licensor: Mapped[str] = mapped_column(String(42), index=True)
    licensee: Mapped[str] = mapped_column(String(42), index=True)
    arbiter: Mapped[str] = mapped_column(String(42))
    token: Mapped[str] = mapped_column(String(42))
    terms: Mapped[str] = mapped_column(Text)  # the LicenceRegistered terms, plain JSON
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)  # current end of term (amendments move it)
    sell_off_days: Mapped[int] = mapped_column(Integer)
    period_seconds: Mapped[int] = mapped_column(BigInteger)
    # The term's Calendar (ILicenceRegistry.Calendar): periods, contract years, due days, interest.
    period_months: Mapped[int] = mapped_column(Integer, default=0)
    anniversary: Mapped[bool] = mapped_column(Boolean, default=False)
    year_month: Mapped[int] = mapped_column(Integer, default=0)
    year_day: Mapped[int] = mapped_column(Integer, default=0)
    due_days: Mapped[int] = mapped_column(Integer, default=30)
    interest_bps: Mapped[int] = mapped_column(Integer, default=0)
    reserve_bps: Mapped[int] = mapped_column(Integer, default=0)
    reserve_periods: Mapped[int] = mapped_column(Integer, default=0)
    audit_threshold_bps: Mapped[int] = mapped_column(Integer, default=0)
    # The conversion clause (royalty_chain.fx): rule number and source (text; "" for none).
    fx_rule: Mapped[int] = mapped_column(Integer, default=0)
    fx_source: Mapped[str] = mapped_column(String(16), default="")
    dispute_window: Mapped[int] = mapped_column(BigInteger)
    tax_bps: Mapped[int] = mapped_column(Integer, default=0)
    tax_account: Mapped[str | None] = mapped_column(String(42), index=True)
    terminated_at: Mapped[int | None] = mapped_column(BigInteger)
    terminated_by_consent: Mapped[bool | None] = mapped_column(Boolean)
    breach_noticed_at: Mapped[int | None] = mapped_column(BigInteger)
    cures_at: Mapped[int | None] = mapped_column(BigInteger)
    arrears_cleared_at: Mapped[int | None] = mapped_column(BigInteger)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    registered_tx: Mapped[str] = mapped_column(String(66))
    registered_at: Mapped[int] = mapped_column(BigInteger)
    # Money, from the ledger's events.
    advance: Mapped[int] = mapped_column(Uint, default=0)
    advance_left: Mapped[int] = mapped_column(Uint, default=0)
    deposited: Mapped[int] = mapped_column(Uint, default=0)
    escrow: Mapped[int] = mapped_column(Uint, default=0)
    arrears: Mapped[int] = mapped_column(Uint, default=0)
    royalty_total: Mapped[int] = mapped_column(Uint, default=0)
    recouped_total: Mapped[int] = mapped_column(Uint, default=0)
    due_total: Mapped[int] = mapped_column(Uint, default=0)
    paid_total: Mapped[int] = mapped_column(Uint, default=0)
    released_total: Mapped[int] = mapped_column(Uint, default=0)
    tax_total: Mapped[int] = mapped_column(Uint, default=0)
    tax_withdrawn: Mapped[int] = mapped_column(Uint, default=0)
    distributed: Mapped[int] = mapped_column(Uint, default=0)
    escrow_withdrawn: Mapped[int] = mapped_column(Uint, default=0)
    settlement_count: Mapped[int] = mapped_column(Integer, default=0)
    scope_breaches: Mapped[int] = mapped_column(Integer, default=0)
    guarantee_credit: Mapped[str] = mapped_column(Text, default="{}")  # {year: credit}
    # The licensee's credit from returns and downward adjustments (creditOf), and what it came to.
    credit: Mapped[int] = mapped_column(Uint, default=0)
    credit_carried_total: Mapped[int] = mapped_column(Uint, default=0)
    credit_applied_total: Mapped[int] = mapped_column(Uint, default=0)

    def rule(self) -> LicenceCalendar:
        """The licence's periods, contract years and due dates, exactly as the chain derives them."""
        fields = {name: getattr(self, name) for name, _ in CALENDAR_FIELDS}
        return LicenceCalendar(start=self.start, period_seconds=self.period_seconds, **fields)


class ScheduleVersionRow(Base):
    __tablename__ = "schedule_versions"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_from: Mapped[int] = mapped_column(BigInteger)
    schedule: Mapped[str] = mapped_column(Text)
    new_end: Mapped[int] = mapped_column(BigInteger)
    previous_end: Mapped[int | None] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class PayeeRow(Base):
    __tablename__ = "payees"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account: Mapped[str] = mapped_column(String(42), index=True)
    share_bps: Mapped[int] = mapped_column(Integer)
    withdrawn: Mapped[int] = mapped_column(Uint, default=0)


class SettlementRow(Base):
    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_licence_id_id", "licence_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    licence_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[int] = mapped_column(BigInteger)
    royalty: Mapped[int] = mapped_column(Uint)
    recouped: Mapped[int] = mapped_column(Uint)
    advance_recouped: Mapped[int] = mapped_column(Uint)
    guarantee_credit: Mapped[int] = mapped_column(Uint)
    due: Mapped[int] = mapped_column(Uint)
    due_at_settlement: Mapped[int] = mapped_column(Uint)
    paid: Mapped[int] = mapped_column(Uint)
    paid_at_settlement: Mapped[int] = mapped_column(Uint)
    released: Mapped[int] = mapped_column(Uint, default=0)
    tax: Mapped[int] = mapped_column(Uint, default=0)
    pending: Mapped[bool] = mapped_column(Boolean)
    # Contract year of a report's period start (a guarantee's own year; an interest charge's,
    # the year of the settlement it is on), and the due date (Settled.dueAt).
    year: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[int] = mapped_column(BigInteger, default=0)
    reported_late: Mapped[bool] = mapped_column(Boolean, default=False)  # settled after due_at
    paid_late: Mapped[int] = mapped_column(Uint, default=0)  # drawn or paid after due_at
    last_paid_at: Mapped[int | None] = mapped_column(BigInteger)
    interest_charged: Mapped[int] = mapped_column(Uint, default=0)  # interest charged on this one
    # For an interest settlement (InterestCharged): the settlement paid late and the charge.
    interest_on: Mapped[int | None] = mapped_column(BigInteger, index=True)
    interest_principal: Mapped[int | None] = mapped_column(Uint)
    interest_from: Mapped[int | None] = mapped_column(BigInteger)
    interest_to: Mapped[int | None] = mapped_column(BigInteger)
    interest_rate_bps: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))  # pending, disputed, final, held (a reserve)
    # Reserves: on a report, the reserve held from it (ReserveHeld) and what its negative period
    # took back from earlier reserves; on a reserve, its report, and what returns consumed of it
    # (refunded: the part already paid, back to the licensee). A reserve's release time is
    # its dispute_until.
    reserve_id: Mapped[int | None] = mapped_column(BigInteger)
    reserve_held: Mapped[int] = mapped_column(Uint, default=0)
    reserve_taken: Mapped[int] = mapped_column(Uint, default=0)
    reserve_of: Mapped[int | None] = mapped_column(BigInteger)
    reserve_consumed: Mapped[int] = mapped_column(Uint, default=0)
    reserve_refunded: Mapped[int] = mapped_column(Uint, default=0)
    # Audit findings (AuditSettled): the underpayment (signed), the royalty it was measured against,
    # the threshold, whether it exceeded it, and the cost charged; on an audit_cost, its audit.
    audit_underpayment: Mapped[int | None] = mapped_column(Int)
    audit_reported: Mapped[int | None] = mapped_column(Uint)
    audit_threshold_bps: Mapped[int | None] = mapped_column(Integer)
    audit_exceeded: Mapped[bool | None] = mapped_column(Boolean)
    audit_cost: Mapped[int] = mapped_column(Uint, default=0)
    audit_cost_id: Mapped[int | None] = mapped_column(BigInteger)
    audit_of: Mapped[int | None] = mapped_column(BigInteger)
    settled_at: Mapped[int] = mapped_column(BigInteger)
    dispute_until: Mapped[int] = mapped_column(BigInteger)
    schedule_version: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    lines_root: Mapped[str | None] = mapped_column(String(66))
    line_count: Mapped[int | None] = mapped_column(BigInteger)
    tier_net: Mapped[int | None] = mapped_column(Int)  # sum over the report's contract years (signed)
    # A report's priced total (the sum of ReportAccepted.yearRoyalty, signed): an original's royalty,
    # an adjustment's difference; below zero the settlement's royalty is 0 and the rest is carried.
    priced: Mapped[int | None] = mapped_column(Int)
    # An adjustment's link (ReportAccepted.corrects), and the adjustment that corrected this one.
    corrects: Mapped[int | None] = mapped_column(BigInteger)
    corrected_by: Mapped[int | None] = mapped_column(BigInteger)
    credit_carried: Mapped[int] = mapped_column(Uint, default=0)  # CreditCarried.amount
    credit_applied: Mapped[int] = mapped_column(Uint, default=0)  # CreditApplied.amount (in recouped)
    year_span: Mapped[int] = mapped_column(Integer, default=0)  # further contract years the period overlaps
    units: Mapped[int] = mapped_column(Uint, default=0)
    gross: Mapped[int] = mapped_column(Uint, default=0)
    net_in_scope: Mapped[int] = mapped_column(Uint, default=0)
    bucket_count: Mapped[int] = mapped_column(Integer, default=0)
    # Returns (an adjustment's cancelled lines), ReturnReported: positive amounts that take away.
    returned_units: Mapped[int] = mapped_column(Uint, default=0)
    returned_gross: Mapped[int] = mapped_column(Uint, default=0)
    returned_net_in_scope: Mapped[int] = mapped_column(Uint, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    conversion_count: Mapped[int] = mapped_column(Integer, default=0)  # CurrencyConverted events
    scope_breaches: Mapped[int] = mapped_column(Integer, default=0)
    disputed_by: Mapped[str | None] = mapped_column(String(42))
    disputed_at: Mapped[int | None] = mapped_column(BigInteger)
    disputed_tx: Mapped[str | None] = mapped_column(String(66))
    resolved_amount: Mapped[int | None] = mapped_column(Uint)
    refunded: Mapped[int | None] = mapped_column(Uint)
    resolved_by_arbiter: Mapped[bool | None] = mapped_column(Boolean)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)


class SettlementYearRow(Base):
    """A report's part in one contract year of its period (ReportAccepted's per-year arrays and
    the sales of the buckets of that year): a statement of year Y shows these."""

    __tablename__ = "settlement_years"
    __table_args__ = (Index("ix_settlement_years_licence_year", "licence_id", "year"),)

    settlement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    licence_id: Mapped[int] = mapped_column(BigInteger)
    tier_net: Mapped[int] = mapped_column(Int)  # signed: returns can exceed the year's sales
    royalty: Mapped[int] = mapped_column(Int)  # signed: ReportAccepted.yearRoyalty
    units: Mapped[int] = mapped_column(Uint, default=0)
    gross: Mapped[int] = mapped_column(Uint, default=0)
    net_in_scope: Mapped[int] = mapped_column(Uint, default=0)
    bucket_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_units: Mapped[int] = mapped_column(Uint, default=0)
    returned_gross: Mapped[int] = mapped_column(Uint, default=0)
    returned_net_in_scope: Mapped[int] = mapped_column(Uint, default=0)


class BucketRow(Base):
    __tablename__ = "buckets"

    settlement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, default=0)  # contract year of the sales' dates
    territory: Mapped[int] = mapped_column(Integer)
    field: Mapped[int] = mapped_column(Integer)
    channel: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Uint)
    gross: Mapped[int] = mapped_column(Uint)
    deductions: Mapped[int] = mapped_column(Uint)
    in_scope: Mapped[bool] = mapped_column(Boolean)


class ReturnRow(Base):
    """One ReturnReported: a returned bucket of a report (a cancelled line of an adjustment).
    ``in_scope`` false: outside the licence's scope, it took nothing back."""

    __tablename__ = "returns"

    settlement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer)
    territory: Mapped[int] = mapped_column(Integer)
    field: Mapped[int] = mapped_column(Integer)
    channel: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Uint)
    gross: Mapped[int] = mapped_column(Uint)
    deductions: Mapped[int] = mapped_column(Uint)
    in_scope: Mapped[bool] = mapped_column(Boolean)


class ConversionRow(Base):
    """One CurrencyConverted: the part of a report's bucket (``bucket`` indexes its buckets, then
    its returns) sold in ``currency``, in its minor units, at ``rate`` (licence-currency units per
    unit, scaled by 10^18) of the day starting at ``rate_day``, and what the ledger converted it
    to in token units: floor(amount * rate * 10^decimals / (10^minor_units * 10^18))."""

    __tablename__ = "conversions"

    settlement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    minor_units: Mapped[int] = mapped_column(Integer)
    rate_day: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[int] = mapped_column(Uint)
    gross: Mapped[int] = mapped_column(Uint)
    deductions: Mapped[int] = mapped_column(Uint)
    converted_gross: Mapped[int] = mapped_column(Uint)
    converted_deductions: Mapped[int] = mapped_column(Uint)


class ReleaseRow(Base):
    """One Released event: what the payees' accumulator was before and after it."""

    __tablename__ = "releases"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    settlement_id: Mapped[int] = mapped_column(BigInteger, index=True)
    licence_id: Mapped[int] = mapped_column(BigInteger, index=True)
    amount: Mapped[int] = mapped_column(Uint)
    tax: Mapped[int] = mapped_column(Uint)
    distributed_before: Mapped[int] = mapped_column(Uint)
    distributed_after: Mapped[int] = mapped_column(Uint)
    tx_hash: Mapped[str] = mapped_column(String(66))


class EscalationClauseRow(Base):
    """One EscalationAttached: the licence's escalation clause as both parties signed it
    (ILicenceEscalator.Clause; the index names are ASCII, the months YYYYMM)."""

    __tablename__ = "escalation_clauses"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    index: Mapped[str] = mapped_column(String(16))
    successor: Mapped[str] = mapped_column(String(16))
    base_month: Mapped[int] = mapped_column(Integer)
    targets: Mapped[int] = mapped_column(Integer)
    upward_only: Mapped[bool] = mapped_column(Boolean)
    floor_bps: Mapped[int] = mapped_column(Integer)
    cap_bps: Mapped[int] = mapped_column(Integer)
    rounding: Mapped[int] = mapped_column(Integer)
    round_to: Mapped[int] = mapped_column(Uint)
    attached_at: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class EscalationStepRow(Base):
    """One Escalated: step ``step`` of a licence's clause, the index values its oracles signed
    (points x 1,000,000), the ratio applied (numerator / denominator, held to ``limit``: 0 none,
    1 floor, 2 cap) and the schedule version it appended, in force from ``effective_from``."""

    __tablename__ = "escalation_steps"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    step: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[str] = mapped_column(String(16))
    from_month: Mapped[int] = mapped_column(Integer)
    from_value: Mapped[int] = mapped_column(Uint)
    to_month: Mapped[int] = mapped_column(Integer)
    to_value: Mapped[int] = mapped_column(Uint)
    numerator: Mapped[int] = mapped_column(Uint)
    denominator: Mapped[int] = mapped_column(Uint)
    limit: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    stepped_at: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class FixedRateRow(Base):
    """One rate of a FixedRatesAgreed: table ``version`` of a licence's fixed contractual rates
    (LicenceFx), both parties' signatures, in force from ``effective_from`` (a period's start):
    one unit of ``currency`` is worth ``rate`` licence-currency units, scaled by 10^18."""

    __tablename__ = "fixed_rates"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    effective_from: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[int] = mapped_column(Uint)
    agreed_at: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class ReviewClauseRow(Base):
    """One ReviewClauseAttached: the licence's review clause as both parties signed it
    (ILicenceReviews.Clause; a zero field names no trigger of its kind, the benchmark name is
    ASCII, its value at signing points x 1,000,000)."""

    __tablename__ = "review_clauses"

    licence_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    benchmark: Mapped[str] = mapped_column(String(16))
    volume_threshold: Mapped[int] = mapped_column(Uint)
    benchmark_at_signing: Mapped[int] = mapped_column(Uint)
    review_at: Mapped[int] = mapped_column(BigInteger)
    volume_rate_bps: Mapped[int] = mapped_column(Integer)
    move_bps: Mapped[int] = mapped_column(Integer)
    attached_at: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class ReviewRow(Base):
    """One ReviewOpened (ILicenceReviews.Review as it opened: the data that fired it, the rate it
    read and the suggestion), then its decision: ReviewDeclined (``decided_by`` the party) or
    ReviewAccepted (``accepted_version`` the schedule version the amendment added)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    licence_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    observed: Mapped[int] = mapped_column(Uint)
    reference_value: Mapped[int] = mapped_column(Uint)
    numerator: Mapped[int] = mapped_column(Uint)
    denominator: Mapped[int] = mapped_column(Uint)
    as_of: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    current_rate_bps: Mapped[int] = mapped_column(Integer)
    suggested_rate_bps: Mapped[int] = mapped_column(Integer)
    schedule_from: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(42), nullable=True)
    decided_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    accepted_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


PROJECTIONS: tuple[type[Base], ...] = (
    LicenceRow,
    ScheduleVersionRow,
    PayeeRow,
    SettlementRow,
    SettlementYearRow,
    BucketRow,
    ReturnRow,
    ConversionRow,
    ReleaseRow,
    EscalationClauseRow,
    EscalationStepRow,
    FixedRateRow,
    ReviewClauseRow,
    ReviewRow,
)
