"""Rate reviews: a licence's review clause in words, and each review with the trigger that fired
it, the data that justified it written out, its decision, and (while open) the amendment it
suggests, which takes effect only when both parties sign it (docs: README "Rate reviews").

The suggested amendment is :func:`royalty_chain.reviews.draft_schedule` of the schedule version it
follows (the latest one in force at its start: :func:`amendment_basis`), effective from the start
of the reporting period after the one the review opened in, as version ``count`` of the licence's
schedules with the licence's current end. That is the version the review read (in force at its
``schedule_from``) unless one was added since (another review accepted, an escalation step): then
the draft changes only what the review is about, and keeps what the later version changed (a
volume review's agreed rate replaces the tiers of the latest version, whose field rates stay).
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.indexer.models import LicenceRow, ReviewClauseRow, ReviewRow, ScheduleVersionRow
from api.inputs import schedule_doc
from api.money import format_units
from api.queries.common import get_licence_row, token_out
from api.schemas import (
    AmendmentScheduleOut,
    ReviewClauseOut,
    ReviewOut,
    Reviews,
    ReviewsSummary,
    ReviewSummary,
    SuggestedAmendment,
)
from royalty_chain.calendar import iso_date
from royalty_chain.events import schedule_from_event
from royalty_chain.manifest import Manifest
from royalty_chain.reviews import Review, ReviewStatus, Trigger, draft_schedule, scale_rate
from royalty_chain.terms import BPS, Schedule

_BENCHMARK_DECIMALS = 6  # benchmark values are points x 1,000,000 (4.00 is 4,000,000)
_STATUS = {"open": ReviewStatus.OPEN, "declined": ReviewStatus.DECLINED, "accepted": ReviewStatus.ACCEPTED}


def benchmark_value(value: int) -> str:
    """4,600,000 -> "4.60" (at least two decimals, every digit the value has)."""
    return format_units(value, _BENCHMARK_DECIMALS)


def percent_2(bps: int) -> str:
    """Basis points as a percentage with two decimals: 1,000 -> "10.00%"."""
    whole, rest = divmod(abs(bps), 100)
    return f"{'-' if bps < 0 else ''}{whole:,}.{rest:02d}%"


def move_percent(observed: int, reference: int) -> str:
    """The benchmark's move from its value at signing, to two decimals (halves away from zero)."""
    hundredths = Fraction((observed - reference) * 10_000, reference)
    rounded = int(abs(hundredths) + Fraction(1, 2))
    whole, rest = divmod(rounded, 100)
    return f"{'-' if hundredths < 0 else '+'}{whole:,}.{rest:02d}%"


