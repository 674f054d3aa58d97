"""Calendar licences end to end through the HTTP API, on an Anvil and on a Ganache of their own
whose clocks the tests set (every test runs on both, with the same figures): calendar quarters
and their due dates, a statement of a contract year that periods cross into and out of, a late
payment charged interest and split like a royalty, a nil report, and the 422s of impossible rules.

The chain starts on 2123-11-01 (ahead of any wall clock, so the API's "now" is the chain's) and
the tests move it forward in order, each block to the second (`LocalChain.next_block_at`: Anvil's
evm_setNextBlockTimestamp; on Ganache, which has none, evm_setTime with a fixed 1-second block
step); every figure is written out with its arithmetic.
Token: 6 decimals (1 USDX = 1,000,000 units); rate 8% of net sales; payees 60/40; tax 10%.
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
LICENSOR = role("licensor_brand").address
CO_OWNER = role("co_owner").address


class World:
    """The module's chain, API and the two licences the tests share, in chain-time order."""

    def __init__(self, local: LocalChain, chain: Chain, services: Services, client: TestClient) -> None:
        self.local, self.chain, self.services, self.client = local, chain, services, client
        self.quarters = 0  # calendar quarters 2124-Q1.., contract years from 1 January, 12% late interest
        self.anniversary = 0  # 3-month periods from 10 November 2123, contract years from 1 January
        self.ids: dict[str, int] = {}

    def warp(self, timestamp: int) -> None:
        """A block is mined at ``timestamp`` (00:00 UTC of a date, in the tests)."""
        self.local.mine_at(timestamp)

    def get(self, path: str, **params: Any) -> Any:
        synced(self.services)
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module", params=["anvil", "ganache"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with clocked_node(request.param, GENESIS, tmp_path_factory.mktemp(f"calendar-{request.param}")) as node:
        world = World(node.local, node.chain, node.services, node.client)
        world.quarters = register(node.client, _terms(node.chain, "2124-01-01", "quarter", late_interest_bps=1200))
        world.anniversary = register(node.client, _terms(node.chain, "2123-11-10", {"months": 3, "anniversary": True}))
        _story(world)
        yield world


def _terms(chain: Chain, start: str, period: Any, **term: Any) -> dict[str, Any]:
    return terms_json(
        chain,
        0,
        term={"start": start, "end": "2126-01-01", "sell_off_days": 0, "period": period,
              "contract_year_start": "calendar", "due_days": 30, **term},
    )  # fmt: skip


def _story(w: World) -> None:
    """Everything that happens on the chain, in time order (the tests then read it back)."""
    fund(w.chain, w.anniversary, 1_000 * USDX)
    # 2124-02-15: the anniversary licence reports its first period (2123-11-10..2124-02-09), whose
    # sales fall in contract year 0 (November and December 2123) and year 1 (January and February 2124).
    w.warp(timestamp_of(2124, 2, 15))
    w.ids["straddling"] = settle(
        w.chain, w.anniversary, 0,
        [bucket("US", "apparel", "retail", 5, 500 * USDX, year=0),
         bucket("GB", "apparel", "online", 2, 250 * USDX, year=1)],
    )  # fmt: skip
    # 2124-04-10: the quarterly licence reports 2124-Q1 (due 2124-05-01) with an empty escrow: all arrears.
    w.warp(timestamp_of(2124, 4, 10))
    w.ids["q1"] = settle(w.chain, w.quarters, 0, [bucket("US", "apparel", "retail", 10, 1_000 * USDX)])
    # 2124-05-15: the anniversary licence's second period (2124-02-10..2124-05-09) had no sales: a nil report.
    w.warp(timestamp_of(2124, 5, 15))
    w.ids["nil"] = settle(w.chain, w.anniversary, 1, [])
    # 2124-06-01 00:00 UTC, 31 days after 2124-Q1's due date: the licensee deposits 100 USDX.
    licensee = role("licensee_apparel")
    token = w.chain.token(w.chain.manifest.token("USDX").address)
    token.mint(licensee.address, 100 * USDX, licensee)
    token.approve(w.chain.ledger.address, 100 * USDX, licensee)
    w.local.next_block_at(timestamp_of(2124, 6, 1))  # interest runs to this second
    w.chain.ledger.deposit(w.quarters, 100 * USDX, licensee)
    # 2124-09-01: the statements are read.
    w.warp(timestamp_of(2124, 9, 1))


