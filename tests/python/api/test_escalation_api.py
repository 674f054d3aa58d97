"""Index-linked escalation through the API (docs/escalation.md): the clause relayed from both
parties' signatures, refused before anything is sent when the escalator would refuse it (each
error named), then a step the oracles signed, read back with its index values and computation,
in the licence, its escalation and the statement that it priced.

The step's figures (token: 6 decimals; CPI-U 300.000 in 2023-09 and 309.300 in 2024-09, so the
ratio is 309.300 / 300.000 = 1.031, an increase of 3.100%, under the 5% cap):
- fixed fee 1,000.00 x 309.300 / 300.000 = 1,031.00 exactly (rounded down to 0.01: unchanged);
- per unit 2.50 x 309.300 / 300.000 = 2.5775, rounded down to 0.01: 2.57;
- rate 500 bps x 309.300 / 300.000 = 515.5 bps, rounded down to a whole bps: 515 bps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apikit import USDX, ClockedNode, bucket, chain_time, clocked_node, register, settle, sign, synced, terms_json
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.indexer.models import ScheduleVersionRow
from api.queries.escalation import index_change, money_arithmetic, rate_arithmetic
from api.services import Services
from royalty_chain import eip712
from royalty_chain.calendar import timestamp_of
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.escalation import Clause, IndexStep, Rounding, Target
from royalty_chain.terms import DAY

CLAUSE: dict[str, Any] = {
    "index": "CPI-U",
    "successor": "CPI-U-2024",
    "base_month": "2023-09",
    "escalates": ["fixed_fee", "per_unit", "rates"],
    "upward_only": True,
    "cap_bps": 500,
    "rounding": "down",
    "round_to": "0.01",
}


def _attach(client: TestClient, licence_id: int, clause: dict[str, Any], licensee: str = "licensee_apparel") -> Any:
    draft = client.post(f"/licences/{licence_id}/escalation/drafts", json={"clause": clause})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    return client.post(
        f"/licences/{licence_id}/escalation",
        json={
            "clause": body["clause"],
            "deadline": body["deadline"],
            "licensor_signature": sign(body["digest"], "licensor_brand"),
            "licensee_signature": sign(body["digest"], licensee),
        },
    )


def test_a_clause_is_drafted_relayed_once_and_read_back(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    synced(services)  # the draft reads the token's decimals (round_to) from the index
    draft = client.post(f"/licences/{licence_id}/escalation/drafts", json={"clause": CLAUSE})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    # The canonical clause in the terms format's words: no floor given (upward only makes it 0).
    assert body["clause"] == {**CLAUSE, "floor_bps": None}
    message = body["typed_data"]["message"]
    assert body["typed_data"]["primaryType"] == "AttachEscalation"
    assert (message["baseMonth"], message["targets"], message["upwardOnly"]) == (202309, 1 | 2 | 8, True)
    assert (message["floorBps"], message["capBps"], message["rounding"], message["roundTo"]) == (
        -10_000,
        500,
        0,
        10_000,
    )
    assert message["index"] == "0x" + b"CPI-U".hex() + "00" * 11
    clause = Clause("CPI-U", 202309, int(Target.FIXED_FEE | Target.PER_UNIT | Target.RATES), "CPI-U-2024", True,
                    cap_bps=500, rounding=Rounding.DOWN, round_to=10_000)  # fmt: skip
    # The digest is the escalator's own.
    assert body["digest"] == "0x" + chain.escalator.attach_digest(licence_id, clause, body["deadline"]).hex()

    # A licensee signature from another key: refused naming it, nothing sent.
    wrong = client.post(
        f"/licences/{licence_id}/escalation",
        json={"clause": body["clause"], "deadline": body["deadline"],
              "licensor_signature": sign(body["digest"], "licensor_brand"),
              "licensee_signature": sign(body["digest"], "licensee_devices")},
    )  # fmt: skip
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["type"] == "/problems/signature-invalid"
    assert wrong.json()["errors"][0]["field"] == "licensee_signature"
    assert chain.escalator.clause_of(licence_id) is None

    attached = _attach(client, licence_id, CLAUSE)
    assert attached.status_code == 201, attached.text
    assert chain.escalator.clause_of(licence_id) == clause

    # Attached once: the same consent again is the contract's EscalationClauseExists.
    again = _attach(client, licence_id, {**CLAUSE, "cap_bps": 400})
    assert again.status_code == 422, again.text
    assert (again.json()["type"], again.json()["error"]) == ("/problems/contract-rejected", "EscalationClauseExists")

    synced(services)
    answer = client.get(f"/licences/{licence_id}/escalation")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["steps_applied"] == 0 and got["steps"] == []
    assert {k: got["clause"][k] for k in CLAUSE} == CLAUSE
    assert got["clause"]["round_to_units"] == "10000"
    assert got["clause"]["words"] == (
        "The fixed fee, the per-unit amount and the rates follow CPI-U each contract anniversary, from its 2023-09 "
        "value; succeeded by CPI-U-2024; upward only; at most +5% a step; amounts rounded down to 0.01"
    )
    detail = client.get(f"/licences/{licence_id}").json()
    assert detail["escalation"]["clause"] == got["clause"] and detail["escalation"]["steps"] == []


BAD_CLAUSES: list[tuple[dict[str, Any], str, str]] = [
    ({"index": ""}, "EscalationIndexMissing", "clause.index"),
    ({"successor": "CPI-U"}, "EscalationSuccessorIsIndex", "clause.successor"),
    ({"base_month": "2023-13"}, "EscalationMonthInvalid", "clause.base_month"),
    ({"escalates": []}, "EscalationTargetsInvalid", "clause.escalates"),
    ({"upward_only": False, "floor_bps": -10_001}, "EscalationFloorInvalid", "clause.floor_bps"),
    ({"floor_bps": 600, "cap_bps": 500}, "EscalationFloorAboveCap", "clause.floor_bps"),
    ({"round_to": "0.00"}, "EscalationRoundingInvalid", "clause.round_to"),
]


def test_a_clause_the_escalator_would_refuse_is_a_422_naming_its_error(
    client: TestClient, chain: Chain, services: Services
) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))  # one licence: relays are metered
    synced(services)
    for change, error, field in BAD_CLAUSES:
        clause = {**CLAUSE, **change}
        draft = client.post(f"/licences/{licence_id}/escalation/drafts", json={"clause": clause})
        relayed = client.post(
            f"/licences/{licence_id}/escalation",
            json={"clause": clause, "deadline": chain_time(chain) + DAY, "licensor_signature": "0x" + "11" * 65,
                  "licensee_signature": "0x" + "11" * 65},
        )  # fmt: skip
        for answer in (draft, relayed):
            assert answer.status_code == 422, (error, answer.text)
            problem = answer.json()
            assert (problem["type"], problem["error"]) == ("/problems/invalid-input", error)
            assert problem["errors"][0]["field"] == field
    assert chain.escalator.clause_of(licence_id) is None


def test_a_terminated_licence_or_a_passed_deadline_attaches_nothing(
    client: TestClient, chain: Chain, services: Services
) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    synced(services)  # the draft reads the token's decimals (round_to) from the index
    draft = client.post(f"/licences/{licence_id}/escalation/drafts", json={"clause": CLAUSE}).json()
    late = client.post(
        f"/licences/{licence_id}/escalation",
        json={"clause": draft["clause"], "deadline": chain_time(chain) - 1,
              "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "deadline"

    ended = client.post(f"/licences/{licence_id}/termination/drafts", json={}).json()
    terminated = client.post(
        f"/licences/{licence_id}/termination",
        json={"deadline": ended["deadline"], "licensor_signature": sign(ended["digest"], "licensor_brand"),
              "licensee_signature": sign(ended["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert terminated.status_code == 201, terminated.text
    refused = _attach(client, licence_id, CLAUSE)
    assert refused.status_code == 422 and refused.json()["error"] == "LicenceNotActive"
    assert client.post("/licences/999999999/escalation/drafts", json={"clause": CLAUSE}).status_code == 404


# ------------------------------------------------------------------ a step, on a chain whose clock the test sets

GENESIS = timestamp_of(2123, 11, 1)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockedNode]:
    with clocked_node("anvil", GENESIS, tmp_path_factory.mktemp("escalation")) as node:
        yield node


def _step(chain: Chain, values: IndexStep) -> None:
    """The step signed by the licence's oracles: ``threshold`` of them, ascending by address."""
    digest = eip712.INDEX_STEP.digest(chain.escalator.domain(), values.message())
    oracles = sorted((role("oracle1"), role("oracle2")), key=lambda a: int(a.address, 16))
    threshold = 1
    signatures = [sign_digest(digest, o.key) for o in oracles[:threshold]]
    chain.escalator.step(values, signatures, role("oracle_sender"))