def _bps(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{int(value):,}"
    whole = int(value)
    digits = f"{float(value - whole):.6f}"[2:].rstrip("0")
    exact = next((d for d in range(7) if (value * 10**d).denominator == 1), None)
    return f"{whole:,}.{digits}" + ("" if exact is not None else "...")


def scaled_rate_text(rate_bps: int, numerator: int, denominator: int, ratio: str) -> str:
    """ "500 bps x 4.60 / 4.00 = 575 bps", with the rounding to a whole bps (halves up) and the
    100% ceiling when they apply (ReviewMath.scaleRate)."""
    exact = Fraction(rate_bps * numerator, denominator)
    result = scale_rate(rate_bps, numerator, denominator)
    text = f"{rate_bps:,} bps x {ratio} = {_bps(exact)} bps"
    if exact > BPS:
        return f"{text}, at most {BPS:,} bps"
    if exact != result:
        return f"{text}, to the nearest bps: {result:,} bps"
    return text


def clause_words(row: ReviewClauseRow, decimals: int, currency: str | None) -> str:
    words = []
    if row.benchmark:
        words.append(
            f"when the benchmark {row.benchmark} moves more than {percent_2(row.move_bps)} either way from "
            f"{benchmark_value(row.benchmark_at_signing)} at signing (rates scaled by its move)"
        )
    if row.volume_threshold:
        amount = format_units(row.volume_threshold, decimals) + (f" {currency}" if currency else "")
        words.append(f"when cumulative net sales reach {amount} (the rate towards {row.volume_rate_bps:,} bps)")
    if row.review_at:
        words.append(f"on {iso_date(row.review_at)} (a review meeting, rates unchanged unless both agree)")
    return "Rates reviewed " + "; or ".join(words)


def clause_out(row: ReviewClauseRow, decimals: int, currency: str | None) -> ReviewClauseOut:
    return ReviewClauseOut(
        benchmark=row.benchmark or None,
        benchmark_at_signing=benchmark_value(row.benchmark_at_signing) if row.benchmark else None,
        benchmark_at_signing_units=row.benchmark_at_signing if row.benchmark else None,
        move_bps=row.move_bps if row.benchmark else None,
        volume_threshold=row.volume_threshold if row.volume_threshold else None,
        volume_rate_bps=row.volume_rate_bps if row.volume_threshold else None,
        review_at=row.review_at or None,
        review_date=iso_date(row.review_at) if row.review_at else None,
        words=clause_words(row, decimals, currency),
        attached_at=row.attached_at,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
    )


def trigger_words(row: ReviewRow, clause: ReviewClauseRow | None, decimals: int, currency: str | None) -> str:
    if row.kind == "benchmark":
        name = clause.benchmark if clause is not None else "the benchmark"
        move = percent_2(clause.move_bps) if clause is not None else "its limit"
        return f"{name} moved more than {move} from its value at signing"
    if row.kind == "volume":
        amount = format_units(row.reference_value, decimals) + (f" {currency}" if currency else "")
        return f"cumulative net sales reached {amount}"
    return f"the review date {iso_date(row.reference_value or row.as_of)} came"


def justification(row: ReviewRow, clause: ReviewClauseRow | None, decimals: int, currency: str | None) -> str:
    """The data that fired the review and the suggestion's arithmetic, in one line."""
    if row.kind == "benchmark":
        name = clause.benchmark if clause is not None else "benchmark"
        observed, reference = benchmark_value(row.observed), benchmark_value(row.reference_value)
        limit = f", more than the clause's {percent_2(clause.move_bps)}" if clause is not None else ""
        ratio = f"{benchmark_value(row.numerator)} / {benchmark_value(row.denominator)}"
        return (
            f"benchmark {name} {reference} -> {observed} ({move_percent(row.observed, row.reference_value)}{limit}): "
            f"rate {scaled_rate_text(row.current_rate_bps, row.numerator, row.denominator, ratio)}"
        )
    if row.kind == "volume":
        unit = f" {currency}" if currency else ""
        return (
            f"cumulative net sales {format_units(row.observed, decimals)}{unit} reached the clause's "
            f"{format_units(row.reference_value, decimals)}{unit}: the agreed rate {row.suggested_rate_bps:,} bps "
            f"in place of {row.current_rate_bps:,} bps"
        )
    return (
        f"the review date {iso_date(row.reference_value or row.as_of)} came: a review meeting, "
        f"rate {row.current_rate_bps:,} bps unchanged (1 / 1)"
    )


def _role(licence: LicenceRow, account: str | None) -> Literal["licensor", "licensee"] | None:
    if account is None:
        return None
    if account.lower() == licence.licensor.lower():
        return "licensor"
    if account.lower() == licence.licensee.lower():
        return "licensee"
    return None


def status_words(row: ReviewRow, licence: LicenceRow) -> str:
    if row.status == "open":
        return "open: awaiting both parties' signatures on the suggested amendment (or either's decline)"
    if row.status == "declined":
        who = _role(licence, row.decided_by) or row.decided_by
        return f"declined by the {who} on {iso_date(row.decided_at or 0)}: the licence's terms are unchanged"
    return f"accepted by both parties on {iso_date(row.decided_at or 0)}: schedule version {row.accepted_version}"


def review_of(row: ReviewRow) -> Review:
    """The record as it opened (the decision fields left at their open values)."""
    return Review(
        licence_id=row.licence_id,
        observed=row.observed,
        reference_value=row.reference_value,
        numerator=row.numerator,
        denominator=row.denominator,
        as_of=row.as_of,
        opened_at=row.opened_at,
        decided_at=0,
        current_rate_bps=row.current_rate_bps,
        suggested_rate_bps=row.suggested_rate_bps,
        kind=Trigger[row.kind.upper()],
        status=_STATUS[row.status],
        decided_by="0x" + "00" * 20,
        schedule_from=row.schedule_from,
        accepted_version=row.accepted_version or 0,
    )


def schedule_versions(session: Session, licence_id: int) -> list[ScheduleVersionRow]:
    return list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id)
            .order_by(ScheduleVersionRow.version)
        )
    )


def version_at(versions: list[ScheduleVersionRow], timestamp: int) -> ScheduleVersionRow:
    """The registry's scheduleAt: the latest version effective at ``timestamp`` (else version 0)."""
    found = versions[0]
    for version in versions:
        if version.effective_from <= timestamp:
            found = version
    return found


