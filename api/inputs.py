"""The API's side of the one terms format: request types, and Terms back in canonical form.

The terms model and its field types live in ``royalty_chain`` (``royalty_chain.spec``,
``royalty_chain.soltypes``; the format is documented in ``examples/TERMS_FORMAT.md``), shared with
the demo's example files; this module re-exports them for the routes and schemas and turns a
conversion's ``SpecError`` into a 422 naming the field. Every value is range-checked against its
Solidity type by the model, so a request fails with a 422 naming the field; rules only the
contract knows (tiers in order, distinct oracles, ...) are left to the contract's simulation.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from api.errors import InvalidInput
from royalty_chain import spec
from royalty_chain.calendar import PERIOD_WORDS, LicenceCalendar
from royalty_chain.codes import CHANNELS, FIELDS, TERRITORIES, CodeTable
from royalty_chain.escalation import Clause
from royalty_chain.fx import rule_name
from royalty_chain.manifest import Manifest
from royalty_chain.soltypes import (
    Address,
    Amount,
    AmountIn,
    BigId,
    Bytes32,
    HexBytes,
    PartyAddress,
    Timestamp,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    check_address,
    check_party,
)
from royalty_chain.spec import (
    EscalationIn,
    FieldRateIn,
    FxIn,
    PayeeIn,
    ScheduleIn,
    ScopeIn,
    TermIn,
    TermsIn,
    TierIn,
    clause_doc,
)
from royalty_chain.terms import Schedule, Terms

__all__ = [
    "Address", "Amount", "AmountIn", "BigId", "Bytes32", "EscalationIn", "FieldRateIn", "FxIn", "HexBytes",
    "PartyAddress", "PayeeIn", "ScheduleIn", "ScopeIn", "TermIn", "TermsIn", "TierIn", "Timestamp", "Uint8", "Uint16",
    "Uint32", "Uint64", "check_address", "check_party",
    "clause_doc", "fx_doc", "resolve_token", "schedule_doc", "terms_doc", "to_clause", "to_schedule", "to_terms",
]  # fmt: skip


def resolve_token(token: str, manifest: Manifest, field: str = "terms.token") -> str:
    try:
        return spec.token_of(token, manifest, field)[0]
    except spec.SpecError as err:
        raise InvalidInput.field(err.field, err.reason) from None


def to_schedule(value: ScheduleIn, effective_from: int, field: str, decimals: int | None = None) -> Schedule:
    """An amendment's schedule; decimal amounts (``"amounts": "decimal"``) need the token's decimals."""
    try:
        return spec.to_schedule(value, effective_from, field, decimals)
    except spec.SpecError as err:
        raise InvalidInput.field(err.field, err.reason) from None


def to_clause(value: EscalationIn, decimals: int | None, field: str) -> Clause:
    """An escalation clause, refused (422) naming the field and the escalator's error for a rule
    the contract would revert on, before anything is sent."""
    try:
        return spec.to_clause(value, decimals, field)
    except spec.SpecError as err:
        extra = {} if err.error is None else {"error": err.error}
        raise InvalidInput(
            f"{err.field}: {err.reason}", errors=[{"field": err.field, "message": err.reason}], **extra
        ) from None


def to_terms(value: TermsIn, manifest: Manifest) -> Terms:
    """The exact Terms both parties sign; the registration schedule is effective from the start."""
    try:
        return spec.to_terms(value, manifest, "terms")
    except spec.SpecError as err:
        raise InvalidInput.field(err.field, err.reason) from None


def schedule_doc(schedule: Schedule) -> dict[str, Any]:
    """A Schedule in the friendly form (codes as strings, amounts as strings)."""
    return {
        "effective_from": schedule.effective_from,
        "fixed_fee_per_period": str(schedule.fixed_fee_per_period),
        "rate_bps": schedule.rate_bps,
        "per_unit": str(schedule.per_unit),
        "minimum_guarantee": str(schedule.minimum_guarantee),
        "tiers": [{"threshold": str(t.threshold), "rate_bps": t.rate_bps} for t in schedule.tiers],
        "field_rates": [
            {"field": _code_or_index(FIELDS, f.field), "rate_bps": f.rate_bps} for f in schedule.field_rates
        ],
    }


# The terms format's period words by their number of months.
_PERIOD_WORDS = {months: word for word, months in PERIOD_WORDS.items()}


def _code_or_index(table: CodeTable, index: int) -> str:
    return table.codes[index] if 0 <= index < len(table.codes) else f"#{index}"


def _codes(table: CodeTable, bitmap: int) -> list[str]:
    return [_code_or_index(table, i) for i in range(bitmap.bit_length()) if bitmap >> i & 1]


def period_rule(rule: LicenceCalendar) -> str | dict[str, Any] | None:
    """The terms format's ``period`` of a rule (None for fixed-seconds periods)."""
    if rule.period_months == 0:
        return None
    if not rule.anniversary and rule.period_months in _PERIOD_WORDS:
        return _PERIOD_WORDS[rule.period_months]
    return {"months": rule.period_months, "anniversary": rule.anniversary}


