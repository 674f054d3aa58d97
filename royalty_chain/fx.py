"""A licence's conversion clause as the signed calendar holds it (``docs/currencies.md``).

The clause is two members of ILicenceRegistry.Calendar: ``fxRule`` (how sales in another currency
are converted, :class:`FxRule`'s number) and ``fxSource`` (the publisher of the rates, ASCII in a
``bytes16`` right-padded with zero bytes). The registry refuses a rule above ``MAX_FX_RULE`` and a
rule without a source (or a source without a rule): ``FxClauseInvalid``. In Python a source is the
text (``"ECB"``); :func:`source_bytes` and :func:`source_text` convert to and from the chain's form.

Shared by the terms format (``royalty_chain.spec``), the rate files (``intake.fx``) and the index.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class FxRule(StrEnum):
    """The licence's conversion rule, by the name the clause gives it (``FxRule.number``: on chain)."""

    NONE = "none"
    PERIOD_AVERAGE = "period-average"
    PERIOD_END = "period-end"
    SALE_DATE = "sale-date"
    FIXED = "fixed"

    @property
    def number(self) -> int:
        """The rule's number in the signed terms: none 0, period-average 1, ... fixed 4."""
        return list(FxRule).index(self)

    @classmethod
    def of(cls, number: int) -> FxRule | None:
        """The rule numbered ``number`` (None for a number no rule has)."""
        rules = list(cls)
        return rules[number] if 0 <= number < len(rules) else None


MAX_FX_RULE: Final = 3  # LicenceClock.MAX_FX_RULE: sale-date; fixed contractual rates are not on chain yet
ON_CHAIN_RULES: Final = tuple(rule for rule in FxRule if rule.number <= MAX_FX_RULE)
"""The rules a licence can state today (none, period-average, period-end, sale-date)."""
FIXED_NOT_SUPPORTED: Final = (
    "fixed contractual rates are not supported yet; use period-average, period-end or sale-date"
)
MAX_SOURCE_LENGTH: Final = 16  # the clause names its source in a bytes16 of the signed calendar


def source_problem(source: str) -> str | None:
    """Why ``source`` cannot name a rate publisher (1..16 printable ASCII characters, no spaces: a bytes16 on chain)."""
    if not source:
        return "is empty"
    if not (source.isascii() and source.isprintable()) or " " in source:
        return "must be printable ASCII without spaces"
    if len(source) > MAX_SOURCE_LENGTH:
        return f"is longer than {MAX_SOURCE_LENGTH} characters"
    return None


def source_bytes(source: str) -> bytes:
    """The ``bytes16`` the calendar holds for ``source`` ("" for none: sixteen zero bytes)."""
    raw = source.encode("latin-1")
    if len(raw) > MAX_SOURCE_LENGTH:
        raise ValueError(f"fx source {source!r} is longer than {MAX_SOURCE_LENGTH} bytes")
    return raw.ljust(MAX_SOURCE_LENGTH, b"\x00")


def source_text(value: bytes | str) -> str:
    """A calendar's ``fxSource`` (its bytes, or the ``0x`` hex an event decodes to, or the text
    already) as text: the bytes without their zero padding. Latin-1, so that any bytes the chain
    holds round-trip through :func:`source_bytes` (the terms format admits only ASCII)."""
    if isinstance(value, str):
        if not value.startswith("0x"):
            return value
        value = bytes.fromhex(value[2:])
    raw = bytes(value)
    if len(raw) > MAX_SOURCE_LENGTH:
        raise ValueError(f"an fx source is a bytes16, not {len(raw)} bytes")
    return raw.rstrip(b"\x00").decode("latin-1")


def rule_name(number: int) -> str:
    """The clause's name of rule ``number`` (``"#7"`` for a number no rule has)."""
    rule = FxRule.of(number)
    return rule.value if rule is not None else f"#{number}"


__all__ = [
    "FIXED_NOT_SUPPORTED",
    "MAX_FX_RULE",
    "MAX_SOURCE_LENGTH",
    "ON_CHAIN_RULES",
    "FxRule",
    "rule_name",
    "source_bytes",
    "source_problem",
    "source_text",
]
