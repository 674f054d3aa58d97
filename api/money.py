"""Pure arithmetic the API shows: payee entitlements from the ledger's accumulator, display."""

from __future__ import annotations

from collections.abc import Sequence

BPS = 10_000


def entitlements(distributed: int, shares_bps: Sequence[int]) -> list[int]:
    """What each payee is owed of ``distributed`` (the ledger's accumulator), exactly as
    ``RoyaltyMath.partOf`` computes it: the payee list is halved recursively; the first half gets
    floor(amount * its shares / the shares of both halves), the second half the rest. The parts
    add up to ``distributed`` exactly and none decreases as the total grows."""
    count = len(shares_bps)
    if count == 0:
        return []
    prefix = [0]
    for share in shares_bps:
        prefix.append(prefix[-1] + share)
    parts = [0] * count
    pending = [(0, count, distributed)]
    while pending:
        lo, hi, amount = pending.pop()
        if hi - lo == 1:
            parts[lo] = amount
            continue
        mid = (lo + hi) // 2
        base = prefix[lo]
        first = amount * (prefix[mid] - base) // (prefix[hi] - base)
        pending.append((lo, mid, first))
        pending.append((mid, hi, amount - first))
    return parts


def parts_between(before: int, after: int, shares_bps: Sequence[int]) -> list[int]:
    """Each payee's credit from the accumulator moving from ``before`` to ``after``."""
    return [b - a for a, b in zip(entitlements(before, shares_bps), entitlements(after, shares_bps), strict=True)]


def format_units(amount: int, decimals: int) -> str:
    """``amount`` smallest units as a decimal string with thousands separators: 1234567, 6 ->
    "1.234567"; trailing zeros of the fraction are kept to two places."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole, fraction = divmod(amount, 10**decimals) if decimals else (amount, 0)
    text = f"{whole:,}"
    if decimals:
        digits = str(fraction).rjust(decimals, "0").rstrip("0")
        text += "." + digits.ljust(2, "0")
    return sign + text
