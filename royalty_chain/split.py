"""How a licence's distributed total divides among its payees: RoyaltyMath.partOf in Python.

Payees are ordered by address. The list is halved recursively: the first half gets
floor(amount * its shares / both halves' shares), the second half the remainder. The parts add
up to the total exactly and none decreases as the total grows, so the ledger can keep a single
accumulator per licence. The indexer and the tests use this to show each payee's part.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate


def prefix_sums(shares_bps: Sequence[int]) -> list[int]:
    return [0, *accumulate(shares_bps)]


def part_of(total: int, shares_bps: Sequence[int], index: int) -> int:
    """The part of ``total`` owed to payee ``index`` (payees in ascending address order)."""
    if not 0 <= index < len(shares_bps):
        raise IndexError(f"payee index {index} out of range for {len(shares_bps)} payees")
    prefix = prefix_sums(shares_bps)
    lo, hi, amount = 0, len(shares_bps), total
    while hi - lo > 1:
        mid = (lo + hi) // 2
        first_half = amount * (prefix[mid] - prefix[lo]) // (prefix[hi] - prefix[lo])
        if index < mid:
            amount, hi = first_half, mid
        else:
            amount, lo = amount - first_half, mid
    return amount


def parts(total: int, shares_bps: Sequence[int]) -> list[int]:
    """Every payee's part of ``total``; they sum to ``total`` exactly."""
    result = [0] * len(shares_bps)
    prefix = prefix_sums(shares_bps)

    def split(lo: int, hi: int, amount: int) -> None:
        if hi - lo == 1:
            result[lo] = amount
            return
        mid = (lo + hi) // 2
        first_half = amount * (prefix[mid] - prefix[lo]) // (prefix[hi] - prefix[lo])
        split(lo, mid, first_half)
        split(mid, hi, amount - first_half)

    if shares_bps:
        split(0, len(shares_bps), total)
    return result
