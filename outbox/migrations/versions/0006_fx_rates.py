"""Exchange rates: the quotes of rate files the oracle loaded (``royalty-oracle rates load``).

- ``fx_rates``: one row per (``source``, ``base``, ``day``, ``currency``), the primary key: a
  publisher's quote of a currency for a day, once. ``rate`` is the decimal string as published
  (units of ``currency`` per unit of ``base``; ``intake.fx.parse_rate`` reads it exactly),
  ``file_name`` the file it came from and ``loaded_at`` when (seconds since 1970). A quote is
  never overwritten: a file that gives another rate for a stored one has that line rejected
  (``outbox.rates``), because reports may already have been signed with the stored rate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("rate", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "base", "day", "currency"),
    )


def downgrade() -> None:
    op.drop_table("fx_rates")
