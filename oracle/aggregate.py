"""Totals per licence and period, per (contract year, territory, field, channel) bucket, plus
the lines' root.

This is exactly what one sales report carries: the buckets, the returned buckets, the line count
and the Merkle root of the lines. A period that crosses a contract year's end has buckets of both years: each sale
is priced in the contract year of its date. Output is deterministic (periods by (licence,
period), buckets by (year, territory, field, channel), root independent of line order), so two
oracles that read the same lines in any order sign the same report.

Each line adds its signed amounts: a sale its own, a return its (negative) own, a cancel the
negation of the version it cancels, a replace its new amounts and the negation of the version it
replaces (``ValidLine.previous``). What is positive goes into the bucket's sales, what is negative
into its returned bucket, as the positive amount it takes away (a line's amounts all have one
sign, so each bucket keeps deductions <= gross). ``add_leaf`` counts a line in the root and the
line count without amounts: the report builder uses it for a version that a later one in the
same report takes away, so that the two net to nothing instead of a sale and a return.

Lines in another currency than the licence's (``ValidLine.currency``) count in their bucket's
units and in the root like any line, but their gross and deductions stay in the currency's minor
units: they are summed per (bucket, currency), and with ``foreign_by_day`` (the clause's rule
sale-date) per (bucket, currency, sale day), into ``PeriodTotals.foreign``. The buckets' gross
and deductions are the licence-currency part only; the report builder adds each foreign sum
converted (oracle.conversion), once, as the ledger checks it.

Memory does not grow with the feed: the Aggregator holds at most ``max_leaves_in_memory``
32-byte leaves across all periods and spills the rest to temporary files. ``finish()`` sorts a
spilled period externally (partitions by the leaves' leading bits, each small enough to sort
in memory) and feeds the partitions in order to a streaming Merkle root.
"""

from __future__ import annotations

import os
import tempfile
from bisect import bisect_left
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from intake.merkle import LINE_CANCEL, LINE_REPLACE, SortedLeavesRoot, merkle_root, split_leaves
from intake.money import UINT128_MAX
from intake.validate import ValidLine

_UINT32_MAX: Final = (1 << 32) - 1
DEFAULT_MAX_LEAVES_IN_MEMORY: Final = 1 << 17  # 131,072 leaves: 4 MiB of leaf bytes
_MAX_PARTITION_BITS: Final = 8  # at most 256 partition files open at once


class BucketOverflowError(Exception):
    """A bucket total that does not fit the contract's ``uint128``.

    The period cannot be reported in one report; the operator has to split or correct the feed.
    """

    def __init__(
        self,
        licence_id: int,
        period: int,
        bucket: tuple[int, int, int, int],
        column: str,
        total: int,
    ) -> None:
        self.licence_id = licence_id
        self.period = period
        self.bucket = bucket
        self.column = column
        self.total = total
        super().__init__(
            f"licence {licence_id} period {period} bucket (year, territory, field, channel)={bucket}: "
            f"{column} total {total} exceeds uint128"
        )


class LineCountOverflowError(Exception):
    """More lines in one period than the report's ``uint32 lineCount`` can say."""

    def __init__(self, licence_id: int, period: int, count: int) -> None:
        self.licence_id = licence_id
        self.period = period
        self.count = count
        super().__init__(f"licence {licence_id} period {period}: {count} lines exceed uint32")


@dataclass(frozen=True, slots=True)
class BucketSums:
    """Sums of one (contract year, territory, field, channel) bucket; ``in_scope`` False is a
    scope breach.

    Not royalty_chain.terms.Bucket (what a report carries): this one also says whether the
    bucket is in the licence's scope."""

    year: int
    territory: int
    field: int
    channel: int
    units: int
    gross: int
    deductions: int
    in_scope: bool


