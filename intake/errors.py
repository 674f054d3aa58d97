"""Exceptions of the oracle package.

Bad *lines* in a feed are not exceptions: they become ``Rejection`` values so one bad line
never stops a file. Exceptions are for problems a caller must handle as a whole: a period that
cannot be reported in one report, a licence description that makes no sense, a misuse of the API.
"""

from __future__ import annotations


class OracleError(Exception):
    """Root of every error the oracle raises on purpose."""


class AmountError(OracleError, ValueError):
    """A money or count string that cannot be turned into token units.

    ``reason`` is the phrase used in rejections, e.g. ``"has 7 decimals; at most 6 allowed"``.
    """

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} {reason}")


class FeedFormatError(OracleError, ValueError):
    """A feed file whose format cannot be told from its name."""


class LicenceInfoError(OracleError, ValueError):
    """Licence terms the validator cannot work with (e.g. a zero-length period)."""


class BucketOverflowError(OracleError):
    """A bucket total that does not fit the contract's ``uint128``.

    The period cannot be reported in one report; the operator has to split or correct the feed.
    """

    def __init__(
        self,
        licence_id: int,
        period: int,
        bucket: tuple[int, int, int],
        column: str,
        total: int,
    ) -> None:
        self.licence_id = licence_id
        self.period = period
        self.bucket = bucket
        self.column = column
        self.total = total
        super().__init__(
            f"licence {licence_id} period {period} bucket (territory, field, channel)={bucket}: "
            f"{column} total {total} exceeds uint128"
        )


class LineCountOverflowError(OracleError):
    """More lines in one period than the report's ``uint32 lineCount`` can say."""

    def __init__(self, licence_id: int, period: int, count: int) -> None:
        self.licence_id = licence_id
        self.period = period
        self.count = count
        super().__init__(f"licence {licence_id} period {period}: {count} lines exceed uint32")


class LeafNotFoundError(OracleError, LookupError):
    """A Merkle proof was asked for a leaf that is not in the tree."""

    def __init__(self, leaf: bytes) -> None:
        self.leaf = leaf
        super().__init__(f"leaf 0x{leaf.hex()} is not in the tree")
