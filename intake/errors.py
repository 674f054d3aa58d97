"""Exceptions of the sales intake.

Bad *lines* in a feed are not exceptions: they become ``Rejection`` values so one bad line
never stops a file. Exceptions are for problems a caller must handle as a whole: a licence
description that makes no sense, a feed file of unknown format, a misuse of the API.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from royalty_chain.units import format_amount

if TYPE_CHECKING:
    from intake.feed import Rejection


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


class RateError(IntakeError):
    """Root of the exchange-rate errors (``intake.fx``): a rate that cannot be had or used."""


class RateFileError(RateError, ValueError):
    """A rate file that cannot be read at all: unreadable, empty, not UTF-8 or CSV at its header,
    or a header other than ``date,currency,rate``. (Bad *lines* are Rejections, as in feeds.)

    ``rejection`` is the problem as the rejects file records it (the header line, as a feed's
    header problem is), or None when the file could not be opened.
    """

    def __init__(self, message: str, rejection: Rejection | None = None) -> None:
        self.rejection = rejection
        super().__init__(message)


class RateMissing(RateError, LookupError):
    """No published rate where a rule needs one.

    Attributes:
        currency: the currency without a quote (a sale's or the licence's, never the base).
        source, base: whose rates were asked (``ECB``, base ``EUR``).
        day: the day without its quote, or None when no day of ``period`` was published at all.
        period: (first day, day after the last) searched, for a whole period without a rate.
    """

    def __init__(
        self,
        currency: str,
        source: str | None,
        base: str,
        *,
        day: date | None = None,
        period: tuple[date, date] | None = None,
    ) -> None:
        self.currency = currency
        self.source = source
        self.base = base
        self.day = day
        self.period = period
        whose = f"{source} rate" if source else "rate"
        if day is not None:
            where = f"for {day.isoformat()}"
        elif period is not None:
            last = period[1] - timedelta(days=1)
            where = f"published from {period[0].isoformat()} to {last.isoformat()}"
        else:
            where = "given"
        super().__init__(f"no {whose} of {currency} (base {base}) {where}")


class RatesNotPublishedYet(RateMissing):
    """The source has not published through the days a rule needs: a period's rate under
    ``period-average`` or ``period-end`` needs the source's quotes to reach the period's last day
    (a quote dated on it, or any quote dated after it), a ``sale-date`` rate taken from a day
    before the sale its quotes to reach the sale day; until then the rate would be a guess.

    ``currency`` is the sale's currency (the base too), ``licence`` the licence's;
    ``published_through`` is the source's last published day (None: it published nothing yet),
    ``needed_through`` the day its quotes must reach; ``period`` is (the first day not published,
    the day after ``needed_through``), the days the report waits for.
    """

    def __init__(
        self,
        currency: str,
        source: str | None,
        base: str,
        *,
        licence: str,
        published_through: date | None,
        needed_through: date,
        rule: str,
    ) -> None:
        first = published_through + timedelta(days=1) if published_through is not None else needed_through
        after = needed_through + timedelta(days=1)
        super().__init__(currency, source, base, period=(min(first, needed_through), after))
        self.published_through = published_through
        self.needed_through = needed_through
        published = "only up to " + published_through.isoformat() if published_through is not None else "none yet"
        self.args = (
            f"{source or 'the source'} has published rates (base {base}) {published}: the {rule} rate of "
            f"{currency} in {licence} needs them through {needed_through.isoformat()}",
        )


class RateOutOfBounds(RateError, ValueError):
    """A rate (derived, averaged or fixed) outside 10^-9..10^9 (``intake.fx.MIN_RATE``..``MAX_RATE``).

    ``what`` says which rate (``the ECB rate of JPY in USD for 2025-01-02``), ``rate`` is the
    integer scaled by 10^18, ``bound`` names the bound it broke (``is below the minimum rate 0.000000001
    (MIN_RATE)``).
    """

    def __init__(self, what: str, rate: int, bound: str) -> None:
        self.what = what
        self.rate = rate
        self.bound = bound
        super().__init__(f"{what}, {format_amount(rate, 18)}, {bound}")


class IndexFileError(IntakeError, ValueError):
    """An index file that cannot be read at all: unreadable, empty, not UTF-8 or CSV at its
    header, or a header other than ``index,month,value``. (Bad *lines* are Rejections.)

    ``rejection`` is the problem as the rejects file records it, or None when the file could not
    be opened.
    """

    def __init__(self, message: str, rejection: Rejection | None = None) -> None:
        self.rejection = rejection
        super().__init__(message)


class BenchmarkFileError(IntakeError, ValueError):
    """A benchmark file that cannot be read at all: unreadable, empty, not UTF-8 or CSV at its
    header, or a header other than ``date,benchmark,value``. (Bad *lines* are Rejections.)

    ``rejection`` is the problem as the rejects file records it, or None when the file could not
    be opened.
    """

    def __init__(self, message: str, rejection: Rejection | None = None) -> None:
        self.rejection = rejection
        super().__init__(message)