@dataclass(frozen=True, slots=True)
class ForeignSums:
    """The sales of one bucket in one currency other than the licence's (of one sale day, when
    summed per day), in that currency's minor units.

    ``bucket`` indexes the report's buckets, then its returned buckets after them (as a
    conversion on chain does: ``len(buckets) + i`` is ``returned[i]``)."""

    bucket: int
    currency: str
    minor_units: int
    sale_day: int | None  # unix seconds of 00:00 UTC; None when summed over the period
    gross: int
    deductions: int


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """Everything a report for one licence and period needs.

    The leaves themselves are not kept (a period can hold more of them than memory); proofs are
    built from the stored lines (``outbox.linestore``).
    """

    licence_id: int
    period: int
    line_count: int
    buckets: tuple[BucketSums, ...]
    lines_root: bytes
    returned: tuple[BucketSums, ...] = ()
    # Sums in other currencies, by (bucket, currency, sale day); the buckets' gross and
    # deductions above do not include them.
    foreign: tuple[ForeignSums, ...] = ()


class _Period:
    __slots__ = ("buckets", "foreign", "leaves", "returned", "spill_path", "spilled")

    def __init__(self) -> None:
        # (year << 24 | territory << 16 | field << 8 | channel) -> [units, gross, deductions, in_scope];
        # the keys sort as (year, territory, field, channel) tuples would
        self.buckets: dict[int, list[int]] = {}
        self.returned: dict[int, list[int]] = {}  # the same, for what returns and cancels take away
        # (returned, bucket key, currency, minor units, sale day or -1) -> [gross, deductions]
        self.foreign: dict[tuple[bool, int, str, int, int], list[int]] = {}
        self.leaves = bytearray()  # leaves in memory, 32 bytes each, in arrival order
        self.spilled = 0  # leaves written to spill_path
        self.spill_path: Path | None = None


