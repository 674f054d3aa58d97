"""Money at the edges of the sales intake: the project's one decimal parser, raising the oracle's error.

The parser and formatter live in :mod:`royalty_chain.units` (shared with licence terms and the
API, so a figure is read the same way everywhere); this module keeps the intake's names, and its
``parse_amount`` and ``rescale`` are the same code raising :class:`intake.errors.AmountError`
(same ``text`` and ``reason``), which the intake's callers catch. The feed parser's inlined fast path
(``intake/feed.py``) falls back to :func:`parse_amount` for anything unusual.
"""

from __future__ import annotations

from intake.errors import AmountError
from royalty_chain import units
from royalty_chain.units import UINT128_MAX, amount_problem, format_amount

__all__ = ["UINT128_MAX", "amount_problem", "format_amount", "parse_amount", "rescale"]


# The shared parser raising the oracle's AmountError directly (no wrapper on the per-line path).
parse_amount, rescale = units.amount_parsers(AmountError)
