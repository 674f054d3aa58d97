"""Rate reviews with triggers: the clause, the evidence that fires a trigger, a review's record,
and the suggestion's arithmetic, mirroring ``contracts/LicenceReviews.sol`` and ``ReviewMath``.

A review clause is a rider both parties sign once per licence (``AttachReview`` typed data in the
reviews contract's domain). It names up to three triggers: cumulative net sales reaching
``volume_threshold`` (review towards ``volume_rate_bps``), a market benchmark moving from its value
at signing by more than ``move_bps`` either way, and a date. Volume and benchmark observations are
signed by the licence's oracles (``ReviewEvidence``); the date needs no signature (the chain's
clock is the evidence). A fired trigger opens a review with a suggested rate; nothing changes
until both parties sign an amendment (``accept`` relays it to the registry) or one declines it.

Benchmark values are points times 1,000,000, like index values: 4.00% is 4,000,000.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, Final

from royalty_chain.escalation import index_bytes, index_text
from royalty_chain.terms import BPS, FieldRate, Schedule, Tier

CLAUSE_TYPE: Final = "(bytes16,uint128,uint64,uint64,uint16,uint16)"
EVIDENCE_TYPE: Final = "(uint256,uint8,uint128,uint64,uint64)"


class Trigger(IntEnum):
    """ILicenceReviews.Trigger."""

    VOLUME = 0
    BENCHMARK = 1
    DATE = 2


class ReviewStatus(IntEnum):
    """ILicenceReviews.ReviewStatus."""

    NONE = 0
    OPEN = 1
    DECLINED = 2
    ACCEPTED = 3


class ReviewClauseError(ValueError):
    """A clause the reviews contract would refuse, named by the contract's error."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def _json_int(value: int) -> int | str:
    """A typed-data integer a JavaScript wallet reads exactly: decimal text above 2^53 - 1."""
    return value if value <= 2**53 - 1 else str(value)


