"""Exceptions of the sales intake.

Bad *lines* in a feed are not exceptions: they become ``Rejection`` values so one bad line
never stops a file. Exceptions are for problems a caller must handle as a whole: a licence
description that makes no sense, a feed file of unknown format, a misuse of the API.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Root of every error the intake raises on purpose."""


class AmountError(IntakeError, ValueError):
    """A money or count string that cannot be turned into token units.

    ``reason`` is the phrase used in rejections, e.g. ``"has 7 decimals; at most 6 allowed"``.
    """

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} {reason}")


class FeedFormatError(IntakeError, ValueError):
    """A feed file whose format cannot be told from its name."""


class LicenceInfoError(IntakeError, ValueError):
    """Licence terms the validator cannot work with (e.g. a zero-length period)."""


class LeafNotFoundError(IntakeError, LookupError):
    """A Merkle proof was asked for a leaf that is not in the tree."""

    def __init__(self, leaf: bytes) -> None:
        self.leaf = leaf
        super().__init__(f"leaf 0x{leaf.hex()} is not in the tree")