class Aggregator:
    """Accumulates validated lines; ``finish()`` turns them into PeriodTotals.

    At most ``max_leaves_in_memory`` leaves are held in memory at any time, across all periods,
    in ``finish()`` too (``peak_leaves_in_memory`` says how many were). When the cap is reached,
    the largest periods' leaves go to files in a temporary directory (under ``spill_dir``, else
    the system's), until half the cap is free. ``finish()`` and ``close()`` (or leaving a
    ``with`` block) delete the files; the aggregator is empty afterwards and can be reused.
    """

    def __init__(
        self,
        max_leaves_in_memory: int = DEFAULT_MAX_LEAVES_IN_MEMORY,
        spill_dir: str | os.PathLike[str] | None = None,
        *,
        foreign_by_day: bool = False,
    ) -> None:
        if max_leaves_in_memory < 1:
            raise ValueError(f"max_leaves_in_memory must be at least 1, not {max_leaves_in_memory}")
        self._periods: dict[tuple[int, int], _Period] = {}
        self._cap = max_leaves_in_memory
        self._held = 0  # leaves in the periods' buffers
        self._spill_dir = spill_dir
        self._by_day = foreign_by_day
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._files = 0
        self.peak_leaves_in_memory = 0
        self.spilled_leaves = 0  # leaves written to spill files (partitions not counted)
        self.partitioned_leaves = 0  # leaves written again to partition files by finish()

    @property
    def max_leaves_in_memory(self) -> int:
        return self._cap

    @property
    def leaves_in_memory(self) -> int:
        return self._held

    def add(self, line: ValidLine) -> None:
        _, _, licence_id, period, year, _, t, f, c, units, gross, deductions, leaf, in_scope, kind, _, _, _, cur, _ = (
            line
        )
        key = (licence_id, period)
        acc = self._periods.get(key)
        if acc is None:
            acc = self._periods[key] = _Period()
        if kind or cur:  # a return, cancel or replace, or a line in another currency
            self._add_entry(acc, line, self._by_day)
            self._add_leaf(acc, leaf)
            return
        bucket_key = year << 24 | t << 16 | f << 8 | c
        sums = acc.buckets.get(bucket_key)
        if sums is None:
            acc.buckets[bucket_key] = [units, gross, deductions, in_scope]
        else:
            sums[0] += units
            sums[1] += gross
            sums[2] += deductions
        acc.leaves += leaf
        self._held += 1
        if self._held >= self._cap:
            self._spill()

    def add_leaf(self, licence_id: int, period: int, leaf: bytes) -> None:
        """Count a line in its period's root and line count, adding no amounts (module docstring)."""
        acc = self._periods.get((licence_id, period))
        if acc is None:
            acc = self._periods[licence_id, period] = _Period()
        self._add_leaf(acc, leaf)

    def _add_leaf(self, acc: _Period, leaf: bytes) -> None:
        acc.leaves += leaf
        self._held += 1
        if self._held >= self._cap:
            self._spill()

    @staticmethod
    def _add_entry(acc: _Period, line: ValidLine, by_day: bool) -> None:
        """The signed amounts of a return, a cancel, a replace or a line in another currency
        (module docstring)."""
        sign = -1 if line.kind == LINE_CANCEL else 1
        amounts = [
            (line.year, line.territory, line.field, line.channel, line.units, line.gross, line.deductions,
             line.sale_day, line.currency, line.minor_units, sign)
        ]  # fmt: skip
        if line.kind == LINE_REPLACE and line.previous is not None:
            amounts.append((*line.previous, -1))
        for year, t, f, c, units, gross, deductions, day, currency, minor_units, sign_of in amounts:
            units, gross, deductions = sign_of * units, sign_of * gross, sign_of * deductions
            side, returned = acc.buckets, False
            if units < 0 or gross < 0 or deductions < 0:
                side, returned, units, gross, deductions = acc.returned, True, -units, -gross, -deductions
            bucket_key = year << 24 | t << 16 | f << 8 | c
            if currency:  # the bucket counts the units; the amounts are summed in the currency
                group = (returned, bucket_key, currency, minor_units, day if by_day else -1)
                money = acc.foreign.get(group)
                if money is None:
                    acc.foreign[group] = [gross, deductions]
                else:
                    money[0] += gross
                    money[1] += deductions
                gross = deductions = 0
            sums = side.get(bucket_key)
            if sums is None:
                side[bucket_key] = [units, gross, deductions, line.in_scope]
            else:
                sums[0] += units
                sums[1] += gross
                sums[2] += deductions

    def finish(self) -> list[PeriodTotals]:
        """Periods sorted by (licence_id, period); raises BucketOverflowError or
        LineCountOverflowError when a period cannot be reported in one report.

        Empties the aggregator and deletes its spill files, whether it succeeds or raises."""
        try:
            self._note_in_memory(0)
            if self._tmp is not None:
                self._spill()  # room to sort spilled periods in: half the cap at least
            totals = []
            for key in sorted(self._periods):
                totals.append(self._totals(key, self._periods[key]))
                self._held -= len(self._periods.pop(key).leaves) >> 5
            return totals
        finally:
            self.close()

    def close(self) -> None:
        """Forget every line and delete the spill files (``finish()`` does this itself)."""
        self._periods = {}
        self._held = 0
        if self._tmp is not None:
            tmp, self._tmp = self._tmp, None
            tmp.cleanup()

    def __enter__(self) -> Aggregator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ spilling

    def _spill(self) -> None:
        """Move the largest periods' leaves to their files until at most half the cap is held."""
        self.peak_leaves_in_memory = max(self.peak_leaves_in_memory, self._held)
        target = self._cap // 2
        for acc in sorted(self._periods.values(), key=lambda p: len(p.leaves), reverse=True):
            if self._held <= target or not acc.leaves:
                break
            self._spill_period(acc)

    def _spill_period(self, acc: _Period) -> None:
        if acc.spill_path is None:
            acc.spill_path = self._new_file()
        with open(acc.spill_path, "ab") as file:
            file.write(acc.leaves)
        count = len(acc.leaves) >> 5
        acc.spilled += count
        self.spilled_leaves += count
        self._held -= count
        acc.leaves = bytearray()

    def _new_file(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="oracle-aggregate-", dir=self._spill_dir)
        self._files += 1
        return Path(self._tmp.name) / f"{self._files}.leaves"

    # ------------------------------------------------------------------ totals and roots

    def _totals(self, key: tuple[int, int], acc: _Period) -> PeriodTotals:
        licence_id, period = key
        count = acc.spilled + (len(acc.leaves) >> 5)
        if count > _UINT32_MAX:
            raise LineCountOverflowError(licence_id, period, count)
        buckets = _sums(licence_id, period, acc.buckets)
        returned = _sums(licence_id, period, acc.returned)
        foreign = _foreign_sums(licence_id, period, acc, len(buckets))
        if acc.spill_path is None:
            root = merkle_root(split_leaves(acc.leaves))
        else:
            if acc.leaves:
                self._spill_period(acc)
            builder = SortedLeavesRoot()
            self._feed_sorted(acc.spill_path, acc.spilled, builder)
            root = builder.root()
        return PeriodTotals(licence_id, period, count, buckets, root, returned, foreign)

    def _feed_sorted(
        self,
        path: Path,
        count: int,
        builder: SortedLeavesRoot,
        lowest: bytes | None = None,
        highest: bytes | None = None,
    ) -> None:
        """Feed the ``count`` leaves in ``path`` to ``builder`` in ascending order, then delete the
        file. ``lowest`` and ``highest``, when known, bound the file's leaves."""
        budget = max(1, self._cap - self._held)  # what the other periods leave free
        if count <= budget or (lowest is not None and lowest == highest):  # fits, or one value only
            with open(path, "rb") as file:
                while chunk := file.read(budget << 5):
                    leaves = split_leaves(chunk)
                    del chunk
                    leaves.sort()
                    self._note_in_memory(len(leaves))
                    builder.extend(leaves)
            path.unlink()
            return
        # Split on the bits right after the ones every leaf here shares: the lowest and highest
        # leaf land in different partitions, so each partition is smaller than this file. Leaves
        # are keccak hashes, so these bits split them evenly; twice the partitions strictly
        # needed leave room for chance, and a partition still too big is split again.
        shared = 0 if lowest is None or highest is None else _shared_bits(lowest, highest)
        bits = min(_MAX_PARTITION_BITS, 256 - shared, (2 * -(-count // budget) - 1).bit_length())
        paths = [self._new_file() for _ in range(1 << bits)]
        counts, lows, highs = self._partition(path, shared, bits, budget, paths)
        path.unlink()
        self.partitioned_leaves += count
        for part_path, part_count, low, high in zip(paths, counts, lows, highs, strict=True):
            if part_count:
                self._feed_sorted(part_path, part_count, builder, low, high)
            else:
                part_path.unlink()

    def _partition(
        self, path: Path, shared: int, bits: int, budget: int, paths: list[Path]
    ) -> tuple[list[int], list[bytes | None], list[bytes | None]]:
        """Split ``path``, whose leaves share their first ``shared`` bits, by the next ``bits``
        bits into ``paths``, reading ``budget`` leaves at a time; return each partition's leaf
        count, lowest and highest leaf."""
        counts = [0] * len(paths)
        lows: list[bytes | None] = [None] * len(paths)
        highs: list[bytes | None] = [None] * len(paths)
        shift = 256 - shared - bits
        with ExitStack() as stack:
            files = [stack.enter_context(open(p, "wb")) for p in paths]
            source = stack.enter_context(open(path, "rb"))
            while chunk := source.read(budget << 5):
                leaves = split_leaves(chunk)
                del chunk
                leaves.sort()  # then each partition is one slice, found by bisection
                self._note_in_memory(len(leaves))
                prefix = int.from_bytes(leaves[0], "big") >> (256 - shared) << (256 - shared) if shared else 0
                start = 0
                for p, file in enumerate(files):
                    if p + 1 < len(files):
                        end = bisect_left(leaves, (prefix | (p + 1) << shift).to_bytes(32, "big"), start)
                    else:
                        end = len(leaves)
                    if end > start:
                        file.write(b"".join(leaves[start:end]))
                        counts[p] += end - start
                        low, high = lows[p], highs[p]
                        if low is None or leaves[start] < low:
                            lows[p] = leaves[start]
                        if high is None or leaves[end - 1] > high:
                            highs[p] = leaves[end - 1]
                    start = end
        return counts, lows, highs

    def _note_in_memory(self, leaves: int) -> None:
        self.peak_leaves_in_memory = max(self.peak_leaves_in_memory, self._held + leaves)


def _sums(licence_id: int, period: int, sums: dict[int, list[int]]) -> tuple[BucketSums, ...]:
    """The buckets of ``sums`` in (year, territory, field, channel) order; BucketOverflowError
    for a total beyond uint128."""
    buckets = []
    for bucket_key in sorted(sums):
        units, gross, deductions, in_scope = sums[bucket_key]
        codes = (bucket_key >> 24, bucket_key >> 16 & 0xFF, bucket_key >> 8 & 0xFF, bucket_key & 0xFF)
        for column, total in (("units", units), ("gross", gross), ("deductions", deductions)):
            if total > UINT128_MAX:
                raise BucketOverflowError(licence_id, period, codes, column, total)
        buckets.append(BucketSums(*codes, units, gross, deductions, bool(in_scope)))
    return tuple(buckets)


def _foreign_sums(licence_id: int, period: int, acc: _Period, sales_buckets: int) -> tuple[ForeignSums, ...]:
    """The period's sums in other currencies, by (report bucket index, currency, sale day).

    Should one currency's lines have been read with two exponents (ISO 4217 changed one between
    two feeds), their sums are brought to the finer one, exactly, so that the bucket has one sum
    of the currency (the ledger takes a currency once per bucket and rate day)."""
    index = {False: {k: i for i, k in enumerate(sorted(acc.buckets))}}
    index[True] = {k: sales_buckets + i for i, k in enumerate(sorted(acc.returned))}
    merged: dict[tuple[int, str, int], list[int]] = {}
    for (returned, bucket_key, currency, minor_units, day), (gross, deductions) in acc.foreign.items():
        key = (index[returned][bucket_key], currency, day)
        held = merged.get(key)
        if held is None:
            merged[key] = [minor_units, gross, deductions]
            continue
        finer = max(held[0], minor_units)
        held[1] = held[1] * 10 ** (finer - held[0]) + gross * 10 ** (finer - minor_units)
        held[2] = held[2] * 10 ** (finer - held[0]) + deductions * 10 ** (finer - minor_units)
        held[0] = finer
    sums = []
    for (bucket, currency, day), (minor_units, gross, deductions) in sorted(merged.items()):
        for column, total in (("gross", gross), ("deductions", deductions)):
            if total > UINT128_MAX:
                raise BucketOverflowError(
                    licence_id, period, _codes_of(acc, bucket, sales_buckets), f"{column} in {currency}", total
                )
        sums.append(ForeignSums(bucket, currency, minor_units, None if day < 0 else day, gross, deductions))
    return tuple(sums)


def _codes_of(acc: _Period, bucket: int, sales_buckets: int) -> tuple[int, int, int, int]:
    """(year, territory, field, channel) of a report bucket index."""
    keys = sorted(acc.buckets) if bucket < sales_buckets else sorted(acc.returned)
    key = keys[bucket if bucket < sales_buckets else bucket - sales_buckets]
    return (key >> 24, key >> 16 & 0xFF, key >> 8 & 0xFF, key & 0xFF)


def _shared_bits(a: bytes, b: bytes) -> int:
    """How many leading bits two 32-byte values have in common."""
    return 256 - (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_length()