def contract_year_start(rule: LicenceCalendar) -> str:
    """The terms format's ``contract_year_start`` of a rule: "start", "calendar" or "MM-DD"."""
    year = (rule.year_month, rule.year_day)
    return {(0, 0): "start", (1, 1): "calendar"}.get(year, f"{year[0]:02d}-{year[1]:02d}")


def term_doc(terms: Terms) -> dict[str, Any]:
    """The term in the terms format: ``period`` for calendar rules, ``period_seconds`` for fixed ones."""
    term, rule = terms.term, terms.term.rule()
    doc: dict[str, Any] = {"start": term.start, "end": term.end, "sell_off_days": term.sell_off_days}
    period = period_rule(rule)
    if period is None:
        doc["period_seconds"] = term.period_seconds
    else:
        doc["period"] = period
    doc["contract_year_start"] = contract_year_start(rule)
    doc["due_days"] = rule.due_days
    doc["late_interest_bps"] = rule.interest_bps
    if rule.reserve_bps:
        doc["reserve_bps"], doc["reserve_periods"] = rule.reserve_bps, rule.reserve_periods
    doc["audit_threshold_bps"] = rule.audit_threshold_bps
    fx = fx_doc(rule)
    if fx is not None:
        doc["fx"] = fx
    return doc


def fx_doc(rule: LicenceCalendar) -> dict[str, str] | None:
    """The terms format's ``fx`` clause of a rule: ``{"rule": "period-average", "source": "ECB"}``,
    or None for a licence that converts nothing (rule none)."""
    if rule.fx_rule == 0:
        return None
    return {"rule": rule_name(rule.fx_rule), "source": rule.fx_source}


def terms_doc(terms: Terms) -> dict[str, Any]:
    """Terms in the canonical friendly form: what POST /licences accepts back unchanged."""
    return {
        "licensor": to_checksum_address(terms.licensor),
        "licensee": to_checksum_address(terms.licensee),
        "legal_text_hash": "0x" + terms.legal_text_hash.hex(),
        "asset_ids": [str(a) for a in terms.asset_ids],
        "scope": {
            "territories": _codes(TERRITORIES, terms.scope.territories),
            "fields": _codes(FIELDS, terms.scope.fields),
            "channels": _codes(CHANNELS, terms.scope.channels),
        },
        "term": term_doc(terms),
        "token": to_checksum_address(terms.token),
        "advance": str(terms.advance),
        "schedule": schedule_doc(terms.schedule),
        "payees": [{"account": to_checksum_address(p.account), "share_bps": p.share_bps} for p in terms.payees],
        "tax_bps": terms.tax_bps,
        "tax_account": None if int(terms.tax_account, 16) == 0 else to_checksum_address(terms.tax_account),
        "oracles": [to_checksum_address(o) for o in terms.oracles],
        "threshold": terms.threshold,
        "dispute_window": terms.dispute_window,
        "arbiter": to_checksum_address(terms.arbiter),
        "cure_period": terms.cure_period,
        "salt": "0x" + terms.salt.hex(),
    }