def test_calendar_quarters_are_named_and_dated_in_the_api(world: World) -> None:
    licence = world.get(f"/licences/{world.quarters}")
    assert licence["calendar"] == {
        "period": "quarter", "period_months": 3, "anniversary": False, "period_seconds": None,
        "contract_year_start": "calendar", "due_days": 30, "late_interest_bps": 1200,
        "reserve_bps": 0, "reserve_periods": 0, "audit_threshold_bps": 500, "fx": None,
        "words": "calendar quarters; contract years from 1 January; reports due 30 days after each quarter; "
        "late interest 12%/year",
    }  # fmt: skip
    assert licence["terms"]["term"] == {
        "start": timestamp_of(2124, 1, 1), "end": timestamp_of(2126, 1, 1), "sell_off_days": 0, "period": "quarter",
        "contract_year_start": "calendar", "due_days": 30, "late_interest_bps": 1200, "audit_threshold_bps": 500,
    }  # fmt: skip
    # On 2124-09-01: contract year 0 is calendar 2124 (a leap year), the period 2124-Q3.
    assert (licence["contract_year"], licence["contract_year_name"]) == (0, "2124-01-01--2124-12-31")
    assert licence["contract_year_end"] - licence["contract_year_start"] == 366 * DAY
    assert licence["current_period"]["period_name"] == "2124-Q3"

    periods = world.get(f"/licences/{world.quarters}/periods")
    assert periods["total"] == 8  # 2124-Q1 .. 2125-Q4, no sell-off
    first = [(p["period_name"], p["period_start"], p["period_end"], p["period_last_day"], p["due_at"], p["state"],
              p["late"]) for p in periods["items"][:4]]  # fmt: skip
    assert first == [
        # a quarter ends on the first second of the next; due 30 days after: 1 April + 30 days = 1 May
        ("2124-Q1", timestamp_of(2124, 1, 1), timestamp_of(2124, 4, 1), "2124-03-31", timestamp_of(2124, 5, 1),
         "reported", True),  # paid a month late
        ("2124-Q2", timestamp_of(2124, 4, 1), timestamp_of(2124, 7, 1), "2124-06-30", timestamp_of(2124, 7, 31),
         "not reported", True),  # due 31 July, not reported by 1 September
        ("2124-Q3", timestamp_of(2124, 7, 1), timestamp_of(2124, 10, 1), "2124-09-30", timestamp_of(2124, 10, 31),
         "open", False),
        ("2124-Q4", timestamp_of(2124, 10, 1), timestamp_of(2125, 1, 1), "2124-12-31", timestamp_of(2125, 1, 31),
         "open", False),
    ]  # fmt: skip
    assert [p["period_name"] for p in periods["items"][4:]] == ["2125-Q1", "2125-Q2", "2125-Q3", "2125-Q4"]