def suggested_effective_from(licence: LicenceRow, row: ReviewRow, versions: list[ScheduleVersionRow]) -> int:
    """The start of the reporting period after the one the review opened in (after the latest
    version's start, which the registry requires)."""
    rule = licence.rule()
    start = rule.period_bounds(rule.period_of(row.opened_at) + 1)[0]
    return max(start, versions[-1].effective_from + 1)


def amendment_basis(versions: list[ScheduleVersionRow], effective_from: int) -> ScheduleVersionRow:
    """The version an amendment effective from ``effective_from`` follows: the one in force just
    before it (by default the latest: an amendment starts after it). Drafting from the version the
    review read instead would undo a version added since, say an earlier review accepted."""
    return version_at(versions, effective_from - 1)


def suggested_schedule(row: ReviewRow, basis: ScheduleVersionRow, effective_from: int) -> Schedule:
    return draft_schedule(review_of(row), schedule_from_event(json.loads(basis.schedule)), effective_from)


def suggested_amendment(
    licence: LicenceRow, row: ReviewRow, versions: list[ScheduleVersionRow], effective_from: int | None = None
) -> SuggestedAmendment:
    when = suggested_effective_from(licence, row, versions) if effective_from is None else effective_from
    basis = amendment_basis(versions, when)
    schedule = suggested_schedule(row, basis, when)
    return SuggestedAmendment(
        version=len(versions),
        from_version=basis.version,
        new_end=licence.end,
        schedule=AmendmentScheduleOut(**schedule_doc(schedule), effective_date=iso_date(when)),
    )


def _summary_fields(
    row: ReviewRow, licence: LicenceRow, clause: ReviewClauseRow | None, decimals: int, currency: str | None
) -> dict[str, object]:
    return {
        "review_id": row.id,
        "kind": row.kind,
        "trigger": trigger_words(row, clause, decimals, currency),
        "justification": justification(row, clause, decimals, currency),
        "current_rate_bps": row.current_rate_bps,
        "suggested_rate_bps": row.suggested_rate_bps,
        "status": row.status,
        "status_words": status_words(row, licence),
        "opened_at": row.opened_at,
    }


def review_out(
    row: ReviewRow,
    licence: LicenceRow,
    clause: ReviewClauseRow | None,
    versions: list[ScheduleVersionRow],
    decimals: int,
    currency: str | None,
) -> ReviewOut:
    return ReviewOut(
        **_summary_fields(row, licence, clause, decimals, currency),  # type: ignore[arg-type]
        observed=row.observed,
        reference_value=row.reference_value,
        numerator=row.numerator,
        denominator=row.denominator,
        as_of=row.as_of,
        schedule_from=row.schedule_from,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decided_by_role=_role(licence, row.decided_by),
        accepted_version=row.accepted_version,
        suggested_amendment=suggested_amendment(licence, row, versions) if row.status == "open" else None,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
        decided_tx=row.decided_tx,
    )


def _rows(session: Session, licence_id: int) -> tuple[ReviewClauseRow | None, list[ReviewRow]]:
    clause = session.get(ReviewClauseRow, licence_id)
    reviews = list(session.scalars(select(ReviewRow).where(ReviewRow.licence_id == licence_id).order_by(ReviewRow.id)))
    return clause, reviews


def _token(manifest: Manifest, licence: LicenceRow) -> tuple[int, str | None]:
    token = token_out(manifest, licence.token)
    return token.decimals or 0, token.symbol


def reviews(session: Session, manifest: Manifest, licence_id: int) -> Reviews:
    licence = get_licence_row(session, licence_id)
    decimals, currency = _token(manifest, licence)
    clause, rows = _rows(session, licence_id)
    versions = schedule_versions(session, licence_id)
    return Reviews(
        licence_id=licence_id,
        clause=None if clause is None else clause_out(clause, decimals, currency),
        reviews=[review_out(r, licence, clause, versions, decimals, currency) for r in rows],
    )


def reviews_summary(session: Session, manifest: Manifest, licence: LicenceRow) -> ReviewsSummary | None:
    """The clause and each review in a line, for the licence's detail (in full: GET .../reviews)."""
    clause, rows = _rows(session, licence.id)
    if clause is None and not rows:
        return None
    decimals, currency = _token(manifest, licence)
    return ReviewsSummary(
        clause=None if clause is None else clause_out(clause, decimals, currency),
        open=sum(r.status == "open" for r in rows),
        declined=sum(r.status == "declined" for r in rows),
        accepted=sum(r.status == "accepted" for r in rows),
        reviews=[ReviewSummary(**_summary_fields(r, licence, clause, decimals, currency)) for r in rows],  # type: ignore[arg-type]
    )
