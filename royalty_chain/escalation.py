"""Index-linked escalation (``docs/escalation.md``): the clause, one step's index values, and the
arithmetic of a step, mirroring ``contracts/LicenceEscalator.sol`` and ``EscalationMath``.

A clause is a rider both parties sign once per licence (``AttachEscalation`` typed data in the
escalator's domain). On each contract anniversary, step ``n`` (taking effect when contract year
``n`` begins, years counted from 0) multiplies the money terms the clause names by the index of
month ``base_month + 12n`` over that of ``base_month + 12(n - 1)``, held to the clause's floor
and cap, each amount rounded once to a multiple of ``round_to`` (rates to a whole bps, never above
100%). The index values are signed by the licence's oracles (``IndexStep``), like reports.

Index values are index points times 1,000,000 (:data:`VALUE_SCALE`): CPI-U 315.301 is
315,301,000. Months are YYYYMM integers (202409). Everything here is exact integer arithmetic: the
statement recomputes a step with :func:`escalate_schedule` and shows the same figures the chain
stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum, IntFlag
from typing import Any, Final

from royalty_chain.terms import BPS, FieldRate, Schedule, Tier

VALUE_SCALE: Final = 1_000_000
"""Index values on chain are points times this (three to six decimals of any publisher fit)."""
MAX_CHANGE_FACTOR: Final = 2
"""LicenceEscalator.MAX_CHANGE_FACTOR: a step's index may at most double or halve."""
NO_FLOOR: Final = -BPS
"""A floor of -100%: no floor."""
CLAUSE_TYPE: Final = "(bytes16,bytes16,uint32,uint8,bool,int16,uint16,uint8,uint128)"
INDEX_STEP_TYPE: Final = "(uint256,uint32,bytes16,uint32,uint64,uint32,uint64,uint64)"


class Target(IntFlag):
    """What a clause escalates (its ``targets`` bitmap)."""

    FIXED_FEE = 1
    PER_UNIT = 2
    MINIMUM_GUARANTEE = 4
    RATES = 8
    TIER_THRESHOLDS = 16

    @classmethod
    def named(cls, names: list[str]) -> Target:
        flags = cls(0)
        for name in names:
            flags |= cls[name.upper().replace("-", "_")]
        return flags

    @property
    def names(self) -> list[str]:
        return [t.name.lower() for t in Target if t in self and t.name is not None]


ALL_TARGETS: Final = int(
    Target.FIXED_FEE | Target.PER_UNIT | Target.MINIMUM_GUARANTEE | Target.RATES | Target.TIER_THRESHOLDS
)


class Rounding(IntEnum):
    DOWN = 0
    NEAREST = 1
    UP = 2


class Limit(IntEnum):
    """Which limit of the clause a step's change was held to (ILicenceEscalator.Limit)."""

    NONE = 0
    FLOOR = 1
    CAP = 2


class ClauseError(ValueError):
    """A clause the escalator would refuse, named by the contract's error."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def index_bytes(name: str) -> bytes:
    """An index's name as the chain holds it: ASCII, right-padded to 16 bytes."""
    raw = name.encode("ascii")
    if not raw or len(raw) > 16:
        raise ValueError(f"an index name is 1 to 16 ASCII characters, not {name!r}")
    return raw.ljust(16, b"\x00")


def index_text(value: bytes | str) -> str:
    """The name back from the chain's bytes16 (or its 0x hex form in decoded events)."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    return raw.rstrip(b"\x00").decode("ascii")


def add_months(month: int, months: int) -> int:
    """YYYYMM ``months`` months after ``month``."""
    total = (month // 100) * 12 + (month % 100 - 1) + months
    return (total // 12) * 100 + total % 12 + 1


def valid_month(month: int) -> bool:
    return 1 <= month % 100 <= 12 and 1900 <= month // 100 <= 9999


def month_text(month: int) -> str:
    """202409 -> "2024-09"."""
    return f"{month // 100:04d}-{month % 100:02d}"


def parse_month(text: str | int) -> int:
    """ "2024-09" or 202409 -> 202409 (raises ValueError for anything else)."""
    if isinstance(text, int):
        month = text
    else:
        parts = text.strip().split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4 or len(parts[1]) != 2:
            raise ValueError(f"a month is YYYY-MM, not {text!r}")
        month = int(parts[0]) * 100 + int(parts[1])
    if not valid_month(month):
        raise ValueError(f"{text!r} is not a month of the years 1900 to 9999")
    return month


def index_value(points: str | Decimal) -> int:
    """Index points ("315.301") as the chain's integer (315,301,000); at most six decimals."""
    value = Decimal(points) * VALUE_SCALE
    if value != value.to_integral_value():
        raise ValueError(f"an index value has at most six decimals, not {points}")
    if value <= 0:
        raise ValueError(f"an index value is positive, not {points}")
    if value >= 2**64:
        raise ValueError(f"index value {points} is too large")
    return int(value)


