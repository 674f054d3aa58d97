"""Exact SeenLines whose memory does not grow with the lines: a Bloom filter in front of SQLite.

The bench's seen store (bench/oracle_pipeline.py): the oracle itself uses the outbox's
(oracle.outbox.OutboxSeenLines), so this lives here, beside the bench that measures it.

A claim first asks whether the id is certainly new, cheaply:

- Line ids mostly ascend (invoice numbers). An id above every id seen so far for its licensee,
  in (length, id) order ("INV-9" < "INV-10"), is new: one tuple comparison.
- Once a licensee's id comes out of order, a Bloom filter of every stored id is built (from the
  database, once) and asked from then on. A negative means new.

A new id joins a pending batch in memory, written to the database in one transaction every
``batch_size`` claims. Anything else (a repeated line, or a fraction of a percent of new ids
that the filter cannot tell apart) is checked exactly: in the pending batch, then in the
database. So the answers are those of InMemorySeenLines, while memory holds the filter (only
once an id came out of order), one batch and SQLite's page cache.

Storage is shaped by the same order. One B-tree insert per id costs ~1.5 us with ascending keys
and ~15 us with random ones, more than the whole check. So a batch's ids are sorted per
licensee, and those above every id stored for that licensee are written as *runs*: rows of up
to 512 ids with their leaves, one insert per row. A licensee's runs cover disjoint, ascending
ranges, so a lookup reads the one run whose range covers the id (and keeps it decoded for the
next lookup). Ids below a licensee's highest stored id go to a keyed table, one row each:
random ids work, just slower.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, count, repeat
from operator import add, mul
from pathlib import Path
from types import TracebackType
from typing import Final

from intake.bloom import DEFAULT_BLOOM_BITS, LineIdBloom
from intake.bloom import PATTERN_BITS as _PATTERN_BITS
from intake.bloom import PATTERNS as _PATTERNS
from intake.validate import SeenLines

DEFAULT_BATCH_SIZE: Final = 20_000  # ~2 MiB pending; random ids insert ~35% faster than with 5,000
_RUN_IDS: Final = 512  # ids per run row: a lookup decodes one row
_LENGTH_TYPE: Final = next(code for code in "HIL" if array(code).itemsize == 4)


@dataclass(slots=True)
class SeenStats:
    """What a DiskSeenLines did: how often the cheap checks answered and what the rest cost."""

    filter_loaded: int | None = None  # stored ids read into the filter when it started (None: never)
    bloom_positives: int = 0  # claims the filter could not answer alone
    false_positives: int = 0  # ... of which the id was new after all
    db_lookups: int = 0  # exact checks not answered by the pending batch
    db_queries: int = 0  # SQL statements those took (a run kept decoded answers without one)
    flushes: int = 0
    run_rows: int = 0
    ids_in_runs: int = 0
    ids_out_of_order: int = 0  # ids written to the keyed table, one row each


def _order(line_id: str) -> tuple[int, str]:
    return len(line_id), line_id


def _key(line_id: str) -> bytes:
    """``_order`` as bytes that SQLite compares the same way (memcmp of UTF-8 keeps code point order)."""
    return len(line_id).to_bytes(4, "big") + line_id.encode("utf-8")


def _unkey(key: bytes) -> tuple[int, str]:
    return int.from_bytes(key[:4], "big"), key[4:].decode("utf-8")


def _lengths_blob(ids: list[str]) -> bytes:
    lengths = array(_LENGTH_TYPE, map(len, ids))
    if sys.byteorder == "big":
        lengths.byteswap()  # stored little-endian
    return lengths.tobytes()


def _decode_ids(text: bytes, lengths_blob: bytes) -> list[str]:
    lengths = array(_LENGTH_TYPE)
    lengths.frombytes(lengths_blob)
    if sys.byteorder == "big":
        lengths.byteswap()
    ends = list(accumulate(lengths))
    return list(map(text.decode("utf-8").__getitem__, map(slice, [0, *ends[:-1]], ends)))


class _Licensee:
    """One licensee's state: its number in the database, highest id, ids not yet written.

    The pending ids are a list and their leaves one bytearray, in arrival order: appending a
    leaf while it is still in the CPU cache is cheaper than gathering scattered leaf objects
    at flush time, and ids that came in ascending order need no sort at all.
    """

    __slots__ = ("ascending", "ids", "index", "leaves", "name", "number", "stored", "top")

    def __init__(self, name: str, number: int, top: tuple[int, str] = (0, ""), stored: bool = False) -> None:
        self.name = name
        self.number = number
        self.top = top  # highest id (in _order) stored or pending, until the filter starts
        self.stored = stored  # in the licensees table
        self.ids: list[str] = []  # pending, since the last flush
        self.leaves = bytearray()  # their leaves, 32 bytes each
        self.ascending = True  # the pending ids are in ascending _order
        self.index: dict[str, int] | None = None  # pending id -> position, built for lookups

    def pending_leaf(self, line_id: str) -> bytes | None:
        ids = self.ids
        index = self.index
        if index is None:
            index = self.index = {}
        if len(index) < len(ids):  # index the ids appended since the last lookup
            index.update(zip(ids[len(index) :], count(len(index))))
        position = index.get(line_id)
        return None if position is None else bytes(self.leaves[position << 5 : (position + 1) << 5])

    def sorted_pending(self) -> tuple[list[str], bytes]:
        """The pending ids in ascending _order, with their leaves."""
        ids, leaves = self.ids, bytes(self.leaves)
        if not self.ascending:
            lengths = list(map(len, ids))
            positions = sorted(range(len(ids)), key=ids.__getitem__)
            positions.sort(key=lengths.__getitem__)  # stable: (length, id) order
            ids = list(map(ids.__getitem__, positions))
            starts = list(map(mul, positions, repeat(32)))
            ends = list(map(add, starts, repeat(32)))
            leaves = b"".join(map(leaves.__getitem__, map(slice, starts, ends)))
        return ids, leaves

    def clear_pending(self) -> None:
        self.ids, self.leaves, self.ascending, self.index = [], bytearray(), True, None


class _Run:
    """One decoded run row: ids in ascending (length, id) order and their leaves."""

    __slots__ = ("first", "ids", "last", "leaves", "number")

    def __init__(self, number: int, ids: list[str], leaves: bytes) -> None:
        self.number = number
        self.ids = ids
        self.leaves = leaves
        self.first = _order(ids[0])
        self.last = _order(ids[-1])

    def covers(self, number: int, order: tuple[int, str]) -> bool:
        return number == self.number and self.first <= order <= self.last

    def find(self, line_id: str) -> bytes | None:
        index = bisect_left(self.ids, _order(line_id), key=_order)
        if index < len(self.ids) and self.ids[index] == line_id:
            return self.leaves[index << 5 : (index + 1) << 5]
        return None


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS licensees (
    number INTEGER PRIMARY KEY,
    licensee TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS runs (
    licensee INTEGER NOT NULL,
    first_key BLOB NOT NULL,  -- the first id's order key: length (4 bytes, big-endian), UTF-8
    last_key BLOB NOT NULL,
    ids BLOB NOT NULL,        -- the ids' UTF-8, concatenated
    lengths BLOB NOT NULL,    -- each id's length in characters, uint32 little-endian
    leaves BLOB NOT NULL,     -- each id's first leaf, 32 bytes, in the same order
    PRIMARY KEY (licensee, first_key)
);
CREATE TABLE IF NOT EXISTS lines (
    licensee INTEGER NOT NULL,
    line_id TEXT NOT NULL,
    leaf BLOB NOT NULL,
    PRIMARY KEY (licensee, line_id)
) WITHOUT ROWID;
"""