@dataclass(frozen=True, slots=True)
class ReviewClause:
    """ILicenceReviews.Clause; a zero field names no trigger of its kind."""

    benchmark: str = ""
    volume_threshold: int = 0
    benchmark_at_signing: int = 0
    review_at: int = 0
    volume_rate_bps: int = 0
    move_bps: int = 0

    def check(self, now: int) -> None:
        """The contract's own checks at attach time ``now``, with its error names."""
        named = self.benchmark or self.volume_threshold or self.review_at
        if not named and not (self.volume_rate_bps or self.benchmark_at_signing or self.move_bps):
            raise ReviewClauseError("ReviewNoTrigger", "the clause names no trigger")
        if bool(self.benchmark) != bool(self.benchmark_at_signing) or bool(self.benchmark) != bool(self.move_bps):
            raise ReviewClauseError(
                "ReviewBenchmarkIncomplete", "a benchmark needs its name, its value at signing and its move"
            )
        if self.volume_rate_bps > BPS:
            raise ReviewClauseError("ReviewVolumeRateTooHigh", f"{self.volume_rate_bps} bps is above 100%")
        if bool(self.volume_threshold) != bool(self.volume_rate_bps):
            raise ReviewClauseError(
                "ReviewVolumeIncomplete", "a volume threshold needs its rate, and a rate its threshold"
            )
        if self.review_at and self.review_at <= now:
            raise ReviewClauseError("ReviewDateInPast", f"the review date {self.review_at} is not after {now}")

    def names(self, kind: Trigger) -> bool:
        if kind is Trigger.VOLUME:
            return self.volume_threshold != 0
        if kind is Trigger.BENCHMARK:
            return bool(self.benchmark)
        return self.review_at != 0

    def as_abi(self) -> tuple[Any, ...]:
        return (
            index_bytes(self.benchmark) if self.benchmark else bytes(16),
            self.volume_threshold,
            self.benchmark_at_signing,
            self.review_at,
            self.volume_rate_bps,
            self.move_bps,
        )

    @classmethod
    def from_abi(cls, value: Any) -> ReviewClause:
        """From the on-chain tuple, or its web3 / event dict form."""
        if isinstance(value, dict):
            value = (
                value["benchmark"], value["volumeThreshold"], value["benchmarkAtSigning"], value["reviewAt"],
                value["volumeRateBps"], value["moveBps"],
            )  # fmt: skip
        benchmark, threshold, at_signing, review_at, rate, move = value
        return cls(
            benchmark=index_text(benchmark),
            volume_threshold=int(threshold),
            benchmark_at_signing=int(at_signing),
            review_at=int(review_at),
            volume_rate_bps=int(rate),
            move_bps=int(move),
        )

    def message(self, licence_id: int, deadline: int) -> dict[str, Any]:
        """The AttachReview typed-data message (JSON-safe: bytes as 0x hex, large integers as text)."""
        return {
            "licenceId": _json_int(licence_id),
            "benchmark": "0x" + self.as_abi()[0].hex(),
            "volumeThreshold": _json_int(self.volume_threshold),
            "benchmarkAtSigning": _json_int(self.benchmark_at_signing),
            "reviewAt": _json_int(self.review_at),
            "volumeRateBps": self.volume_rate_bps,
            "moveBps": self.move_bps,
            "deadline": _json_int(deadline),
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """ILicenceReviews.Evidence: what fires a trigger, as the oracles sign it (the date trigger
    signs nothing: ``observed`` and ``as_of`` are not read)."""

    licence_id: int
    kind: Trigger
    observed: int
    as_of: int
    deadline: int

    def as_abi(self) -> tuple[Any, ...]:
        return (self.licence_id, int(self.kind), self.observed, self.as_of, self.deadline)

    def message(self) -> dict[str, Any]:
        """The ReviewEvidence typed-data message."""
        return {
            "licenceId": _json_int(self.licence_id),
            "kind": int(self.kind),
            "observed": _json_int(self.observed),
            "asOf": _json_int(self.as_of),
            "deadline": _json_int(self.deadline),
        }


_REVIEW_FIELDS: Final = (
    "licenceId", "observed", "referenceValue", "numerator", "denominator", "asOf", "openedAt", "decidedAt",
    "currentRateBps", "suggestedRateBps", "kind", "status", "decidedBy", "scheduleFrom", "acceptedVersion",
)  # fmt: skip
"""ILicenceReviews.Review's members in order (an event's decoded struct is a dict of them)."""


@dataclass(frozen=True, slots=True)
class Review:
    """ILicenceReviews.Review: the data that fired it, the suggestion and the decision."""

    licence_id: int
    observed: int
    reference_value: int
    numerator: int
    denominator: int
    as_of: int
    opened_at: int
    decided_at: int
    current_rate_bps: int
    suggested_rate_bps: int
    kind: Trigger
    status: ReviewStatus
    decided_by: str
    schedule_from: int
    accepted_version: int

    @classmethod
    def from_abi(cls, value: Any) -> Review:
        """From the on-chain tuple, or its event dict form."""
        if isinstance(value, dict):
            value = tuple(value[k] for k in _REVIEW_FIELDS)
        (lic, observed, ref, num, den, as_of, opened, decided, current, suggested, kind, status, by, sched, acc) = value
        return cls(
            licence_id=int(lic),
            observed=int(observed),
            reference_value=int(ref),
            numerator=int(num),
            denominator=int(den),
            as_of=int(as_of),
            opened_at=int(opened),
            decided_at=int(decided),
            current_rate_bps=int(current),
            suggested_rate_bps=int(suggested),
            kind=Trigger(int(kind)),
            status=ReviewStatus(int(status)),
            decided_by=str(by),
            schedule_from=int(sched),
            accepted_version=int(acc),
        )


# ------------------------------------------------------------------ arithmetic


def benchmark_text(value: int) -> str:
    """A benchmark value (points x 1,000,000) as points, at least two decimals: 4,600,000 -> "4.60"."""
    whole, frac = divmod(value, 10**6)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"{whole}.{digits}"


def moved_beyond(observed: int, reference: int, move_bps: int) -> bool:
    """ReviewMath.movedBeyond: ``observed`` differs from ``reference`` by more than ``move_bps`` of it."""
    return abs(observed - reference) * BPS > reference * move_bps


def scale_rate(rate_bps: int, numerator: int, denominator: int) -> int:
    """ReviewMath.scaleRate: rate x numerator / denominator to the nearest bps (halves up), at most 100%."""
    return min((2 * rate_bps * numerator + denominator) // (2 * denominator), BPS)


def current_rate(schedule: Schedule) -> int:
    """The rate a review reads: the base rate, or the first tier's for a tiered schedule."""
    return schedule.tiers[0].rate_bps if schedule.tiers else schedule.rate_bps


def draft_schedule(review: Review, schedule: Schedule, effective_from: int) -> Schedule:
    """The amendment a review suggests, from the schedule it amends (the one it read,
    ``scheduleAt(schedule_from)``, or a version added since; api.queries.reviews.amendment_basis):
    benchmark, every rate (base, tiers, field rates) scaled by the review's factor; volume, the
    agreed rate as the base rate (a tiered schedule's tiers give way to it); date, the schedule
    unchanged. Money terms are kept. Both parties still sign it (or another) to accept."""
    if review.kind is Trigger.VOLUME:
        return replace(schedule, effective_from=effective_from, rate_bps=review.suggested_rate_bps, tiers=())
    num, den = review.numerator, review.denominator
    return replace(
        schedule,
        effective_from=effective_from,
        rate_bps=scale_rate(schedule.rate_bps, num, den),
        tiers=tuple(Tier(t.threshold, scale_rate(t.rate_bps, num, den)) for t in schedule.tiers),
        field_rates=tuple(FieldRate(f.field, scale_rate(f.rate_bps, num, den)) for f in schedule.field_rates),
    )
