"""Index values for escalation: the values of loaded index files, and the licences whose next
escalation step waits for them.

- ``index_values``: one row per (``index``, ``month``), the primary key: a published value of an
  index for a month (YYYYMM), once. ``value`` is the decimal string as published (index points;
  ``intake.indices.parse_index_value`` reads it exactly), ``file_name`` the file it came from and
  ``loaded_at`` when (seconds since 1970). A value is never overwritten: a file that gives another
  value for a stored one has that line rejected (``outbox.indices``), because a step may already
  have been signed with the stored value.
- ``escalation_holds``: one row per licence whose next step waits for index values, naming the
  step, the index (or indices) tried and the months without a value.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_values",
        sa.Column("index", sa.Text(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("index", "month"),
    )
    op.create_table(
        "escalation_holds",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_since", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("licence_id"),
    )


def downgrade() -> None:
    op.drop_table("escalation_holds")
    op.drop_table("index_values")