def test_a_step_is_indexed_with_its_computation_and_prices_the_statement(node: ClockedNode) -> None:
    chain, client, services = node.chain, node.client, node.services
    terms = terms_json(
        chain, 0, amounts="decimal",
        term={"start": "2124-01-01", "end": "2126-01-01", "sell_off_days": 0, "period": "quarter"},
        schedule={"fixed_fee_per_period": "1000.00", "per_unit": "2.50", "rate_bps": 500},
    )  # fmt: skip
    licence_id = register(client, terms)
    synced(services)
    assert _attach(client, licence_id, CLAUSE).status_code == 201
    # 2124-04-10: 2124-Q1 (contract year 0) is priced by the registered schedule.
    node.local.mine_at(timestamp_of(2124, 4, 10))
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 10, 10_000 * USDX)])
    # 2124-10-01: the oracles sign CPI-U of 2023-09 and 2024-09; step 1 takes effect when contract
    # year 1 begins (2125-01-01), as schedule version 1.
    node.local.mine_at(timestamp_of(2124, 10, 1))
    _step(chain, IndexStep(licence_id, 1, "CPI-U", 202309, 300_000_000, 202409, 309_300_000,
                           timestamp_of(2124, 10, 2)))  # fmt: skip
    # 2125-04-10: 2125-Q1 (period 4, contract year 1) is priced by the escalated version.
    node.local.mine_at(timestamp_of(2125, 4, 10))
    settle(chain, licence_id, 4, [bucket("US", "apparel", "retail", 10, 10_000 * USDX, year=1)])
    synced(services)

    got = client.get(f"/licences/{licence_id}/escalation").json()
    assert got["steps_applied"] == 1
    (step,) = got["steps"]
    summary = {
        "step": 1, "index": "CPI-U", "from_month": "2023-09", "from_value": "300.000", "to_month": "2024-09",
        "to_value": "309.300", "index_change": "+3.100%", "limit": "none", "numerator": "309300000",
        "denominator": "300000000", "ratio": "309.300 / 300.000", "effective_from": timestamp_of(2125, 1, 1),
        "effective_date": "2125-01-01", "version": 1, "consistent": True,
    }  # fmt: skip
    assert {k: step[k] for k in summary} == summary
    assert (step["from_version"], step["mismatches"]) == (0, [])
    assert step["amounts"] == [
        {"target": "fixed_fee_per_period", "unit": "token", "before": "1000000000", "after": "1031000000",
         "recomputed": "1031000000", "matches": True,
         "arithmetic": "1,000.00 x 309.300 / 300.000 = 1,031.00, rounded down to 0.01"},
        {"target": "rate_bps", "unit": "bps", "before": "500", "after": "515", "recomputed": "515", "matches": True,
         "arithmetic": "500 bps x 309.300 / 300.000 = 515.5 bps, rounded down to 1 bps: 515 bps"},
        {"target": "per_unit", "unit": "token", "before": "2500000", "after": "2570000", "recomputed": "2570000",
         "matches": True, "arithmetic": "2.50 x 309.300 / 300.000 = 2.5775, rounded down to 0.01: 2.57"},
    ]  # fmt: skip

    detail = client.get(f"/licences/{licence_id}").json()
    assert detail["escalation"]["steps"] == [summary]
    assert [v["version"] for v in detail["schedule_versions"]] == [0, 1]
    version_1 = detail["schedule_versions"][1]
    assert (version_1["fixed_fee_per_period"], version_1["per_unit"], version_1["rate_bps"]) == (
        "1031000000", "2570000", 515)  # fmt: skip

    # Year 1's statement: 2125-Q1 priced by version 1, which came from step 1:
    # 1,031.00 fixed fee + 10 units x 2.57 = 25.70 + 5.15% of 10,000.00 = 515.00 -> 1,571.70.
    statement = client.get(f"/licences/{licence_id}/statement", params={"year": 1}).json()
    q1 = statement["rows"][0]
    assert (q1["period_name"], q1["schedule_version"]) == ("2125-Q1", 1)
    assert (q1["royalty_fixed_fee"], q1["royalty_per_unit"], q1["royalty_percentage"], q1["royalty"]) == (
        "1031000000", "25700000", "515000000", "1571700000")  # fmt: skip
    assert [r["schedule_version"] for r in statement["rows"][:4]] == [1, 1, 1, 1]
    (in_force,) = statement["schedule_versions"]
    assert (in_force["version"], in_force["source"], in_force["periods"]) == (1, "escalation", [4, 5, 6, 7])
    assert in_force["effective_date"] == "2125-01-01" and in_force["step"] == step
    # Year 0's: the registered schedule, 1,000.00 + 10 x 2.50 + 5% of 10,000.00 = 1,525.00.
    year_0 = client.get(f"/licences/{licence_id}/statement", params={"year": 0}).json()
    assert (year_0["rows"][0]["schedule_version"], year_0["rows"][0]["royalty"]) == (0, "1525000000")
    assert [(v["version"], v["source"], v["step"]) for v in year_0["schedule_versions"]] == [(0, "registration", None)]
    csv_text = client.get(f"/licences/{licence_id}/statement", params={"year": 1, "format": "csv"}).text
    header, first = csv_text.splitlines()[:2]
    assert first.split(",")[header.split(",").index("schedule_version")] == "1"

    page = client.get(f"/ui/licences/{licence_id}")
    assert page.status_code == 200
    assert "follow CPI-U each contract anniversary" in page.text and "309.300 / 300.000" in page.text
    statement_page = client.get(f"/ui/licences/{licence_id}/statement", params={"year": 1})
    assert statement_page.status_code == 200
    assert "2.50 x 309.300 / 300.000 = 2.5775, rounded down to 0.01: 2.57" in statement_page.text

    # A version that disagrees with the recomputation is shown as such, never smoothed over.
    with services.sessions() as session, session.begin():
        row = session.scalars(
            select(ScheduleVersionRow).where(ScheduleVersionRow.licence_id == licence_id,
                                             ScheduleVersionRow.version == 1)
        ).one()  # fmt: skip
        original = row.schedule
        row.schedule = original.replace('"fixedFeePerPeriod": 1031000000', '"fixedFeePerPeriod": 1032000000')
        assert row.schedule != original
    try:
        doctored = client.get(f"/licences/{licence_id}/escalation").json()["steps"][0]
        assert doctored["consistent"] is False
        assert doctored["mismatches"] == [
            "fixed_fee_per_period: the chain's version has 1032000000, the recomputation gives 1031000000"
        ]
        assert [a["matches"] for a in doctored["amounts"]] == [False, True, True]
        assert "does not match" in client.get(f"/ui/licences/{licence_id}").text
    finally:
        with services.sessions() as session, session.begin():
            row = session.scalars(
                select(ScheduleVersionRow).where(ScheduleVersionRow.licence_id == licence_id,
                                                 ScheduleVersionRow.version == 1)
            ).one()  # fmt: skip
            row.schedule = original