def test_late_payment_is_charged_interest_split_like_a_royalty(world: World) -> None:
    q1 = world.ids["q1"]
    items = {s["id"]: s for s in world.get(f"/licences/{world.quarters}/settlements")["items"]}
    (interest_id,) = [i for i, s in items.items() if s["kind"] == "interest"]
    report = items[q1]
    # 8% of 1,000 USDX = 80 USDX, due 2124-05-01; settled on 2124-04-10 from an empty escrow, paid on 2124-06-01.
    assert (report["royalty"], report["paid"], report["arrears"]) == ("80000000", "80000000", "0")
    assert (report["period_name"], report["due_at"]) == ("2124-Q1", timestamp_of(2124, 5, 1))
    assert (report["late"], report["reported_late"], report["paid_late"]) == (True, False, "80000000")
    assert report["interest_charged"] == "815342"

    charge = items[interest_id]
    assert (charge["kind"], charge["period_name"], charge["contract_year"]) == ("interest", "2124-Q1", 0)
    # floor(80,000,000 * 1,200 * 31 days * 86,400 / (10,000 * 31,536,000)) = floor(815,342.47) = 815,342
    assert charge["interest"] == {
        "on_settlement_id": q1, "on_kind": "report", "principal": "80000000", "from_at": timestamp_of(2124, 5, 1),
        "to_at": timestamp_of(2124, 6, 1), "days": 31, "rate_bps": 1200, "interest": "815342",
    }  # fmt: skip
    # Paid by the same deposit (interest joins the back of the arrears queue): tax floor(815,342 * 10%) = 81,534;
    # 733,808 to the payees: the accumulator goes 72,000,000 -> 72,733,808, payee 0 floor(60%):
    # 43,200,000 -> 43,640,284 (+440,284), payee 1 the rest (+293,524).
    assert (charge["royalty"], charge["paid"], charge["tax_withheld"], charge["late"]) == (
        "815342", "815342", "81534", False,
    )  # fmt: skip
    assert [(p["account"], p["amount"]) for p in charge["payee_parts"]] == [(LICENSOR, "440284"), (CO_OWNER, "293524")]
    detail = world.get(f"/settlements/{interest_id}")
    assert detail["interest"]["on_settlement_id"] == q1 and detail["recouped"] == "0"
    licence = world.get(f"/licences/{world.quarters}")
    # 100 USDX deposited: 80 + 0.815342 paid arrears, the rest in escrow.
    assert (licence["arrears"], licence["escrow"]) == ("0", "19184658")
    assert licence["escrow"] == str(world.chain.ledger.escrow_of(world.quarters))

    statement = world.get(f"/licences/{world.quarters}/statement", year=0)
    assert (statement["year_name"], statement["year_days"]) == ("2124-01-01--2124-12-31", 366)
    rows = [(r["period_name"], r["kind"], r["state"], r["royalty"], r["late"]) for r in statement["rows"]]
    assert rows == [
        ("2124-Q1", "report", "final", "80000000", True),
        ("2124-Q2", "report", "not reported", "0", True),
        ("2124-Q3", "report", "open", "0", False),
        ("2124-Q4", "report", "open", "0", False),
        ("2124-Q1", "interest", "final", "815342", False),
    ]
    interest_row = statement["rows"][-1]
    assert (interest_row["on_settlement_id"], interest_row["interest_days"], interest_row["interest_rate_bps"]) == (
        q1, 31, 1200,
    )  # fmt: skip
    assert [p["amount"] for p in interest_row["payee_parts"]] == ["440284", "293524"]
    assert statement["totals"]["royalty"] == "80815342"  # 80,000,000 + 815,342
    assert statement["totals"]["tax_withheld"] == "8081534"  # 8,000,000 + 81,534
    # Only reports and adjustments have components (8% of 1,000 USDX: all percentage); the interest
    # row has none, so the totals' components add up to the report rows' 80,000,000 without its 815,342.
    components = ("royalty_fixed_fee", "royalty_per_unit", "royalty_percentage")
    assert [tuple(r[n] for n in components) for r in (statement["rows"][0], interest_row, statement["totals"])] == [
        ("0", "0", "80000000"),
        (None, None, None),
        ("0", "0", "80000000"),
    ]


