"""The outbox as the validator asks it: which line ids are known, which periods were reported.

Both hold one connection to the outbox. Made with ``owns_connection=True`` (the API's
``OutboxFeedSink``: one per upload) they are context managers that close it on exit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.engine import Connection

from intake.bloom import DEFAULT_BLOOM_BITS, LineIdBloom
from intake.validate import SeenLines, ValidLine
from outbox.store import Outbox


class _HoldsConnection:
    """Closes the connection on exit if it was opened for this object."""

    _conn: Connection
    _owns_connection: bool

    def close(self) -> None:
        if self._owns_connection:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class OutboxSeenLines(_HoldsConnection, SeenLines):
    """SeenLines backed by the outbox: ids stored in earlier runs are found in the database,
    ids of the batch being read are found in memory until the batch is stored.

    A Bloom filter of every (licensee, line id) in the outbox spares most claims the database:
    when the filter says an id is new, it is (the usual case, no query); only its positives
    (repeated lines, and a fraction of a percent of new ids) are looked up. The filter is read
    from the lines table once ``bloom_after`` claims were made, so a caller that claims a few
    lines (an API upload) does not read the whole table for them. Lines that another process
    (the API) stores meanwhile are added to the filter each time a batch is stored (they are
    the rows above the highest rowid read so far), so, as without a filter, only a line stored
    elsewhere while this batch is read can be missed; if both store it, the first one stored
    stays (``store_lines`` inserts OR IGNORE).
    """

    def __init__(
        self,
        outbox: Outbox,
        conn: Connection,
        *,
        bloom_bits: int | None = None,
        bloom_after: int = 1000,
        owns_connection: bool = False,
    ) -> None:
        self._outbox = outbox
        self._conn = conn
        self._owns_connection = owns_connection
        self._batch: dict[tuple[str, str], bytes] = {}
        self._bloom: LineIdBloom | None = None
        self._bloom_bits = DEFAULT_BLOOM_BITS if bloom_bits is None else LineIdBloom.checked_bits(bloom_bits)
        self._claims_left = bloom_after  # claims before the filter is read
        self._read_up_to = 0  # the highest rowid of the lines table in the filter
        self.bloom_positives = 0
        self.db_lookups = 0

    def claim(self, licensee: str, line_id: str, leaf: bytes) -> bytes | None:
        key = (licensee, line_id)
        bloom = self._bloom
        if bloom is None:
            self._claims_left -= 1
            if self._claims_left < 0:
                self._read_bloom()
                bloom = self._bloom
        if bloom is not None:
            if not bloom.add(licensee, line_id):
                self._batch[key] = leaf
                return None
            self.bloom_positives += 1
        known = self._batch.get(key)
        if known is not None:
            return known
        self.db_lookups += 1
        known = self._outbox.known_leaf(self._conn, licensee, line_id)
        if known is not None:
            return known
        self._batch[key] = leaf
        return None

    def _read_bloom(self) -> None:
        """Fill the filter with every stored line and the batch; claims ask it from now on."""
        self._bloom = LineIdBloom(self._bloom_bits)
        self._read_stored()
        for licensee, line_id in self._batch:
            self._bloom.add(licensee, line_id)

    def _read_stored(self) -> None:
        """Add the lines stored since the last look (by anyone) to the filter."""
        assert self._bloom is not None
        bloom, highest = self._bloom, self._read_up_to
        # SQLite's rowid; on PostgreSQL the stored_order column (revision 0005) numbers rows the same way.
        order = "stored_order" if self._conn.dialect.name == "postgresql" else "rowid"
        rows = self._conn.execute(
            text(f"SELECT {order}, licensee, line_id FROM lines WHERE {order} > :after ORDER BY {order}"),
            {"after": highest},
        ).yield_per(10_000)
        for rowid, licensee, line_id in rows:
            bloom.add(licensee, line_id)
            highest = rowid
        self._read_up_to = highest

    def release(self, licensee: str, line_id: str) -> None:
        """Forget a claim of this batch (its line was refused after all); the filter may keep
        the id, which only costs a lookup."""
        self._batch.pop((licensee, line_id), None)

    def latest(self, licensee: str, line_id: str) -> ValidLine | None:
        """The line's latest stored version (lines of the batch not stored yet are the
        validator's PendingLines' to show)."""
        self.db_lookups += 1
        return self._outbox.latest_line(self._conn, licensee, line_id)

    def flushed(self) -> None:
        """The batch was stored; its ids are now found in the database."""
        self._batch.clear()
        if self._bloom is not None:
            self._read_stored()


class ReportedPeriods(_HoldsConnection):
    """Which (licence, period) already went into a report (``intake.validate.ReportedPeriods``):
    the id of the period's original report. A new line of such a period goes into an adjustment."""

    def __init__(self, outbox: Outbox, conn: Connection, *, owns_connection: bool = False) -> None:
        self._outbox = outbox
        self._conn = conn
        self._owns_connection = owns_connection

    def report_of(self, licence_id: int, period: int) -> int | None:
        existing = self._outbox.report_for(self._conn, licence_id, period)
        return existing.id if existing else None
