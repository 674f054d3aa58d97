"""Money at the edges: decimal strings <-> integers in a token's smallest unit.

Everything inside the oracle is an ``int`` of token units; a decimal string appears only when a
feed is read or a figure is shown. Parsing splits the string at the point and joins the digits,
which is exact and several times faster than ``Decimal``. Trailing zeros beyond the token's
decimals are accepted ("1.50" with 1 decimal is exactly 15 units); any other extra digit is
rejected because it cannot be paid.
"""

from __future__ import annotations

from typing import Final

from intake.errors import AmountError

UINT128_MAX: Final = (1 << 128) - 1
# uint128 has 39 decimal digits; a longer integer part (after leading zeros) cannot fit, and
# checking the length first keeps int() away from Python's 4300-digit conversion limit.
_UINT128_DIGITS: Final = len(str(UINT128_MAX))


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts non-ASCII digits such as "²" or "٣", which int() rejects or
    # misreads; isascii rules them out.
    return text.isdigit() and text.isascii()


def _too_many_decimals(used: int, allowed: int) -> str:
    return f"has {used} decimal{'' if used == 1 else 's'}; at most {allowed} allowed"


def amount_problem(text: str) -> str:
    """The rejection reason for a string that is not a plain non-negative decimal."""
    if not text:
        return "is empty"
    if text[0] == "-" and _is_plain_decimal(text[1:]):
        return "is negative"
    return "is not a decimal number"


def _is_plain_decimal(text: str) -> bool:
    whole, dot, frac = text.partition(".")
    return _is_digits(whole) and (not dot or _is_digits(frac))


def parse_amount(text: str, decimals: int) -> int:
    """Parse a non-negative decimal string into units of ``10**-decimals``.

    >>> parse_amount("1234.5", 6)
    1234500000

    Raises AmountError whose ``reason`` is one of: "is empty", "is negative",
    "is not a decimal number", "has N decimals; at most D allowed",
    "exceeds uint128 when scaled to D decimals".
    """
    whole, dot, frac = text.partition(".")
    if not (_is_digits(whole) and (not dot or _is_digits(frac))):
        raise AmountError(text, amount_problem(text))
    if len(frac) > decimals:
        significant = frac.rstrip("0")
        if len(significant) > decimals:
            raise AmountError(text, _too_many_decimals(len(significant), decimals))
        frac = frac[:decimals]
    whole = whole.lstrip("0")
    if len(whole) > _UINT128_DIGITS:
        raise AmountError(text, f"exceeds uint128 when scaled to {decimals} decimals")
    value = int((whole or "0") + frac.ljust(decimals, "0"))
    if value > UINT128_MAX:
        raise AmountError(text, f"exceeds uint128 when scaled to {decimals} decimals")
    return value


def rescale(amount: int, from_decimals: int, to_decimals: int) -> int:
    """Convert ``amount`` from ``from_decimals`` to ``to_decimals`` exactly.

    Raises AmountError when precision would be lost (the reason names the count of decimals the
    amount really has) or when the result does not fit uint128.
    """
    if to_decimals >= from_decimals:
        value: int = amount * 10 ** (to_decimals - from_decimals)
    else:
        factor: int = 10 ** (from_decimals - to_decimals)
        value, rest = divmod(amount, factor)
        if rest:
            text = format_amount(amount, from_decimals)
            used = len(text.partition(".")[2])
            raise AmountError(text, _too_many_decimals(used, to_decimals))
    if value > UINT128_MAX:
        raise AmountError(
            format_amount(amount, from_decimals),
            f"exceeds uint128 when scaled to {to_decimals} decimals",
        )
    return value


def format_amount(amount: int, decimals: int) -> str:
    """Render token units as a decimal string without trailing zeros: 1234500000, 6 -> "1234.5"."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    if not decimals or not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(decimals, '0').rstrip('0')}"
