"""The outbox seen from the API: sales lines with their Merkle proofs, and a sink for uploads.

The API process opens the same SQLite outbox as the oracle (WAL mode lets one writer and many
readers work at once), but never creates or upgrades it: both classes take an ``Outbox`` opened
with ``Outbox.existing`` (the oracle owns the schema). Proofs are computed from the leaves of the
report the line went into, so they verify against the root that report put on chain.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from intake.merkle import MerkleTree
from intake.validate import ValidLine
from outbox.lines import OutboxSeenLines, ReportedPeriods
from outbox.store import Outbox


class OutboxLineStore:
    """LineStore over the oracle's outbox (see api.plugins.LineStore)."""

    configured = True

    def __init__(self, outbox: Outbox, cache_reports: int = 32) -> None:
        self._outbox = outbox
        self._trees: OrderedDict[int, MerkleTree] = OrderedDict()
        self._cache_reports = cache_reports

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        with self._outbox.connect() as conn:
            rows = [
                r
                for r in self._outbox.find_line(conn, line_id)
                if r["licence_id"] == licence_id and r["period"] == period and r["report_id"] is not None
            ]
            if not rows:
                return None
            # The line as it stands now: its latest version (a replace or a cancel is carried by
            # an adjustment), with the settlement of the report that carried it.
            row = rows[-1]
            tree = self._tree(conn, row["licence_id"], row["period"], row["report_id"])
            settlement_id = self._outbox.get_report(conn, row["report_id"]).settlement_id
        leaf = bytes(row["leaf"])
        line = {
            "line_id": row["line_id"],
            "licence_id": row["licence_id"],
            "period": row["period"],
            "sale_day": row["sale_day"],
            "territory": row["territory"],
            "field": row["field"],
            "channel": row["channel"],
            "units": row["units"],
            "gross": row["gross"],
            "deductions": row["deductions"],
            "in_scope": bool(row["in_scope"]),
            "source": row["source"],
            "line_number": row["line_number"],
            "settlement_id": settlement_id,
        }
        if row.get("currency"):  # amounts in the currency's minor units; its leaf commits to both
            line["currency"] = row["currency"]
            line["minor_units"] = row["minor_units"]
        return line, leaf, tree.proof(leaf)

    def _tree(self, conn: Connection, licence_id: int, period: int, report_id: int) -> MerkleTree:
        tree = self._trees.get(report_id)
        if tree is None:
            tree = MerkleTree(self._outbox.period_leaves(conn, licence_id, period, report_id=report_id))
            self._trees[report_id] = tree
            if len(self._trees) > self._cache_reports:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(report_id)
        return tree


class OutboxFeedSink:
    """FeedSink that stores an upload's valid lines in the outbox for the oracle to report.

    ``seen_lines()`` and ``reported_periods()`` each hold a connection for one upload: use them
    as context managers (``with sink.seen_lines() as seen: ...``) so it is closed when the
    upload is done.
    """

    def __init__(self, outbox: Outbox, licensee_of: Callable[[int], str]) -> None:
        self._outbox = outbox
        self._licensee_of = licensee_of

    def seen_lines(self) -> OutboxSeenLines:
        """Line ids already in the outbox, so an upload repeating one with other content is refused."""
        return OutboxSeenLines(self._outbox, self._outbox.connect(), owns_connection=True)

    def reported_periods(self) -> ReportedPeriods:
        """Periods already reported: an upload's lines for them come too late."""
        return ReportedPeriods(self._outbox, self._outbox.connect(), owns_connection=True)

    def accept(self, lines: Sequence[ValidLine]) -> dict[str, Any]:
        """Stores the lines; "stored" counts the rows this insert added (lines already in the
        outbox, from an earlier upload or the oracle's own feeds, are "already_known")."""
        licensees = {line.licence_id: self._licensee_of(line.licence_id).lower() for line in lines}
        with self._outbox.connect() as conn:
            stored = self._outbox.store_lines(conn, licensees, lines, source="api upload")
            conn.commit()
        return {
            "stored": stored,
            "already_known": len(lines) - stored,
            "configured": True,
            "note": "valid lines are in the oracle's outbox; they are reported once their period is due",
        }