def test_statement_shows_each_contract_years_part_of_a_straddling_period(world: World) -> None:
    straddling, nil = world.ids["straddling"], world.ids["nil"]
    detail = world.get(f"/settlements/{straddling}")
    # 8% of 500 USDX sold in year 0 = 40 USDX; of 250 USDX in year 1 = 20 USDX; 60 USDX in all.
    assert [(y["year"], y["year_name"], y["gross"], y["royalty"]) for y in detail["years"]] == [
        (0, "2123-11-10--2123-12-31", "500000000", "40000000"),
        (1, "2124-01-01--2124-12-31", "250000000", "20000000"),
    ]
    assert [(b["year"], b["territory"]) for b in detail["buckets"]] == [(0, "US"), (1, "GB")]
    assert (detail["period_name"], detail["royalty"], detail["contract_year"]) == (
        "2123-11-10--2124-02-09", "60000000", 0,
    )  # fmt: skip

    year0 = world.get(f"/licences/{world.anniversary}/statement", year=0)
    assert (year0["year_name"], year0["year_days"], year0["due_at"]) == (
        "2123-11-10--2123-12-31", 52, timestamp_of(2124, 1, 31),  # a short first year, cut at the start
    )  # fmt: skip
    year1 = world.get(f"/licences/{world.anniversary}/statement", year=1)
    assert (year1["year_start"], year1["year_end"], year1["year_days"]) == (
        timestamp_of(2124, 1, 1), timestamp_of(2125, 1, 1), 366,
    )  # fmt: skip
    rows = [(r["period_name"], r["period_last_day"], r["state"], r["gross"], r["royalty"], r["period_royalty"])
            for r in year1["rows"]]  # fmt: skip
    assert rows == [
        ("2123-11-10--2124-02-09", "2124-02-09", "final", "250000000", "20000000", "60000000"),
        ("2124-02-10--2124-05-09", "2124-05-09", "nil report", "0", "0", "0"),
        ("2124-05-10--2124-08-09", "2124-08-09", "not reported", "0", "0", "0"),  # due 2124-09-09: not late yet
        ("2124-08-10--2124-11-09", "2124-11-09", "open", "0", "0", "0"),
        ("2124-11-10--2125-02-09", "2125-02-09", "open", "0", "0", "0"),  # crosses into 2125
    ]
    assert [r["settlement_id"] for r in year1["rows"][:2]] == [straddling, nil]
    assert [r["late"] for r in year1["rows"]] == [False, False, False, False, False]
    # The settlement's money divides by the years' royalty, 20 of 60 to year 1 (rounded down, the rest to
    # year 0): due floor(60,000,000 * 20/60) = 20,000,000; tax 6,000,000 -> 2,000,000; payees 32,400,000
    # and 21,600,000 -> 10,800,000 and 7,200,000.
    first = year1["rows"][0]
    assert (first["due"], first["paid"], first["tax_withheld"]) == ("20000000", "20000000", "2000000")
    assert [p["amount"] for p in first["payee_parts"]] == ["10800000", "7200000"]
    (first0,) = year0["rows"]
    assert (first0["gross"], first0["royalty"], first0["due"], first0["tax_withheld"]) == (
        "500000000", "40000000", "40000000", "4000000",
    )  # fmt: skip
    assert [p["amount"] for p in first0["payee_parts"]] == ["21600000", "14400000"]

    csv = world.client.get(f"/licences/{world.anniversary}/statement", params={"year": 1, "format": "csv"}).text
    header, nil_row = csv.splitlines()[0].split(","), csv.splitlines()[2].split(",")
    assert dict(zip(header, nil_row, strict=False))["state"] == "nil report"
    assert dict(zip(header, nil_row, strict=False))["period_name"] == "2124-02-10--2124-05-09"


def test_nil_report_settles_a_period_with_zero_sales(world: World) -> None:
    nil = world.get(f"/settlements/{world.ids['nil']}")
    assert (nil["kind"], nil["nil_report"], nil["royalty"], nil["buckets"], nil["state"]) == (
        "report", True, "0", [], "final",
    )  # fmt: skip
    # Reported on 2124-05-15, due 30 days after the period's end (2124-05-10): 2124-06-09.
    assert (nil["due_at"], nil["late"]) == (timestamp_of(2124, 6, 9), False)
    page = world.client.get(f"/ui/licences/{world.anniversary}")
    assert page.status_code == 200
    assert "nil report" in page.text and "2124-02-10--2124-05-09" in page.text
    quarters_page = world.client.get(f"/ui/licences/{world.quarters}").text
    assert "interest on #" in quarters_page and 'class="status status-late"' in quarters_page


@pytest.mark.parametrize(
    ("term", "field", "message"),
    [
        ({"contract_year_start": "02-31"}, "body.terms.term.contract_year_start", "February has at most 29 days"),
        ({"due_days": 0}, "body.terms.term.due_days", "due_days must be 1 to 365"),
        ({"period": "fortnight"}, "body.terms.term.period", "'fortnight' is not a reporting period"),
        ({"start": "2025-02-31"}, "body.terms.term.start", "2025-02-31 is not a date: February 2025 has 28 days"),
    ],
)
def test_an_impossible_calendar_rule_is_a_422_naming_the_field(
    world: World, term: dict[str, Any], field: str, message: str
) -> None:
    terms = _terms(world.chain, "2125-01-01", "quarter")
    terms["term"].update(term)
    before = world.chain.registry.licence_count()
    for path, body in (
        ("/licences/drafts", {"terms": terms}),
        ("/licences", {"terms": terms, "deadline": GENESIS + 10_000 * DAY, "licensor_signature": "0x00",
                       "licensee_signature": "0x00"}),
    ):  # fmt: skip
        answer = world.client.post(path, json=body)
        assert answer.status_code == 422, answer.text
        problems = [e for e in answer.json()["errors"] if e["field"] == field]
        assert problems and message in problems[0]["message"], answer.text
    assert world.chain.registry.licence_count() == before  # nothing was sent
