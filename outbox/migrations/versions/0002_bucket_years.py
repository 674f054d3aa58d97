"""Buckets carry their contract year: reports signed for the ledger before it cannot settle.

From this revision a report's ``buckets`` column holds lists of seven ints,
``[year, territory, field, channel, units, gross, deductions]``: IRoyaltyLedger.Bucket gained a
first field ``uint16 year`` (the contract year of the sales' dates) and the EIP-712 Bucket type
the oracles sign gained it too. A report stored before this revision has six-int buckets. Its
signatures are over the old Bucket type, which the calendar registry never verifies, and it
cannot be signed again as it is, because each bucket's contract year follows from its lines'
sale days by the licence's calendar on chain, which a migration cannot read. So, by state:

- ``settled`` and ``rejected`` (final): kept exactly as they are, six-int buckets included, as
  the history of what the old ledger did with them. Nothing sends them again
  (``StoredReport.legacy`` is True for them; ``oracle.sender.as_report`` refuses them).
- ``signed`` (never broadcast, or sent by a transaction that failed or was lost and waiting to be
  sent again): nothing of it is on any chain, so it is deleted and its lines go back to
  ``waiting``. The next round rebuilds the period from them with each sale's contract year,
  under a new sequence, and signs it for the new layout (the one-report-per-period rule holds:
  the old row is gone before the new one is made).
- ``sent`` (a transaction is out for it, to the old ledger): moved to ``rejected`` with the
  reason ``LEGACY_SENT_REASON``; it keeps its lines and transaction hash. Whether that
  transaction settled is for the old deployment to say; the new ledger can never settle the
  report, so it is neither sent nor reconciled again, and its period stays reported here (a line
  that arrives for it later is late, as for any reported period).

There is no downgrade: the reports built after this revision have contract years that the old
code cannot sign or send, and the deleted signatures were worthless.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_BUCKET_LENGTH = 6
LEGACY_SENT_REASON = (
    "legacy report: signed for the ledger before contract years (buckets without a year); "
    "the calendar ledger cannot settle it and it is not sent again; whether its transaction "
    "settled is for the old deployment to say"
)

_reports = sa.table(
    "reports",
    sa.column("id", sa.Integer),
    sa.column("buckets", sa.Text),
    sa.column("state", sa.String),
    sa.column("error", sa.Text),
    sa.column("updated_at", sa.Integer),
)
_lines = sa.table(
    "lines",
    sa.column("state", sa.String),
    sa.column("report_id", sa.Integer),
)


def _is_legacy(buckets_json: str) -> bool:
    return any(len(bucket) == OLD_BUCKET_LENGTH for bucket in json.loads(buckets_json))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_reports.c.id, _reports.c.buckets, _reports.c.state).where(_reports.c.state.in_(("signed", "sent")))
    ).all()
    to_rebuild = [int(r.id) for r in rows if r.state == "signed" and _is_legacy(r.buckets)]
    to_retire = [int(r.id) for r in rows if r.state == "sent" and _is_legacy(r.buckets)]
    if to_rebuild:
        conn.execute(
            sa.update(_lines)
            .where(_lines.c.report_id.in_(to_rebuild), _lines.c.state == "reported")
            .values(state="waiting", report_id=None)
        )
        conn.execute(sa.delete(_reports).where(_reports.c.id.in_(to_rebuild)))
    if to_retire:
        conn.execute(
            sa.update(_reports)
            .where(_reports.c.id.in_(to_retire))
            .values(state="rejected", error=LEGACY_SENT_REASON, updated_at=int(time.time()))
        )


def downgrade() -> None:
    raise NotImplementedError(
        "outbox revision 0002 has no downgrade: reports with contract years cannot be signed by older code"
    )