def points(value: int) -> str:
    """The chain's integer as index points, trailing zeros trimmed to three decimals at least."""
    text = f"{Decimal(value) / VALUE_SCALE:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(3, '0')}"


@dataclass(frozen=True, slots=True)
class Clause:
    """ILicenceEscalator.Clause. ``floor_bps`` is the least change a step makes (``NO_FLOOR``:
    none; ``upward_only`` raises it to 0), ``cap_bps`` the most (0: no cap)."""

    index: str
    base_month: int
    targets: int = ALL_TARGETS
    successor: str = ""
    upward_only: bool = False
    floor_bps: int = NO_FLOOR
    cap_bps: int = 0
    rounding: Rounding = Rounding.DOWN
    round_to: int = 1

    def __post_init__(self) -> None:
        self.check()

    @property
    def effective_floor(self) -> int:
        return max(self.floor_bps, 0) if self.upward_only else self.floor_bps

    def check(self) -> None:
        """The escalator's own checks, with its error names (so nothing is sent to be refused)."""
        if not self.index:
            raise ClauseError("EscalationIndexMissing", "the clause names no index")
        index_bytes(self.index)
        if self.successor:
            index_bytes(self.successor)
        if self.successor == self.index:
            raise ClauseError("EscalationSuccessorIsIndex", f"the successor of {self.index} cannot be itself")
        if not valid_month(self.base_month):
            raise ClauseError("EscalationMonthInvalid", f"base month {self.base_month} is not a YYYYMM month")
        if self.targets <= 0 or self.targets > ALL_TARGETS:
            raise ClauseError("EscalationTargetsInvalid", f"targets {self.targets} name nothing a clause escalates")
        if self.floor_bps < -BPS:
            raise ClauseError("EscalationFloorInvalid", f"a floor of {self.floor_bps} bps is below -100%")
        if self.cap_bps < 0 or self.cap_bps >= 2**16:
            raise ClauseError("EscalationFloorAboveCap", f"a cap of {self.cap_bps} bps is out of range")
        if self.cap_bps != 0 and self.effective_floor > self.cap_bps:
            raise ClauseError(
                "EscalationFloorAboveCap",
                f"the floor ({self.effective_floor} bps a step) exceeds the cap ({self.cap_bps} bps)",
            )
        if self.round_to < 1:
            raise ClauseError("EscalationRoundingInvalid", "amounts round to a multiple of at least 1 token unit")

    def step_month(self, n: int) -> int:
        """The index month step ``n`` ends at (n = 0: the base month)."""
        return add_months(self.base_month, 12 * n)

    def as_abi(self) -> tuple[Any, ...]:
        return (
            index_bytes(self.index),
            index_bytes(self.successor) if self.successor else bytes(16),
            self.base_month,
            self.targets,
            self.upward_only,
            self.floor_bps,
            self.cap_bps,
            int(self.rounding),
            self.round_to,
        )

    @classmethod
    def from_abi(cls, value: Any) -> Clause:
        """From the on-chain tuple, or its web3 / event dict form."""
        if isinstance(value, dict):
            value = (
                value["index"], value["successor"], value["baseMonth"], value["targets"], value["upwardOnly"],
                value["floorBps"], value["capBps"], value["rounding"], value["roundTo"],
            )  # fmt: skip
        index, successor, base, targets, upward, floor, cap, rounding, round_to = value
        return cls(
            index=index_text(index),
            successor=index_text(successor),
            base_month=int(base),
            targets=int(targets),
            upward_only=bool(upward),
            floor_bps=int(floor),
            cap_bps=int(cap),
            rounding=Rounding(int(rounding)),
            round_to=int(round_to),
        )

    def message(self, licence_id: int, deadline: int) -> dict[str, Any]:
        """The AttachEscalation typed-data message (JSON-safe: bytes as 0x hex, large integers as text)."""
        return {
            "licenceId": _json_int(licence_id),
            "index": "0x" + index_bytes(self.index).hex(),
            "successor": "0x" + (index_bytes(self.successor) if self.successor else bytes(16)).hex(),
            "baseMonth": self.base_month,
            "targets": self.targets,
            "upwardOnly": self.upward_only,
            "floorBps": self.floor_bps,
            "capBps": self.cap_bps,
            "rounding": int(self.rounding),
            "roundTo": _json_int(self.round_to),
            "deadline": _json_int(deadline),
        }


