"""Pure arithmetic the API shows: payee entitlements from the ledger's accumulator, display."""

from __future__ import annotations

from collections.abc import Sequence

from royalty_chain.split import parts

BPS = 10_000


def entitlements(distributed: int, shares_bps: Sequence[int]) -> list[int]:
    """What each payee is owed of ``distributed`` (the ledger's accumulator), exactly as
    ``RoyaltyMath.partOf`` computes it (see royalty_chain.split)."""
    return parts(distributed, shares_bps)


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


def exact_decimal(amount: int, decimals: int) -> str:
    """``amount`` smallest units as a plain decimal with every one of its ``decimals`` places,
    as a statement's CSV shows an amount in a currency's minor units: 1438800, 2 -> "14388.00";
    1744000, 0 -> "1744000"; -5, 3 -> "-0.005"."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}" if decimals else f"{sign}{whole}"
