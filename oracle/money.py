"""Money at the edges for the oracle: the project's one decimal parser, raising the oracle's error.

The parser and formatter live in :mod:`royalty_chain.units` (shared with licence terms and the
API, so a figure is read the same way everywhere); this module keeps the oracle's names and turns
their ``royalty_chain.units.AmountError`` into :class:`oracle.errors.AmountError` (same ``text``
and ``reason``), which the oracle's callers catch. The feed parser's inlined fast path
(``oracle/feed.py``) falls back to :func:`parse_amount` for anything unusual.
"""

from __future__ import annotations

from oracle.errors import AmountError
from royalty_chain import units
from royalty_chain.units import UINT128_MAX, amount_problem, format_amount

__all__ = ["UINT128_MAX", "amount_problem", "format_amount", "parse_amount", "rescale"]


def parse_amount(text: str, decimals: int) -> int:
    """Parse a non-negative decimal string into units of ``10**-decimals`` (see units.parse_amount).

    >>> parse_amount("1234.5", 6)
    1234500000
    """
    try:
        return units.parse_amount(text, decimals)
    except units.AmountError as err:
        raise AmountError(err.text, err.reason) from None


def rescale(amount: int, from_decimals: int, to_decimals: int) -> int:
    """Convert ``amount`` between decimals exactly, or raise AmountError (see units.rescale)."""
    try:
        return units.rescale(amount, from_decimals, to_decimals)
    except units.AmountError as err:
        raise AmountError(err.text, err.reason) from None
