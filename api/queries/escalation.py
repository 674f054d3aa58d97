"""Escalation: a licence's clause and its steps, each with the index values its oracles signed and
the computation written out (docs/escalation.md).

A step's "before" is the schedule version in force at its ``effective_from`` among those before it
(what the escalator read from the registry), its "after" the version it appended. The after is
recomputed from the before with :func:`royalty_chain.escalation.escalate_schedule`; a difference
is shown on the step (``consistent``, ``mismatches``) and logged, never smoothed over.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Literal

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.indexer.models import EscalationClauseRow, EscalationStepRow, ScheduleVersionRow
from api.money import format_units
from api.queries.common import code_of, get_licence_row, token_out
from api.schemas import (
    EscalatedAmount,
    Escalation,
    EscalationClauseOut,
    EscalationStepOut,
    EscalationStepSummary,
    EscalationSummary,
)
from api.ui_text import join_words, percent
from royalty_chain.calendar import iso_date
from royalty_chain.codes import FIELDS
from royalty_chain.escalation import NO_FLOOR, Clause, Limit, Rounding, Target, escalate_schedule, month_text, points
from royalty_chain.events import schedule_from_event
from royalty_chain.manifest import Manifest
from royalty_chain.spec import clause_doc
from royalty_chain.terms import BPS, Schedule

log = structlog.get_logger("api.escalation")

_EXACT_DIGITS = 12  # an exact product shown to at most this many digits past the token's, then "..."
_ROUNDED = {Rounding.DOWN: "rounded down to", Rounding.NEAREST: "rounded to the nearest", Rounding.UP: "rounded up to"}
_TARGET_WORDS = {
    Target.FIXED_FEE: "the fixed fee",
    Target.PER_UNIT: "the per-unit amount",
    Target.MINIMUM_GUARANTEE: "the minimum guarantee",
    Target.RATES: "the rates",
    Target.TIER_THRESHOLDS: "the tier thresholds",
}


def clause_of(row: EscalationClauseRow) -> Clause:
    return Clause(
        index=row.index,
        successor=row.successor,
        base_month=row.base_month,
        targets=row.targets,
        upward_only=row.upward_only,
        floor_bps=row.floor_bps,
        cap_bps=row.cap_bps,
        rounding=Rounding(row.rounding),
        round_to=row.round_to,
    )


def clause_words(clause: Clause, decimals: int) -> str:
    """The clause in one sentence, as the dashboard shows it."""
    targets = join_words([w for t, w in _TARGET_WORDS.items() if t in Target(clause.targets)])
    words = [
        f"{targets} follow {clause.index} each contract anniversary, from its {month_text(clause.base_month)} value"
    ]
    if clause.successor:
        words.append(f"succeeded by {clause.successor}")
    if clause.upward_only:
        words.append("upward only")
    if clause.floor_bps != NO_FLOOR and clause.effective_floor != 0:
        words.append(f"at least {_signed_percent(clause.effective_floor)} a step")
    if clause.cap_bps:
        words.append(f"at most +{percent(clause.cap_bps)} a step")
    words.append(f"amounts {_ROUNDED[clause.rounding]} {format_units(clause.round_to, decimals)}")
    text = "; ".join(words)
    return text[0].upper() + text[1:]


def _signed_percent(bps: int) -> str:
    return ("+" if bps >= 0 else "-") + percent(abs(bps))


def clause_out(row: EscalationClauseRow, decimals: int) -> EscalationClauseOut:
    clause = clause_of(row)
    return EscalationClauseOut(
        **clause_doc(clause, decimals),
        round_to_units=clause.round_to,
        words=clause_words(clause, decimals),
        attached_at=row.attached_at,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
    )


def index_change(from_value: int, to_value: int) -> str:
    """The index's change over a step as a percentage to three decimals (half to even)."""
    change = Decimal(to_value - from_value) * 100 / Decimal(from_value)
    text = str(change.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN))
    return ("+" if not text.startswith("-") else "") + text + "%"


def ratio_text(row: EscalationStepRow) -> str:
    """The ratio as applied: the two index values, or the limit's basis points."""
    if Limit(row.limit) is Limit.NONE:
        return f"{points(row.numerator)} / {points(row.denominator)}"
    return f"{row.numerator:,} / {row.denominator:,}"


