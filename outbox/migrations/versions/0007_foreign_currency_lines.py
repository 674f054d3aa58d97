"""Sales in other currencies: lines keep their currency, reports their conversions, and a period
whose rates are missing is held.

- ``lines`` gains ``currency`` and ``minor_units``: the ISO 4217 code of a line in another
  currency than the licence's and the exponent its amounts are in (its ``units``, ``gross`` and
  ``deductions`` as the feed gave them, in that currency's minor units). NULL for every line so
  far, which is in the licence's currency (token units), its leaf unchanged.
- ``reports`` gains ``fx``: the report's conversions (a JSON list of {bucket, currency,
  minor_units, rate_day, rate, gross, deductions}), ``[]`` for every report so far (no sale in
  another currency), so a report is signed again with exactly the conversions it had.
- ``rate_holds``: one row per (licence, period) whose report waits for exchange rates, naming the
  source, the currencies and the days without a rate (``outbox.rates``).

No downgrade: a line's currency has no place in the older schema.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns and one with a constant default: both dialects add them in place.
    op.add_column("lines", sa.Column("currency", sa.String(), nullable=True))
    op.add_column("lines", sa.Column("minor_units", sa.Integer(), nullable=True))
    op.add_column("reports", sa.Column("fx", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "rate_holds",
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_since", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("licence_id", "period"),
    )


def downgrade() -> None:
    raise NotImplementedError(
        "outbox revision 0007 has no downgrade: lines in other currencies have no place in older outboxes"
    )
