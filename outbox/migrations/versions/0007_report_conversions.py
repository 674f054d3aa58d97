"""Signed conversions: a report carries the sales in other currencies its buckets hold.

- ``reports`` gains ``fx``: a JSON list of the report's conversions, each ``[bucket, currency,
  minor_units, rate_day, rate, gross, deductions]`` (IRoyaltyLedger.Conversion, the currency as
  its code), ``"[]"`` for every report so far. The conversions are part of the EIP-712
  SalesReport since the ledger checks and emits them; a report signed before them signed none,
  which is what the default says (and the current SalesReport hashes an empty list alike).

No downgrade: a report with conversions has no place in the older schema.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("fx", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    raise NotImplementedError("outbox revision 0007 has no downgrade: conversions have no place in older outboxes")
