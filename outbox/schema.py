"""The outbox's tables and the states of its rows.

These tables are the schema at the head revision of ``outbox/migrations``: a change here needs a
new migration script there (``tests/python/outbox/test_outbox_migrations.py`` compares the two).
Amounts are stored as decimal strings (uint128 does not fit SQLite's integers).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


class ReportState(StrEnum):
    """Where a report is on its way to the chain (the ``reports.state`` column).

    signed -> sent -> settled | rejected; a sent report whose transaction failed or was lost is
    signed again (sent -> signed, ``Outbox.resign``). Settled and rejected are final.
    """

    SIGNED = "signed"
    SENT = "sent"
    SETTLED = "settled"
    REJECTED = "rejected"


class LineState(StrEnum):
    """waiting: not yet in a report; reported: in ``report_id`` (the period's original report or
    one of its adjustments); late: a line an older oracle refused because its period was already
    reported (revision 0003 sets them waiting again: they go into an adjustment now)."""

    WAITING = "waiting"
    REPORTED = "reported"
    LATE = "late"


metadata = MetaData()

lines_table = Table(
    "lines",
    metadata,
    Column("licensee", String, primary_key=True),
    Column("line_id", String, primary_key=True),
    # 0 for the line as first accepted, then one more for each cancel or replace of it (a row of
    # its own, with the leaf of that version; intake.merkle leaf_entry)
    Column("revision", Integer, primary_key=True, default=0),
    Column("licence_id", Integer, nullable=False, index=True),
    Column("period", Integer, nullable=False),
    Column("sale_day", Integer, nullable=False),
    Column("territory", Integer, nullable=False),
    Column("field", Integer, nullable=False),
    Column("channel", Integer, nullable=False),
    Column("kind", Integer, nullable=False, default=0),  # intake.merkle LINE_SALE, LINE_RETURN, ...
    Column("returns_line_id", String, nullable=True),  # the sale a return names
    # signed decimal strings: a return's are <= 0; a cancel's are those of the version it cancels
    Column("units", String, nullable=False),
    Column("gross", String, nullable=False),
    Column("deductions", String, nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("in_scope", Boolean, nullable=False),
    Column("source", String, nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("state", String, nullable=False, default=LineState.WAITING.value),  # a LineState
    Column("report_id", Integer, nullable=True),
    # A line in another currency than the licence's (revision 0007): its ISO 4217 code and the
    # exponent its amounts are in (units, gross, deductions above, as the feed gave them); both
    # NULL for a line in the licence's currency, whose amounts are token units.
    Column("currency", String, nullable=True),
    Column("minor_units", Integer, nullable=True),
)

reports_table = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("licence_id", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("deadline", Integer, nullable=False),
    Column("lines_root", LargeBinary, nullable=False),
    Column("line_count", Integer, nullable=False),
    # JSON list of [year, t, f, c, units, gross, deductions] (six ints, no year: a report from
    # before revision 0002, kept as history only)
    Column("buckets", Text, nullable=False),
    Column("returned", Text, nullable=False, default="[]"),  # the same, for returns and cancellations
    # 0: the period's original report; n: its n-th adjustment, which corrects settlement
    # ``corrects`` (the period's latest on chain when it was signed)
    Column("adjustment", Integer, nullable=False, default=0),
    Column("corrects", Integer, nullable=False, default=0),
    # An audit finding (revision 0004): an adjustment signed with audit=true and the cost it
    # states (a decimal string of token units, charged only when the underpayment it reveals
    # exceeds the licence's threshold); ``finding_ref`` is the operator's reference for it, kept
    # here only (the chain sees the signed report, not the reference).
    Column("audit", Boolean, nullable=False, default=False),
    Column("audit_cost", String, nullable=False, default="0"),
    Column("finding_ref", Text, nullable=True),
    Column("signatures", Text, nullable=False),  # JSON list of 0x-hex signatures
    # The conversions of the report's sales in other currencies (revision 0007), a JSON list of
    # {bucket, currency, minor_units, rate_day, rate, gross, deductions} by (bucket, currency,
    # rate_day); the buckets above include them converted. "[]": every sale in the licence's currency.
    Column("fx", Text, nullable=False, default="[]"),
    Column("state", String, nullable=False),  # a ReportState
    Column("tx_hash", String, nullable=True),
    Column("settlement_id", Integer, nullable=True),
    Column("royalty", String, nullable=True),
    Column("paid", String, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
    UniqueConstraint("licence_id", "period", "adjustment", name="one_report_per_period_and_adjustment"),
)

closed_periods_table = Table(
    "closed_periods",
    metadata,
    Column("licence_id", Integer, primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("closed_at", Integer, nullable=False),
)

files_table = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", String, nullable=False),
    Column("started_at", Integer, nullable=False),
    Column("finished_at", Integer, nullable=True),
    Column("lines_read", Integer, nullable=False, default=0),
    Column("valid", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
)

rejections_table = Table(
    "rejections",
    metadata,
    Column("file_id", Integer, primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("field", String, nullable=False),
    Column("value", Text, nullable=False),
    Column("reason", Text, nullable=False),
)

# One row, name 'sender': who may send and until when (revision 0005; outbox.lease).
sender_lease_table = Table(
    "sender_lease",
    metadata,
    Column("name", String, primary_key=True),
    Column("holder", String, nullable=True),  # the instance id of the holder (None: never held)
    Column("epoch", Integer, nullable=False),  # the fencing token: one more at every takeover
    Column("expires_at", Float, nullable=False),  # seconds since 1970, by the database's clock
    Column("acquired_at", Float, nullable=False),
)

# Exchange-rate quotes as published, each (source, base, day, currency) once (revision 0006; outbox.rates).
fx_rates_table = Table(
    "fx_rates",
    metadata,
    Column("source", Text, primary_key=True),  # the publisher: ECB, or oracle
    Column("base", Text, primary_key=True),  # the currency the quotes are per one unit of
    Column("day", Date, primary_key=True),
    Column("currency", Text, primary_key=True),
    Column("rate", Text, nullable=False),  # units of currency per unit of base, the decimal as published
    Column("file_name", Text, nullable=False),
    Column("loaded_at", Integer, nullable=False),  # seconds since 1970
)

# Periods whose report waits for exchange rates (revision 0007; outbox.rates): lines of another
# currency wait with it until the rates are loaded, then the next round signs the report.
rate_holds_table = Table(
    "rate_holds",
    metadata,
    Column("licence_id", Integer, primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("source", Text, nullable=False),  # the clause's publisher ("" for a licence that converts nothing)
    # JSON list of {currency, days}: each currency without a rate and the days it has none for
    # (a day "2025-03-31", or "2025-01-01..2025-03-31" for a period without any published day)
    Column("missing", Text, nullable=False),
    Column("reason", Text, nullable=False),  # what holds the report, in words
    Column("held_since", Integer, nullable=False),  # seconds since 1970
    Column("checked_at", Integer, nullable=False),
)

# Published index values, each (index, month) once (revision 0008; outbox.indices).
index_values_table = Table(
    "index_values",
    metadata,
    Column("index", Text, primary_key=True),  # the index's name as the clause names it (1..16 ASCII)
    Column("month", Integer, primary_key=True),  # YYYYMM
    Column("value", Text, nullable=False),  # index points, the decimal as published
    Column("file_name", Text, nullable=False),
    Column("loaded_at", Integer, nullable=False),  # seconds since 1970
)

# Licences whose next escalation step waits for index values (revision 0008; outbox.indices):
# the next round steps them once the values are loaded.
escalation_holds_table = Table(
    "escalation_holds",
    metadata,
    Column("licence_id", Integer, primary_key=True),
    Column("step", Integer, nullable=False),  # the step that waits
    # JSON list of {index, months}: each index tried and its months (YYYY-MM) without a value
    Column("missing", Text, nullable=False),
    Column("reason", Text, nullable=False),  # what holds the step, in words
    Column("held_since", Integer, nullable=False),  # seconds since 1970
    Column("checked_at", Integer, nullable=False),
)

# Published benchmark values, each (benchmark, day) once (revision 0009; outbox.benchmarks).
benchmark_values_table = Table(
    "benchmark_values",
    metadata,
    Column("benchmark", Text, primary_key=True),  # the benchmark's name as a review clause names it (1..16 ASCII)
    Column("day", Text, primary_key=True),  # the day the value is published for, YYYY-MM-DD
    Column("value", Text, nullable=False),  # the publisher's points, the decimal as published
    Column("file_name", Text, nullable=False),
    Column("loaded_at", Integer, nullable=False),  # seconds since 1970
)

# Review triggers of served licences that the oracle has not fired (revision 0009;
# oracle.reviews): what each waits for, or the reviews contract's refusal.
review_holds_table = Table(
    "review_holds",
    metadata,
    Column("licence_id", Integer, primary_key=True),
    Column("trigger", Text, primary_key=True),  # "benchmark", "volume" or "date"
    Column("waits_for", Text, nullable=False),  # what would fire it, in a few words ("DATA-LIC-RATE beyond 3.60..4.40")
    Column("reason", Text, nullable=False),  # what holds it, in words
    Column("error", Text, nullable=False),  # the contract's error name when it refused the trigger, else ""
    Column("held_since", Integer, nullable=False),  # seconds since 1970
    Column("checked_at", Integer, nullable=False),
)
