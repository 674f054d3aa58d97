"""Index-linked escalation through the typed clients on Anvil and Ganache: the digests built here
are the escalator's, a step lands the schedule the Python model computes, and the clause checks
made here name the contract's own errors.

The licence starts 200 days before the chain's clock with contract years on its anniversary, so
contract year 1 (the first step's effective date) is 165 days ahead and the step is on time.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from royalty_chain.actions import attach_digest, attach_escalation, register_licence, sign_report, step_digest
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.escalation import (
    Clause,
    ClauseError,
    IndexStep,
    Limit,
    Rounding,
    Target,
    escalate_schedule,
    index_value,
    ratio,
)
from royalty_chain.terms import DAY, Payee, Schedule, Term, Terms, Tier

USDX = 10**6
CENT = 10**4


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _licence(chain: Chain, schedule: Schedule) -> int:
    now = _now(chain)
    start = (now // DAY - 200) * DAY
    terms = Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x02" * 32,
        asset_ids=(11,),
        scope=encode_scope(["US"], ["apparel"], ["retail"]),
        term=Term(start=start, end=start + 3 * 365 * DAY, sell_off_days=0, period_seconds=30 * DAY),
        token=chain.manifest.token("USDX").address,
        schedule=schedule,
        payees=(Payee(role("licensor_brand").address, 10_000),),
        oracles=tuple(sorted((role("oracle1").address, role("oracle2").address), key=lambda a: int(a, 16))),
        threshold=2,
        arbiter=role("arbiter").address,
        salt=time.time_ns().to_bytes(32, "big"),
    )
    return register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )


def _signed_step(chain: Chain, values: IndexStep) -> list[bytes]:
    return sign_report(step_digest(chain, values), [role("oracle1"), role("oracle2")])


def _values(chain: Chain, licence_id: int, clause: Clause, n: int, before: str, after: str) -> IndexStep:
    return IndexStep(
        licence_id=licence_id,
        step=n,
        index=clause.index,
        from_month=clause.step_month(n - 1),
        from_value=index_value(before),
        to_month=clause.step_month(n),
        to_value=index_value(after),
        deadline=_now(chain) + DAY,
    )


@pytest.mark.parametrize("chain_name", ["chain", "ganache_chain"])
def test_a_step_lands_the_schedule_the_model_computes(chain_name: str, request: pytest.FixtureRequest) -> None:
    chain: Chain = request.getfixturevalue(chain_name)
    # 1,000.00 a period, 2.50 a unit, 50,000.00 a year guaranteed, tiers 0: 4%, 100,000.00: 6%.
    schedule = Schedule(
        fixed_fee_per_period=1_000 * USDX,
        per_unit=2_500_000,
        minimum_guarantee=50_000 * USDX,
        tiers=(Tier(0, 400), Tier(100_000 * USDX, 600)),
    )
    licence_id = _licence(chain, schedule)
    clause = Clause(index="US-CPI-U", base_month=202409, rounding=Rounding.NEAREST, round_to=CENT, cap_bps=500)
    attach_escalation(
        chain, licence_id, clause, role("licensor_brand"), role("licensee_apparel"), role("relayer"), _now(chain) + DAY
    )
    assert chain.escalator.clause_of(licence_id) == clause
    assert chain.escalator.step_month(licence_id, 1) == 202509 == clause.step_month(1)

    # 315.301 -> 324.870: +3.0349...% (under the 5% cap), ratio 324,870,000 / 315,301,000.
    values = _values(chain, licence_id, clause, 1, "315.301", "324.870")
    receipt = chain.escalator.step(values, _signed_step(chain, values), role("oracle_sender"))
    (event,) = [e for e in chain.receipt_events(receipt) if e.name == "Escalated"]
    applied = event.args["applied"]
    anniversary = chain.registry.contract_year_bounds(licence_id, 1)[0]
    assert (applied["numerator"], applied["denominator"], applied["limit"]) == (324_870_000, 315_301_000, 0)
    assert applied["effectiveFrom"] == anniversary
    assert applied["version"] == 1

    stepped = chain.registry.schedule_at(licence_id, anniversary)
    assert stepped == escalate_schedule(schedule, clause, 324_870_000, 315_301_000, anniversary)
    # Written out (nearest cent, halves up):
    # the ratio 324.870 / 315.301 = 1.0303487...
    # fee 1,000.00 x 1.0303487 = 1,030.3487... -> 1,030.35
    assert stepped.fixed_fee_per_period == 1_030_350_000
    # per unit 2.50 x 1.0303487 = 2.5758... -> 2.58
    assert stepped.per_unit == 2_580_000
    # guarantee 50,000.00 x 1.0303487 = 51,517.4388... -> 51,517.44
    assert stepped.minimum_guarantee == 51_517_440_000
    # tier rates 400 -> 412.139... -> 412, 600 -> 618.209... -> 618;
    # threshold 100,000.00 -> 103,034.8777... -> 103,034.88
    assert stepped.tiers == (Tier(0, 412), Tier(103_034_880_000, 618))
    before = chain.registry.schedule_at(licence_id, anniversary - 1)
    assert replace(before, effective_from=0) == schedule
    assert chain.escalator.steps_applied(licence_id) == 1

    # A replay changes nothing.
    with pytest.raises(ContractRevert) as refused:
        chain.escalator.step(values, _signed_step(chain, values), role("oracle_sender"))
    assert refused.value.error == "StepAlreadyApplied"
    assert chain.registry.schedule_count(licence_id) == 2


def test_capped_and_floored_ratios_match_the_contract(chain: Chain) -> None:
    licence_id = _licence(chain, Schedule(fixed_fee_per_period=1_000 * USDX))
    clause = Clause(index="HICP", base_month=202409, targets=int(Target.FIXED_FEE), cap_bps=250, round_to=CENT)
    attach_escalation(
        chain, licence_id, clause, role("licensor_brand"), role("licensee_apparel"), role("relayer"), _now(chain) + DAY
    )
    # +4% is held to the 2.5% cap: 1,000.00 x 10,250 / 10,000 = 1,025.00.
    assert ratio(clause, index_value("125.00"), index_value("130.00")) == (10_250, 10_000, Limit.CAP)
    values = _values(chain, licence_id, clause, 1, "125.00", "130.00")
    chain.escalator.step(values, _signed_step(chain, values), role("oracle_sender"))
    anniversary = chain.registry.contract_year_bounds(licence_id, 1)[0]
    assert chain.registry.schedule_at(licence_id, anniversary).fixed_fee_per_period == 1_025 * USDX


def test_digests_match_the_escalators_views(chain: Chain) -> None:
    licence_id = _licence(chain, Schedule(rate_bps=500))
    clause = Clause(index="US-CPI-U", successor="US-C-CPI-U", base_month=202409, floor_bps=-250, cap_bps=700)
    deadline = _now(chain) + DAY
    assert attach_digest(chain, licence_id, clause, deadline) == chain.escalator.attach_digest(
        licence_id, clause, deadline
    )
    values = _values(chain, licence_id, clause, 1, "315.301", "324.870")
    assert step_digest(chain, values) == chain.escalator.step_digest(values)


def _raw_attach(chain: Chain, licence_id: int, raw: tuple[Any, ...]) -> str:
    """Sends a clause tuple the Python model would refuse, to read the contract's own error."""
    deadline = _now(chain) + DAY
    digest = bytes(chain.escalator.contract.functions.attachDigest(licence_id, raw, deadline).call())
    fn = chain.escalator.contract.functions.attach(
        licence_id,
        raw,
        deadline,
        sign_digest(digest, role("licensor_brand").key),
        sign_digest(digest, role("licensee_apparel").key),
    )
    with pytest.raises(ContractRevert) as refused:
        chain.transact(fn, role("relayer"))
    return refused.value.error


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"floor_bps": 300, "cap_bps": 250}, "EscalationFloorAboveCap"),
        ({"base_month": 202413}, "EscalationMonthInvalid"),
        ({"targets": 0}, "EscalationTargetsInvalid"),
        ({"floor_bps": -10_001}, "EscalationFloorInvalid"),
        ({"round_to": 0}, "EscalationRoundingInvalid"),
        ({"successor": "US-CPI-U"}, "EscalationSuccessorIsIndex"),
    ],
)
def test_clause_checks_name_the_contracts_errors(chain: Chain, fields: dict[str, Any], error: str) -> None:
    good = {"index": "US-CPI-U", "base_month": 202409}
    with pytest.raises(ClauseError) as checked:
        Clause(**{**good, **fields})
    assert checked.value.error == error
    # The same clause sent anyway is refused by the escalator with the same error.
    raw = object.__new__(Clause)
    for name, value in {**Clause.__dataclass_fields__, **{}}.items():
        object.__setattr__(raw, name, {**good, **fields}.get(name, value.default))
    licence_id = _licence(chain, Schedule(rate_bps=500))
    assert _raw_attach(chain, licence_id, raw.as_abi()) == error
