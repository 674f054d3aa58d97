"""Audit findings: an adjustment report may be an audit finding with a stated cost.

- ``reports`` gains ``audit`` (false for every report so far), ``audit_cost`` (the cost the
  finding states, a decimal string of token units: ``"0"`` for every report so far) and
  ``finding_ref`` (the operator's reference for the finding, NULL for every report so far).
  Both signed fields (``audit``, ``audit_cost``) are part of the EIP-712 SalesReport since the
  ledger gained audit true-ups; a report signed before them signed them as false and 0, which is
  what the defaults say.

No downgrade: an audit finding has no place in the older schema.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("audit", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("audit_cost", sa.String(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("finding_ref", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("outbox revision 0004 has no downgrade: audit findings have no place in older outboxes")
