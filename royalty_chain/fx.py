"""A licence's conversion clause as the signed calendar holds it (``docs/currencies.md``).

The clause is two members of ILicenceRegistry.Calendar: ``fxRule`` (how sales in another currency
are converted, :class:`FxRule`'s number) and ``fxSource`` (the publisher of the rates, ASCII in a
``bytes16`` right-padded with zero bytes). The registry refuses a rule above ``MAX_FX_RULE`` and a
rule without a source (or a source without a rule): ``FxClauseInvalid``. In Python a source is the
text (``"ECB"``); :func:`source_bytes` and :func:`source_text` convert to and from the chain's form.

Under rule ``fixed`` the rates are not a publisher's: both parties sign tables of them
(``LicenceFx.agree``, :class:`FixedTable`), each in force from a period's start.

Shared by the terms format (``royalty_chain.spec``), the rate files (``intake.fx``) and the index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


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


MAX_FX_RULE: Final = 4  # LicenceClock.MAX_FX_RULE: fixed, the rates both parties agree (LicenceFx)
ON_CHAIN_RULES: Final = tuple(rule for rule in FxRule if rule.number <= MAX_FX_RULE)
"""The rules a licence can state (none, period-average, period-end, sale-date, fixed)."""
FIXED_SOURCE: Final = "contract"
"""The source a fixed-rate clause names when the terms give none: the rates are the contract's."""
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


@dataclass(frozen=True, slots=True)
class FixedTable:
    """Table ``version`` of a licence's fixed contractual rates (LicenceFx), in force from
    ``effective_from`` (unix seconds, a period's start): ``rates`` maps an ISO 4217 code to how many
    units of the licence currency one unit of it is worth, scaled by 10^18."""

    version: int
    effective_from: int
    rates: Mapping[str, int]

    def as_abi(self) -> list[tuple[bytes, int]]:
        """The table's ``FixedRate[]``, ascending by code as the contract requires."""
        return [(code.encode("ascii"), rate) for code, rate in sorted(self.rates.items())]

    @classmethod
    def from_abi(cls, version: int, effective_from: int, rates: Sequence[Sequence[Any]]) -> FixedTable:
        return cls(version, int(effective_from), {bytes(r[0]).decode("latin-1"): int(r[1]) for r in rates})


def in_force(tables: Sequence[FixedTable], at: int) -> FixedTable | None:
    """The table in force at ``at`` (a period's start): the latest in force from then or before."""
    chosen = None
    for table in tables:
        if table.effective_from <= at and (chosen is None or table.version > chosen.version):
            chosen = table
    return chosen


def rule_name(number: int) -> str:
    """The clause's name of rule ``number`` (``"#7"`` for a number no rule has)."""
    rule = FxRule.of(number)
    return rule.value if rule is not None else f"#{number}"


__all__ = [
    "FIXED_SOURCE",
    "MAX_FX_RULE",
    "MAX_SOURCE_LENGTH",
    "ON_CHAIN_RULES",
    "FixedTable",
    "FxRule",
    "in_force",
    "rule_name",
    "source_bytes",
    "source_problem",
    "source_text",
]