def test_the_computation_is_written_out_for_limits_rounding_and_the_rate_ceiling() -> None:
    """The words of a step held to its cap (the ratio in basis points), of a product that does not
    end (its first digits, then "..."), and of a rate that would pass 100%."""
    clause = Clause("CPI-U", 202309, cap_bps=300, rounding=Rounding.NEAREST, round_to=10_000)
    # 1,000.00 x 10,300 / 10,000 = 1,030.00 exactly: the cap of 3%, not the index's change.
    assert money_arithmetic(1_000 * USDX, 1_030 * USDX, "10,300 / 10,000", 10_300, 10_000, clause, 6) == (
        "1,000.00 x 10,300 / 10,000 = 1,030.00, rounded to the nearest 0.01"
    )
    # 1.00 x 1 / 3 = 0.333333...: to the nearest 0.01, 0.33.
    assert money_arithmetic(USDX, 330_000, "1 / 3", 1, 3, clause, 6) == (
        "1.00 x 1 / 3 = 0.333333333333333333..., rounded to the nearest 0.01: 0.33"
    )
    # 9,800 bps x 1.03 = 10,094 bps: a rate is at most 100%.
    assert rate_arithmetic(9_800, 10_000, "10,300 / 10,000", 10_300, 10_000, clause) == (
        "9,800 bps x 10,300 / 10,000 = 10,094 bps, rounded to the nearest 1 bps, at most 10,000 bps: 10,000 bps"
    )
    assert (index_change(300_000_000, 309_300_000), index_change(300_000_000, 290_000_000)) == ("+3.100%", "-3.333%")
