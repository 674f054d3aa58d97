"""The reserve against returns and audit true-ups end to end through the HTTP API, on an Anvil and
on a Ganache of their own whose clocks the tests set (every test runs on both, same figures).

One licence: 5% of net sales, calendar quarters from 2124-01-01 (contract years from 1 January),
due 30 days after each quarter, 12% a year late interest, 20% of each payable royalty held back as
a reserve until the end of the quarter two later, audit costs charged above a 5% underpayment;
payees 60/40, 10% tax withheld, no dispute window. Token: 6 decimals (1 USDX = 1,000,000 units).

The story, in chain-time order (every figure written out with its arithmetic, in USDX):
- 2124-04-10: 2124-Q1 reports 100,000 sold: 5,000; 1,000 (20%) held as a reserve until 2124-10-01.
- 2124-06-10: an audit of 2124-Q1 finds 20,000 unreported: 1,000 underpaid, 20% of the 5,000 (> 5%):
  due from 2124-05-01, so 40 days of interest, 1,000 x 12% x 40 / 365 = 13.150684 (rounded down),
  and the audit's cost of 3,000 is charged.
- 2124-07-10: 2124-Q2 reports 8,000 returned, nothing sold: -400, taken back from Q1's reserve and
  refunded to the licensee's escrow; 600 stays held.
- 2124-08-01: a second audit of 2124-Q1 finds 4,000 more: 200 underpaid, 200 / 6,000 = 3.33% of
  the period as corrected (not above 5%): due now, no interest, its cost not charged.
- 2124-10-01: the reserve's time comes; the keeper's call (releaseMatured, anyone may make it)
  releases the 600 to the payees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apikit import USDX, bucket, clocked_node, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from royalty_chain.calendar import timestamp_of
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import LocalChain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

GENESIS = timestamp_of(2123, 11, 1)
ESCROW = 1_000_000 * USDX
INTEREST = 13_150_684  # 1,000 USDX x 1,200 bps x 40 days / (10,000 x 365 days), rounded down


def u(amount: float | int) -> str:
    """USDX as the API writes amounts: token units, as a string."""
    return str(round(amount * USDX))


class World:
    def __init__(self, local: LocalChain, chain: Chain, services: Services, client: TestClient) -> None:
        self.local, self.chain, self.services, self.client = local, chain, services, client
        self.licence = 0
        self.ids: dict[str, int] = {}

    def get(self, path: str, **params: Any) -> Any:
        synced(self.services)
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def view(self, name: str, *args: Any) -> int:
        return int(getattr(self.chain.ledger.contract.functions, name)(self.licence, *args).call())


def _terms(chain: Chain, **term: Any) -> dict[str, Any]:
    return terms_json(
        chain,
        0,
        term={"start": "2124-01-01", "end": "2126-01-01", "sell_off_days": 0, "period": "quarter",
              "contract_year_start": "calendar", "due_days": 30, **term},
        schedule={"rate_bps": 500},
    )  # fmt: skip


def _story(w: World) -> None:
    w.licence = register(
        w.client,
        _terms(w.chain, late_interest_bps=1200, reserve_bps=2000, reserve_periods=2, audit_threshold_bps=500),
    )
    fund(w.chain, w.licence, ESCROW)
    sale = bucket("US", "apparel", "retail", 10, 100_000 * USDX)
    w.local.mine_at(timestamp_of(2124, 4, 10))
    w.ids["q1"] = settle(w.chain, w.licence, 0, [sale], sequence=1)
    # The audit settles at 2124-06-10 00:00:00 exactly: the interest runs to that second.
    at = timestamp_of(2124, 6, 10)
    w.local.next_block_at(at)
    found = bucket("GB", "apparel", "online", 2, 20_000 * USDX)
    w.ids["audit"] = settle(w.chain, w.licence, 0, [found], sequence=2, corrects=w.ids["q1"], audit=True,
                            audit_cost=3_000 * USDX, deadline=at + DAY)  # fmt: skip
    w.local.mine_at(timestamp_of(2124, 7, 10))
    returned = (bucket("US", "apparel", "retail", 1, 8_000 * USDX),)
    w.ids["q2"] = settle(w.chain, w.licence, 1, [], sequence=3, returned=returned)
    at = timestamp_of(2124, 8, 1)
    w.local.next_block_at(at)
    more = bucket("US", "apparel", "online", 1, 4_000 * USDX)
    w.ids["audit2"] = settle(w.chain, w.licence, 0, [more], sequence=4, corrects=w.ids["audit"], audit=True,
                             audit_cost=3_000 * USDX, deadline=at + DAY)  # fmt: skip
    w.local.next_block_at(timestamp_of(2124, 10, 1))
    w.chain.ledger.release_matured(w.licence, role("keeper"))


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with clocked_node(request.param, GENESIS, tmp_path_factory.mktemp(f"reserves-{request.param}")) as node:
        world = World(node.local, node.chain, node.services, node.client)
        _story(world)
        yield world


def _rows(w: World) -> list[dict[str, Any]]:
    return w.get(f"/licences/{w.licence}/statement", year=0)["rows"]  # type: ignore[no-any-return]


def _row(w: World, settlement_id: int) -> dict[str, Any]:
    (row,) = [r for r in _rows(w) if r["settlement_id"] == settlement_id]
    return row


def test_the_licence_states_its_reserve_and_audit_clauses(world: World) -> None:
    calendar = world.get(f"/licences/{world.licence}")["calendar"]
    assert (calendar["reserve_bps"], calendar["reserve_periods"], calendar["audit_threshold_bps"]) == (2000, 2, 500)
    assert calendar["words"].endswith("; late interest 12%/year; 20% reserve against returns for 2 periods")


def test_reserve_held_from_the_report(world: World) -> None:
    q1 = _row(world, world.ids["q1"])
    # 100,000 x 5% = 5,000; 20% of it held back, 4,000 due and paid now
    assert (q1["period_name"], q1["royalty"], q1["reserve_held"], q1["recouped"], q1["due"], q1["paid"]) == (
        "2124-Q1", u(5_000), u(1_000), "0", u(4_000), u(4_000),
    )  # fmt: skip
    reserve = world.get(f"/settlements/{world.ids['q1'] + 1}")
    assert (reserve["kind"], reserve["period"]) == ("reserve", 0)


def test_reserve_consumed_by_a_negative_quarter_then_released(world: World) -> None:
    reserve_id = world.ids["q1"] + 1
    reserve = _row(world, reserve_id)
    # 8,000 returned in Q2: -400 from the 1,000 held; 600 left, released on 2124-10-01 (the end of
    # 2124-Q3, two quarters after Q1); 600 less 10% tax = 540 to the payees, 60% and 40%
    assert (
        reserve["kind"],
        reserve["on_settlement_id"],
        reserve["state"],
        reserve["release_date"],
        reserve["due"],
        reserve["paid"],
        reserve["reserve_consumed"],
        reserve["reserve_refunded"],
        reserve["reserve_released"],
        reserve["reserve_held"],
        reserve["tax_withheld"],
    ) == ("reserve", world.ids["q1"], "final", "2124-10-01", u(600), u(600), u(400), u(400), u(600), "0", u(60))
    assert [p["amount"] for p in reserve["payee_parts"]] == [u(324), u(216)]
    q2 = _row(world, world.ids["q2"])
    assert (q2["period_name"], q2["royalty"], q2["reserve_consumed"], q2["credit_carried"], q2["due"]) == (
        "2124-Q2", u(-400), u(400), "0", "0",
    )  # fmt: skip
    assert world.view("creditOf") == 0


def test_audit_above_threshold_bears_interest_and_its_cost(world: World) -> None:
    audit = _row(world, world.ids["audit"])
    # 20,000 x 5% = 1,000 underpaid against the 5,000 settled: 1,000 x 10,000 > 500 x 5,000
    assert (
        audit["kind"], audit["corrects"], audit["audit_underpayment"], audit["audit_reported"],
        audit["audit_threshold_bps"], audit["audit_exceeded"], audit["audit_cost"], audit["due_date"],
        audit["royalty"], audit["due"], audit["paid"], audit["reserve_held"],
    ) == ("audit", world.ids["q1"], u(1_000), u(5_000), 500, True, u(3_000), "2124-05-01", u(1_000), u(1_000),
          u(1_000), "0")  # fmt: skip
    rows = _rows(world)
    (interest,) = [r for r in rows if r["kind"] == "interest" and r["on_settlement_id"] == world.ids["audit"]]
    # 40 days from 2124-05-01 to 2124-06-10 at 12%
    assert (interest["interest_principal"], interest["interest_days"], interest["interest_rate_bps"]) == (
        u(1_000), 40, 1200,
    )  # fmt: skip
    assert interest["royalty"] == str(INTEREST)
    (cost,) = [r for r in rows if r["kind"] == "audit_cost"]
    # an audit cost reimburses: no withholding; 60% and 40% of 3,000
    assert (cost["on_settlement_id"], cost["royalty"], cost["due"], cost["paid"], cost["tax_withheld"]) == (
        world.ids["audit"], u(3_000), u(3_000), u(3_000), "0",
    )  # fmt: skip
    assert [p["amount"] for p in cost["payee_parts"]] == [u(1_800), u(1_200)]


def test_audit_at_or_below_threshold_is_a_plain_true_up(world: World) -> None:
    audit = _row(world, world.ids["audit2"])
    # 4,000 x 5% = 200 against the 6,000 Q1 stood at: 200 x 10,000 = 2,000,000 <= 500 x 6,000
    assert (
        audit["kind"],
        audit["corrects"],
        audit["audit_underpayment"],
        audit["audit_reported"],
        audit["audit_exceeded"],
        audit["audit_cost"],
        audit["due_date"],
        audit["late"],
    ) == ("audit", world.ids["audit"], u(200), u(6_000), False, "0", "2124-08-01", False)
    assert not [r for r in _rows(world) if r["kind"] == "interest" and r["on_settlement_id"] == world.ids["audit2"]]
    assert len([r for r in _rows(world) if r["kind"] == "audit_cost"]) == 1


def test_statement_totals_and_balances_match_the_chain(world: World) -> None:
    statement = world.get(f"/licences/{world.licence}/statement", year=0)
    totals = statement["totals"]
    # held back by the year's reports: Q1's 1,000; taken back by returns: 400; audit costs: 3,000
    assert (totals["reserve_held"], totals["reserve_consumed"], totals["reserve_released"], totals["audit_cost"]) == (
        u(1_000), u(400), u(600), u(3_000),
    )  # fmt: skip
    # escrow: 1,000,000 - 5,000 (Q1 with its reserve) - 1,000 - 13.150684 - 3,000 (the audit, its
    # interest and cost) + 400 (the reserve refunded) - 200 (the second audit) = 991,186.849316
    escrow = ESCROW - 5_000 * USDX - 1_000 * USDX - INTEREST - 3_000 * USDX + 400 * USDX - 200 * USDX
    assert escrow == 991_186_849_316
    licence = world.get(f"/licences/{world.licence}")
    assert int(licence["escrow"]) == escrow == world.view("escrowOf")
    # credited to the payees: 4,000 + 1,000 + 13.150684 + 200 + 600 less 10% tax (the interest's
    # tax rounded down: 1.315068), and the 3,000 cost untaxed
    distributed = (4_000 + 1_000 + 200 + 600) * USDX * 9 // 10 + (INTEREST - INTEREST // 10) + 3_000 * USDX
    assert distributed == 8_231_835_616
    assert world.view("distributedOf") == distributed
    licensor, co_owner = role("licensor_brand").address, role("co_owner").address
    for payee in (licensor, co_owner):
        (mine,) = [x for x in world.get(f"/parties/{payee}")["licences"] if x["id"] == world.licence]
        assert int(mine["balance"]["claimable"]) == world.view("claimable", payee)


def test_registration_rejects_reserve_and_audit_clauses_out_of_range(world: World) -> None:
    for term, message in [
        ({"reserve_bps": 6000, "reserve_periods": 2}, "reserve_bps must be at most 5,000"),
        ({"reserve_bps": 1000, "reserve_periods": 0}, "reserve_periods must be 1 to 24"),
        ({"reserve_periods": 3}, "reserve_periods needs a reserve"),
        ({"audit_threshold_bps": 10_001}, "audit_threshold_bps must be at most 10,000"),
    ]:
        answer = world.client.post("/licences/drafts", json={"terms": _terms(world.chain, **term)})
        assert answer.status_code == 422, (term, answer.text)
        assert message in answer.text, (term, answer.text)