@dataclass(frozen=True, slots=True)
class IndexStep:
    """ILicenceEscalator.IndexStep: the index values of one step, as the oracles sign them."""

    licence_id: int
    step: int
    index: str
    from_month: int
    from_value: int
    to_month: int
    to_value: int
    deadline: int

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.licence_id, self.step, index_bytes(self.index), self.from_month, self.from_value,
            self.to_month, self.to_value, self.deadline,
        )  # fmt: skip

    def message(self) -> dict[str, Any]:
        """The IndexStep typed-data message (JSON-safe, like :meth:`Clause.message`)."""
        return {
            "licenceId": _json_int(self.licence_id),
            "step": self.step,
            "index": "0x" + index_bytes(self.index).hex(),
            "fromMonth": self.from_month,
            "fromValue": _json_int(self.from_value),
            "toMonth": self.to_month,
            "toValue": _json_int(self.to_value),
            "deadline": _json_int(self.deadline),
        }


def _json_int(value: int) -> int | str:
    """A typed-data integer a JavaScript wallet reads exactly: decimal text above 2^53 - 1."""
    return value if value <= 2**53 - 1 else str(value)


# ------------------------------------------------------------------ arithmetic


def ratio(clause: Clause, from_value: int, to_value: int) -> tuple[int, int, Limit]:
    """The ratio one step applies (numerator, denominator, limit): the index's change held to
    [floor, cap]."""
    lowest = BPS + clause.effective_floor
    if to_value * BPS < from_value * lowest:
        return lowest, BPS, Limit.FLOOR
    if clause.cap_bps and to_value * BPS > from_value * (BPS + clause.cap_bps):
        return BPS + clause.cap_bps, BPS, Limit.CAP
    return to_value, from_value, Limit.NONE


def scale(amount: int, numerator: int, denominator: int, rounding: Rounding, round_to: int) -> int:
    """amount * numerator / denominator rounded to a multiple of ``round_to``."""
    product, unit = amount * numerator, round_to * denominator
    if rounding is Rounding.DOWN:
        multiples = product // unit
    elif rounding is Rounding.UP:
        multiples = -(-product // unit)
    else:
        multiples = (2 * product + unit) // (2 * unit)
    return multiples * round_to


def _rate(rate_bps: int, numerator: int, denominator: int, rounding: Rounding) -> int:
    return min(scale(rate_bps, numerator, denominator, rounding, 1), BPS)


def escalate_schedule(
    schedule: Schedule, clause: Clause, numerator: int, denominator: int, effective_from: int
) -> Schedule:
    """The schedule after one step at ``numerator / denominator``, in force from ``effective_from``."""
    targets = Target(clause.targets)
    r, unit = clause.rounding, clause.round_to

    def money(amount: int) -> int:
        return scale(amount, numerator, denominator, r, unit)

    tiers = list(schedule.tiers)
    if Target.RATES in targets:
        tiers = [replace(t, rate_bps=_rate(t.rate_bps, numerator, denominator, r)) for t in tiers]
    if Target.TIER_THRESHOLDS in targets:
        tiers = [replace(t, threshold=money(t.threshold)) for t in tiers]
    field_rates = list(schedule.field_rates)
    if Target.RATES in targets:
        field_rates = [replace(f, rate_bps=_rate(f.rate_bps, numerator, denominator, r)) for f in field_rates]
    return replace(
        schedule,
        effective_from=effective_from,
        fixed_fee_per_period=money(schedule.fixed_fee_per_period)
        if Target.FIXED_FEE in targets
        else schedule.fixed_fee_per_period,
        per_unit=money(schedule.per_unit) if Target.PER_UNIT in targets else schedule.per_unit,
        minimum_guarantee=money(schedule.minimum_guarantee)
        if Target.MINIMUM_GUARANTEE in targets
        else schedule.minimum_guarantee,
        rate_bps=_rate(schedule.rate_bps, numerator, denominator, r) if Target.RATES in targets else schedule.rate_bps,
        tiers=tuple(Tier(t.threshold, t.rate_bps) for t in tiers),
        field_rates=tuple(FieldRate(f.field, f.rate_bps) for f in field_rates),
    )


def plausible(from_value: int, to_value: int) -> bool:
    """Whether the escalator accepts the change (at most doubling or halving over the step)."""
    return to_value <= from_value * MAX_CHANGE_FACTOR and to_value * MAX_CHANGE_FACTOR >= from_value
