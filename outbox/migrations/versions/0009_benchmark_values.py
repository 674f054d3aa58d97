"""Benchmark values for rate reviews: the values of loaded benchmark files, and the review
triggers the oracle has not fired yet.

- ``benchmark_values``: one row per (``benchmark``, ``day``), the primary key: a published value
  of a market benchmark for a day (YYYY-MM-DD), once. ``value`` is the decimal string as published
  (points; ``intake.benchmarks.parse_benchmark_value`` reads it exactly), ``file_name`` the file
  it came from and ``loaded_at`` when (seconds since 1970). A value is never overwritten: a file
  that gives another value for a stored one has that line rejected (``outbox.benchmarks``),
  because review evidence may already have been signed with the stored value.
- ``review_holds``: one row per (licence, trigger) of a served licence's review clause that has
  not fired: what it waits for (a benchmark value beyond the clause's move, the volume threshold,
  the review date) or the contract's refusal, for ``royalty-oracle status``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benchmark_values",
        sa.Column("benchmark", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("benchmark", "day"),
    )
    op.create_table(
        "review_holds",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("waits_for", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("held_since", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("licence_id", "trigger"),
    )


def downgrade() -> None:
    op.drop_table("review_holds")
    op.drop_table("benchmark_values")