class DiskSeenLines(SeenLines):
    """SeenLines in SQLite with an ascending-id check and a LineIdBloom in front (see the module
    docstring).

    ``path`` keeps the ids across runs: claims are durable once flushed, every ``batch_size``
    claims, on ``flush()`` and on ``close()`` (or leaving a ``with`` block). Without a path the
    database is a temporary file, created at the first flush and deleted by ``close()``.
    ``bloom_from_start`` asks the filter for every claim (tests). ``stats`` counts what the
    exact checks cost.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        bloom_bits: int = DEFAULT_BLOOM_BITS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        bloom_from_start: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="oracle-seen-")
            path = Path(self._tmp.name) / "seen.sqlite"
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None  # a temporary one is created when first needed
        self._bloom_bits = LineIdBloom.checked_bits(bloom_bits)  # now, not when the filter starts
        self._words: array[int] | None = None  # the filter's words, once it started
        self._word_mask = 0
        self._batch_size = batch_size
        self._room = batch_size  # claims until the next flush
        self._licensees: dict[str, _Licensee] = {}
        self._high: dict[int, tuple[int, str]] = {}  # licensee number -> highest id in its runs
        self._run: _Run | None = None  # the run last read, kept for the next lookup
        self.stats = SeenStats()
        if self._tmp is None:
            db = self._connect()
            for number, licensee in db.execute("SELECT number, licensee FROM licensees"):
                self._licensees[licensee] = _Licensee(licensee, number, stored=True)
            for number, last_key in db.execute("SELECT licensee, max(last_key) FROM runs GROUP BY licensee"):
                self._high[number] = _unkey(last_key)
            for state in self._licensees.values():
                state.top = self._high.get(state.number, (0, ""))
        if bloom_from_start:
            self._start_filter()

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A temporary file dies with the process anyway: no fsync at checkpoints.
            self._db.execute("PRAGMA synchronous=OFF" if self._tmp is not None else "PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        return self._db

    def claim(self, licensee: str, line_id: str, leaf: bytes) -> bytes | None:
        state = self._licensees.get(licensee)
        if state is None:
            state = self._licensees[licensee] = _Licensee(licensee, len(self._licensees) + 1)
        words = self._words
        if words is None:  # no id came out of order yet: above the highest means new
            order = (len(line_id), line_id)
            if order > state.top:
                state.top = order
                state.ids.append(line_id)
                state.leaves += leaf
                self._room -= 1
                if not self._room:
                    self.flush()
                return None
            words = self._start_filter()
        # LineIdBloom.add, inlined: this runs once per line and a call costs ~0.1 us.
        h = hash(line_id) ^ hash(licensee)
        pattern = _PATTERNS[h & 0xFFF]
        index = h >> _PATTERN_BITS & self._word_mask
        word = words[index]
        if word & pattern != pattern:
            words[index] = word | pattern
        else:
            stats = self.stats
            stats.bloom_positives += 1
            known = self._known(state, line_id)
            if known is not None:
                return known
            stats.false_positives += 1
        state.ids.append(line_id)
        state.leaves += leaf
        state.ascending = False  # (not known: the filter does not compare ids)
        self._room -= 1
        if not self._room:
            self.flush()
        return None

    def _start_filter(self) -> array[int]:
        """Build the Bloom filter from every stored and pending id; claims use it from now on."""
        bloom = LineIdBloom(self._bloom_bits)
        loaded = 0
        for licensee, line_id in self._stored_ids():
            bloom.add(licensee, line_id)
            loaded += 1
        for state in self._licensees.values():
            for line_id in state.ids:
                bloom.add(state.name, line_id)
        self.stats.filter_loaded = loaded
        self._word_mask = bloom.word_mask
        self._words = bloom.words
        return bloom.words

    def _stored_ids(self) -> Iterator[tuple[str, str]]:
        if self._db is None:
            return
        names = {state.number: state.name for state in self._licensees.values()}
        for number, text, lengths in self._db.execute("SELECT licensee, ids, lengths FROM runs"):
            licensee = names[number]
            for line_id in _decode_ids(text, lengths):
                yield licensee, line_id
        for number, line_id in self._db.execute("SELECT licensee, line_id FROM lines"):
            yield names[number], line_id

    def _known(self, state: _Licensee, line_id: str) -> bytes | None:
        """The leaf stored for the id, looked up exactly: pending batch, runs, keyed table."""
        if state.ids:
            leaf = state.pending_leaf(line_id)
            if leaf is not None:
                return leaf
        db = self._db
        if not state.stored or db is None:
            return None
        stats = self.stats
        stats.db_lookups += 1
        number, order = state.number, _order(line_id)
        run = self._run
        if run is None or not run.covers(number, order):
            stats.db_queries += 1
            row = db.execute(
                "SELECT ids, lengths, leaves FROM runs WHERE licensee = ? AND first_key <= ?"
                " ORDER BY first_key DESC LIMIT 1",
                (number, _key(line_id)),
            ).fetchone()
            if row is not None:
                run = self._run = _Run(number, _decode_ids(row[0], row[1]), row[2])
        if run is not None and run.covers(number, order):
            leaf = run.find(line_id)
            if leaf is not None:
                return leaf
        stats.db_queries += 1
        row = db.execute("SELECT leaf FROM lines WHERE licensee = ? AND line_id = ?", (number, line_id)).fetchone()
        return None if row is None else bytes(row[0])

    def flush(self) -> None:
        """Write the pending claims to the database, in one transaction."""
        if self._room == self._batch_size:
            return
        new_licensees: list[tuple[int, str]] = []
        high = dict(self._high)
        runs: list[tuple[int, bytes, bytes, bytes, bytes, bytes]] = []
        singles: list[tuple[int, str, bytes]] = []
        in_runs = 0
        for state in self._licensees.values():
            if not state.ids:
                continue
            if not state.stored:
                new_licensees.append((state.number, state.name))
            number = state.number
            ids, leaves = state.sorted_pending()
            top = high.get(number)
            above = 0 if top is None else bisect_right(ids, top, key=_order)
            singles.extend((number, line_id, leaves[i << 5 : (i + 1) << 5]) for i, line_id in enumerate(ids[:above]))
            for start in range(above, len(ids), _RUN_IDS):
                part = ids[start : start + _RUN_IDS]
                text = "".join(part).encode("utf-8")
                part_leaves = leaves[start << 5 : (start + len(part)) << 5]
                runs.append((number, _key(part[0]), _key(part[-1]), text, _lengths_blob(part), part_leaves))
            if above < len(ids):
                high[number] = _order(ids[-1])
            in_runs += len(ids) - above
        db = self._connect()
        with db:  # commits, or rolls back and raises (the batch stays pending)
            db.executemany("INSERT INTO licensees (number, licensee) VALUES (?, ?)", new_licensees)
            db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", runs)
            db.executemany("INSERT INTO lines VALUES (?, ?, ?)", singles)
        self._high = high
        for _, name in new_licensees:
            self._licensees[name].stored = True
        for state in self._licensees.values():
            if state.ids:
                state.clear_pending()
        self._room = self._batch_size
        stats = self.stats
        stats.flushes += 1
        stats.run_rows += len(runs)
        stats.ids_in_runs += in_runs
        stats.ids_out_of_order += len(singles)

    def close(self) -> None:
        """Flush and close the database; a temporary one is deleted instead (nothing to flush for)."""
        try:
            if self._tmp is None:
                self.flush()
        finally:
            if self._db is not None:
                self._db.close()
                self._db = None
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def __enter__(self) -> DiskSeenLines:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