def _exact(units: Fraction, decimals: int) -> str:
    """An exact number of token units in the token's currency: every digit when it ends within
    _EXACT_DIGITS past the token's, else that many and "..."."""
    for extra in range(_EXACT_DIGITS + 1):
        scaled = units * 10**extra
        if scaled.denominator == 1:
            return format_units(int(scaled), decimals + extra)
    return format_units(int(units * 10**_EXACT_DIGITS), decimals + _EXACT_DIGITS) + "..."


def _exact_bps(value: Fraction) -> str:
    """Basis points with only the decimals they have (515.5), or _EXACT_DIGITS of them and "..."."""
    digits = next((d for d in range(_EXACT_DIGITS + 1) if (value * 10**d).denominator == 1), None)
    places = _EXACT_DIGITS if digits is None else digits
    whole, fraction = divmod(int(value * 10**places), 10**places)
    text = f"{whole:,}" + (f".{str(fraction).rjust(places, '0').rstrip('0')}" if fraction else "")
    return text if digits is not None else text + "..."


def money_arithmetic(before: int, after: int, ratio: str, num: int, den: int, clause: Clause, decimals: int) -> str:
    exact = Fraction(before * num, den)
    unit = format_units(clause.round_to, decimals)
    text = f"{format_units(before, decimals)} x {ratio} = {_exact(exact, decimals)}, {_ROUNDED[clause.rounding]} {unit}"
    return text if exact == after else f"{text}: {format_units(after, decimals)}"


def rate_arithmetic(before: int, after: int, ratio: str, num: int, den: int, clause: Clause) -> str:
    exact = Fraction(before * num, den)
    text = f"{before:,} bps x {ratio} = {_exact_bps(exact)} bps, {_ROUNDED[clause.rounding]} 1 bps"
    if exact > BPS and after == BPS:
        text += ", at most 10,000 bps"
    return text if exact == after else f"{text}: {after:,} bps"


def _terms_of(schedule: Schedule, targets: Target) -> list[tuple[str, Literal["token", "bps"], int]]:
    """(target, unit, amount) of each term a clause with ``targets`` escalates, in schedule order."""
    out: list[tuple[str, Literal["token", "bps"], int]] = []
    if Target.FIXED_FEE in targets:
        out.append(("fixed_fee_per_period", "token", schedule.fixed_fee_per_period))
    if Target.RATES in targets:
        out.append(("rate_bps", "bps", schedule.rate_bps))
    if Target.PER_UNIT in targets:
        out.append(("per_unit", "token", schedule.per_unit))
    if Target.MINIMUM_GUARANTEE in targets:
        out.append(("minimum_guarantee", "token", schedule.minimum_guarantee))
    for i, tier in enumerate(schedule.tiers):
        if Target.TIER_THRESHOLDS in targets:
            out.append((f"tiers.{i}.threshold", "token", tier.threshold))
        if Target.RATES in targets:
            out.append((f"tiers.{i}.rate_bps", "bps", tier.rate_bps))
    if Target.RATES in targets:
        for f in schedule.field_rates:
            out.append((f"field_rates.{code_of(FIELDS, f.field)}.rate_bps", "bps", f.rate_bps))
    return out


def _compare(recomputed: Schedule, after: Schedule) -> list[str]:
    """Where the chain's new version differs from the recomputation, in words."""
    problems = []
    for name in ("effective_from", "fixed_fee_per_period", "rate_bps", "per_unit", "minimum_guarantee"):
        got, want = getattr(after, name), getattr(recomputed, name)
        if got != want:
            problems.append(f"{name}: the chain's version has {got}, the recomputation gives {want}")
    if after.tiers != recomputed.tiers:
        problems.append(f"tiers: the chain's version has {after.tiers}, the recomputation gives {recomputed.tiers}")
    if after.field_rates != recomputed.field_rates:
        problems.append(
            f"field_rates: the chain's version has {after.field_rates}, "
            f"the recomputation gives {recomputed.field_rates}"
        )
    return problems


def _summary_fields(row: EscalationStepRow, consistent: bool) -> dict[str, Any]:
    return {
        "step": row.step,
        "index": row.index,
        "from_month": month_text(row.from_month),
        "from_value": points(row.from_value),
        "to_month": month_text(row.to_month),
        "to_value": points(row.to_value),
        "index_change": index_change(row.from_value, row.to_value),
        "limit": Limit(row.limit).name.lower(),
        "numerator": row.numerator,
        "denominator": row.denominator,
        "ratio": ratio_text(row),
        "effective_from": row.effective_from,
        "effective_date": iso_date(row.effective_from),
        "version": row.version,
        "consistent": consistent,
    }


