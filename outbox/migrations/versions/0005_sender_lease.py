"""The sender lease: which oracle instance may send, until when, under which fencing epoch.

- ``sender_lease`` (one row, ``name`` 'sender'): ``holder`` (the instance id of the oracle that
  holds it, NULL when nobody ever did), ``epoch`` (one more at every takeover: the fencing token
  every write of a sent transaction checks), ``expires_at`` (seconds since the epoch, by the
  database's clock) and ``acquired_at``. See ``outbox.lease``.
- On PostgreSQL only, ``lines`` gains ``stored_order`` (a bigserial): the order lines were stored
  in, which SQLite's implicit rowid gives (``outbox.lines.OutboxSeenLines`` reads new lines by it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease = op.create_table(
        "sender_lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("acquired_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(lease, [{"name": "sender", "holder": None, "epoch": 0, "expires_at": 0.0, "acquired_at": 0.0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE lines ADD COLUMN stored_order BIGSERIAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("lines", "stored_order")
    op.drop_table("sender_lease")