def step_out(
    licence_id: int, row: EscalationStepRow, clause: Clause, versions: list[ScheduleVersionRow], decimals: int
) -> EscalationStepOut:
    """A step with its computation: each escalated term before -> after, recomputed and checked."""
    earlier = [v for v in versions if v.version < row.version]
    basis = [v for v in earlier if v.effective_from <= row.effective_from] or earlier[:1]
    new = next((v for v in versions if v.version == row.version), None)
    amounts: list[EscalatedAmount] = []
    mismatches: list[str] = []
    if not basis or new is None:
        mismatches.append(f"schedule version {row.version} or the one before it is not in the index")
    else:
        before = schedule_from_event(json.loads(basis[-1].schedule))
        after = schedule_from_event(json.loads(new.schedule))
        recomputed = escalate_schedule(before, clause, row.numerator, row.denominator, row.effective_from)
        mismatches = _compare(recomputed, after)
        ratio = ratio_text(row)
        targets = Target(clause.targets)
        chain_terms = {t: a for t, _, a in _terms_of(after, targets)}
        model_terms = {t: a for t, _, a in _terms_of(recomputed, targets)}
        for target, unit, amount in _terms_of(before, targets):
            got = chain_terms.get(target, 0)
            want = model_terms.get(target, 0)
            if amount == 0 and got == 0 and want == 0:
                continue
            arithmetic = (
                money_arithmetic(amount, want, ratio, row.numerator, row.denominator, clause, decimals)
                if unit == "token"
                else rate_arithmetic(amount, want, ratio, row.numerator, row.denominator, clause)
            )
            amounts.append(
                EscalatedAmount(
                    target=target,
                    unit=unit,
                    before=amount,
                    after=got,
                    recomputed=want,
                    matches=got == want,
                    arithmetic=arithmetic,
                )
            )
    if mismatches:
        log.error("escalation_step_mismatch", licence=licence_id, step=row.step, version=row.version,
                  mismatches=mismatches)  # fmt: skip
    return EscalationStepOut(
        **_summary_fields(row, not mismatches),
        from_version=basis[-1].version if basis else None,
        amounts=amounts,
        mismatches=mismatches,
        stepped_at=row.stepped_at,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
    )


def _rows(session: Session, licence_id: int) -> tuple[EscalationClauseRow | None, list[EscalationStepRow]]:
    clause = session.get(EscalationClauseRow, licence_id)
    steps = list(
        session.scalars(
            select(EscalationStepRow).where(EscalationStepRow.licence_id == licence_id).order_by(EscalationStepRow.step)
        )
    )
    return clause, steps


def _versions(session: Session, licence_id: int) -> list[ScheduleVersionRow]:
    return list(
        session.scalars(
            select(ScheduleVersionRow)
            .where(ScheduleVersionRow.licence_id == licence_id)
            .order_by(ScheduleVersionRow.version)
        )
    )


def steps_out(session: Session, licence_id: int, decimals: int) -> dict[int, EscalationStepOut]:
    """Every step of the licence with its computation, by the schedule version it appended."""
    clause_row, steps = _rows(session, licence_id)
    if clause_row is None or not steps:
        return {}
    clause, versions = clause_of(clause_row), _versions(session, licence_id)
    return {s.version: step_out(licence_id, s, clause, versions, decimals) for s in steps}


def _decimals(session: Session, manifest: Manifest, licence_id: int) -> int:
    return token_out(manifest, get_licence_row(session, licence_id).token).decimals or 0


def escalation(session: Session, manifest: Manifest, licence_id: int) -> Escalation:
    decimals = _decimals(session, manifest, licence_id)
    clause_row, _ = _rows(session, licence_id)
    steps = list(steps_out(session, licence_id, decimals).values())
    return Escalation(
        licence_id=licence_id,
        clause=None if clause_row is None else clause_out(clause_row, decimals),
        steps_applied=len(steps),
        steps=steps,
    )


def escalation_summary(session: Session, licence_id: int, decimals: int) -> EscalationSummary | None:
    """The clause and its steps for the licence's detail (the computation: GET .../escalation)."""
    clause_row, _ = _rows(session, licence_id)
    if clause_row is None:
        return None
    steps = steps_out(session, licence_id, decimals)
    return EscalationSummary(
        clause=clause_out(clause_row, decimals),
        steps=[EscalationStepSummary.model_validate(s) for s in steps.values()],
    )
