"""Returns, credits and adjustment reports end to end through the HTTP API, on the session's Anvil
and again on its Ganache (the ``node`` fixture), with the same figures.

Each test registers its own licence: 5% of net sales (``rate_bps`` 500) in US/GB apparel
retail+online, fixed 30-day periods from a start 95 days ago (periods 0, 1 and 2 have ended; all in
contract year 0), payees 60/40, 10% tax withheld, no dispute window (settlements are final at
once), escrow enough for everything. Token: 6 decimals (1 USDX = 1,000,000 units); every figure is
written out with its arithmetic, in USDX.
"""

from __future__ import annotations

from typing import Any

from apikit import USDX, Node, bucket, chain_time, fund, register, settle, synced, terms_json

from api.plugins import NoLineStore
from intake.merkle import MerkleTree
from royalty_chain.terms import DAY, Bucket


class Licence:
    """A fresh 5% licence and its reports, with the sequence numbers its oracles sign."""

    def __init__(self, node: Node) -> None:
        self.client, self.chain, self.services = node.client, node.chain, node.services
        self.id = register(self.client, terms_json(self.chain, chain_time(self.chain) - 95 * DAY,
                                                   schedule={"rate_bps": 500}))  # fmt: skip
        fund(self.chain, self.id, 1_000_000 * USDX)
        self.sequence = 0

    def report(
        self, period: int, sold: int = 0, returned: int = 0, corrects: int = 0, root: bytes = b"\x05" * 32
    ) -> int:
        """Settles ``sold`` USDX of US apparel retail sales and ``returned`` USDX of returns of them."""
        self.sequence += 1
        sales = [bucket("US", "apparel", "retail", 1, sold * USDX)] if sold else []
        returns: tuple[Bucket, ...] = (bucket("US", "apparel", "retail", 1, returned * USDX),) if returned else ()
        return settle(
            self.chain, self.id, period, sales, sequence=self.sequence, returned=returns, corrects=corrects,
            lines_root=root,
        )  # fmt: skip

    def get(self, path: str, **params: Any) -> Any:
        synced(self.services)
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def on_chain(self, view: str, *args: int) -> int:
        """A ledger view (creditOf, latestOfPeriod), to check the index against the chain."""
        return int(getattr(self.chain.ledger.contract.functions, view)(self.id, *args).call())

    def statement(self) -> dict[str, Any]:
        return self.get(f"/licences/{self.id}/statement", year=0)  # type: ignore[no-any-return]


def usdx(amount: int) -> str:
    return str(amount * USDX)


def _figures(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
    return tuple(row[n] for n in names)


MONEY = ("gross", "returned_gross", "net", "royalty", "credit_carried", "credit_applied", "recouped", "due")


def test_returns_net_against_the_periods_sales(node: Node) -> None:
    licence = Licence(node)
    settlement_id = licence.report(0, sold=100_000, returned=20_000)
    detail = licence.get(f"/settlements/{settlement_id}")
    # (100,000 - 20,000) x 5% = 4,000
    assert (detail["kind"], detail["royalty"], detail["priced"], detail["due"], detail["paid"]) == (
        "report", usdx(4_000), usdx(4_000), usdx(4_000), usdx(4_000),
    )  # fmt: skip
    assert (detail["gross"], detail["returned_gross"], detail["returned_net_in_scope"]) == (
        usdx(100_000), usdx(20_000), usdx(20_000),
    )  # fmt: skip
    assert detail["returns"] == [
        {"year": 0, "territory": "US", "field": "apparel", "channel": "retail", "units": "1",
         "gross": usdx(20_000), "deductions": "0", "net": usdx(20_000), "in_scope": True},
    ]  # fmt: skip
    assert (detail["credit_carried"], detail["credit_applied"], detail["corrects"], detail["nil_report"]) == (
        "0", "0", None, False,
    )  # fmt: skip
    (year,) = detail["years"]
    assert _figures(year, "tier_net", "royalty", "net_in_scope", "returned_net_in_scope", "net") == (
        usdx(80_000), usdx(4_000), usdx(100_000), usdx(20_000), usdx(80_000),
    )  # fmt: skip
    row = licence.statement()["rows"][0]
    assert _figures(row, "kind", "settlement_id", *MONEY) == (
        "report", settlement_id, usdx(100_000), usdx(20_000), usdx(80_000), usdx(4_000), "0", "0", "0", usdx(4_000),
    )  # fmt: skip
    # 10% of 4,000 withheld = 400; the 3,600 left is split 60/40: 2,160 and 1,440
    assert row["tax_withheld"] == usdx(400)
    assert [p["amount"] for p in row["payee_parts"]] == [usdx(2_160), usdx(1_440)]
    assert licence.get(f"/licences/{licence.id}")["credit"] == "0"


def test_a_negative_period_carries_a_credit_to_the_next_royalty(node: Node) -> None:
    licence = Licence(node)
    first = licence.report(0, sold=100_000)  # 100,000 x 5% = 5,000
    negative = licence.report(1, sold=10_000, returned=30_000)
    # (10,000 - 30,000) x 5% = -1,000: royalty 0, nothing drawn or paid back, 1,000 carried
    detail = licence.get(f"/settlements/{negative}")
    assert _figures(detail, "royalty", "priced", "credit_carried", "due", "paid", "released") == (
        "0", usdx(-1_000), usdx(1_000), "0", "0", "0",
    )  # fmt: skip
    assert _figures(detail["years"][0], "tier_net", "royalty", "net") == (usdx(-20_000), usdx(-1_000), usdx(-20_000))
    body = licence.get(f"/licences/{licence.id}")
    assert (body["credit"], body["totals"]["credit_carried"], body["totals"]["credit_applied"]) == (
        usdx(1_000), usdx(1_000), "0",
    )  # fmt: skip
    assert body["credit"] == str(licence.on_chain("creditOf"))
    released_before = body["totals"]["released"]
    assert released_before == usdx(5_000)  # the credit took nothing back from the payees

    applied = licence.report(2, sold=40_000)
    # 40,000 x 5% = 2,000, of which the 1,000 credit pays 1,000: 1,000 drawn
    detail = licence.get(f"/settlements/{applied}")
    assert _figures(detail, "royalty", "credit_applied", "recouped", "advance_recouped", "due", "paid") == (
        usdx(2_000), usdx(1_000), usdx(1_000), "0", usdx(1_000), usdx(1_000),
    )  # fmt: skip
    body = licence.get(f"/licences/{licence.id}")
    assert (body["credit"], body["totals"]["credit_carried"], body["totals"]["credit_applied"]) == (
        "0", usdx(1_000), usdx(1_000),
    )  # fmt: skip
    # royalty 5,000 + 0 + 2,000 = 7,000; due 5,000 + 0 + 1,000 = 6,000
    assert (body["totals"]["royalty"], body["totals"]["due"]) == (usdx(7_000), usdx(6_000))
    page = licence.get(f"/licences/{licence.id}/settlements")["items"]
    assert [(s["id"], s["credit_carried"], s["credit_applied"]) for s in page] == [
        (applied, "0", usdx(1_000)), (negative, usdx(1_000), "0"), (first, "0", "0"),
    ]  # fmt: skip
    periods = licence.get(f"/licences/{licence.id}/periods", size=3)["items"]
    assert [(p["settlement_id"], p["state"], p["royalty"], p["net_royalty"]) for p in periods] == [
        (first, "reported", usdx(5_000), usdx(5_000)),
        (negative, "reported", "0", usdx(-1_000)),
        (applied, "reported", usdx(2_000), usdx(2_000)),
    ]

    statement = licence.statement()
    assert [_figures(r, "settlement_id", *MONEY) for r in statement["rows"][:3]] == [
        (first, usdx(100_000), "0", usdx(100_000), usdx(5_000), "0", "0", "0", usdx(5_000)),
        (negative, usdx(10_000), usdx(30_000), usdx(-20_000), usdx(-1_000), usdx(1_000), "0", "0", "0"),
        (applied, usdx(40_000), "0", usdx(40_000), usdx(2_000), "0", usdx(1_000), usdx(1_000), usdx(1_000)),
    ]
    totals = statement["totals"]
    # royalty 5,000 - 1,000 + 2,000 = 6,000 (what the year earned, net of returns); due 5,000 + 1,000 =
    # 6,000; tax 10% of the 6,000 paid = 600; payees 60/40 of 5,400
    assert _figures(totals, *MONEY, "tax_withheld") == (
        usdx(150_000), usdx(30_000), usdx(120_000), usdx(6_000), usdx(1_000), usdx(1_000), usdx(1_000),
        usdx(6_000), usdx(600),
    )  # fmt: skip
    assert [p["amount"] for p in totals["payee_parts"]] == [usdx(3_240), usdx(2_160)]


def test_an_adjustment_adds_lines_to_a_settled_period(node: Node) -> None:
    licence = Licence(node)
    original = licence.report(0, sold=100_000, root=b"\x0a" * 32)  # 100,000 x 5% = 5,000
    adjustment = licence.report(0, sold=10_000, corrects=original, root=b"\x0b" * 32)  # +10,000 x 5% = +500
    detail = licence.get(f"/settlements/{adjustment}")
    assert _figures(detail, "kind", "corrects", "corrected_by", "period", "royalty", "priced", "due", "paid") == (
        "adjustment", original, None, 0, usdx(500), usdx(500), usdx(500), usdx(500),
    )  # fmt: skip
    assert detail["period_name"] == licence.get(f"/settlements/{original}")["period_name"]
    assert licence.get(f"/settlements/{original}")["corrected_by"] == adjustment

    history = licence.get(f"/licences/{licence.id}/periods/0/history")
    assert (history["latest_settlement_id"], history["adjustments"]) == (adjustment, 1)
    assert [
        _figures(e, "settlement_id", "kind", "corrects", "corrected_by", "sequence", "lines_root", "sales_net",
                 "returns_net", "net", "priced", "royalty")
        for e in history["entries"]
    ] == [
        (original, "report", None, adjustment, 1, "0x" + "0a" * 32, usdx(100_000), "0", usdx(100_000), usdx(5_000),
         usdx(5_000)),
        (adjustment, "adjustment", original, None, 2, "0x" + "0b" * 32, usdx(10_000), "0", usdx(10_000), usdx(500),
         usdx(500)),
    ]  # fmt: skip
    assert (history["net_royalty"], history["royalty"]) == (usdx(5_500), usdx(5_500))  # 5,000 + 500
    (period,) = licence.get(f"/licences/{licence.id}/periods", size=1)["items"]
    assert _figures(period, "settlement_id", "latest_settlement_id", "adjustments", "royalty", "net_royalty") == (
        original, adjustment, 1, usdx(5_000), usdx(5_500),
    )  # fmt: skip

    statement = licence.statement()
    assert [_figures(r, "period", "kind", "settlement_id", "corrects", "royalty") for r in statement["rows"][:3]] == [
        (0, "report", original, None, usdx(5_000)),
        (0, "adjustment", adjustment, original, usdx(500)),
        (1, "report", None, None, "0"),
    ]
    # 5,000 + 500 = 5,500; tax 550; payees 60/40 of 4,950: 2,970 and 1,980
    totals = statement["totals"]
    assert _figures(totals, "royalty", "due", "paid", "tax_withheld") == (usdx(5_500), usdx(5_500), usdx(5_500),
                                                                          usdx(550))  # fmt: skip
    assert [p["amount"] for p in totals["payee_parts"]] == [usdx(2_970), usdx(1_980)]
    csv = node.client.get(f"/licences/{licence.id}/statement", params={"year": 0, "format": "csv"}).text.splitlines()
    header = csv[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in csv[1:]]
    assert [(r["kind"], r["settlement_id"], r["corrects"], r["royalty"]) for r in rows[:2]] == [
        ("report", str(original), "", usdx(5_000)), ("adjustment", str(adjustment), str(original), usdx(500)),
    ]  # fmt: skip
    assert (rows[-1]["kind"], rows[-1]["royalty"], rows[-1]["credit_carried"]) == ("total", usdx(5_500), "0")


def test_a_chain_of_two_adjustments(node: Node) -> None:
    licence = Licence(node)
    original = licence.report(0, sold=100_000)  # 5,000
    first = licence.report(0, sold=10_000, corrects=original)  # +10,000 x 5% = +500
    # the 10,000 line replaced by 12,000: 10,000 cancelled (returned), 12,000 added: +2,000 x 5% = +100
    second = licence.report(0, sold=12_000, returned=10_000, corrects=first)
    history = licence.get(f"/licences/{licence.id}/periods/0/history")
    assert (history["latest_settlement_id"], history["adjustments"]) == (second, 2)
    assert second == licence.on_chain("latestOfPeriod", 0)
    assert [
        _figures(e, "settlement_id", "corrects", "corrected_by", "sales_net", "returns_net", "net", "priced")
        for e in history["entries"]
    ] == [
        (original, None, first, usdx(100_000), "0", usdx(100_000), usdx(5_000)),
        (first, original, second, usdx(10_000), "0", usdx(10_000), usdx(500)),
        (second, first, None, usdx(12_000), usdx(10_000), usdx(2_000), usdx(100)),
    ]
    # 5,000 + 500 + 100 = 5,600
    assert (history["net_royalty"], history["royalty"], history["credit_carried"]) == (usdx(5_600), usdx(5_600), "0")
    second_detail = licence.get(f"/settlements/{second}")
    assert [(r["gross"], r["in_scope"]) for r in second_detail["returns"]] == [(usdx(10_000), True)]
    assert [(b["gross"], b["in_scope"]) for b in second_detail["buckets"]] == [(usdx(12_000), True)]

    statement = licence.statement()
    assert [_figures(r, "kind", "settlement_id", "corrects", "returned_gross", "net", "royalty")
            for r in statement["rows"][:3]] == [
        ("report", original, None, "0", usdx(100_000), usdx(5_000)),
        ("adjustment", first, original, "0", usdx(10_000), usdx(500)),
        ("adjustment", second, first, usdx(10_000), usdx(2_000), usdx(100)),
    ]  # fmt: skip
    # royalty and due 5,600; tax 560; payees 60/40 of 5,040: 3,024 and 2,016
    totals = statement["totals"]
    assert _figures(totals, "royalty", "due", "tax_withheld") == (usdx(5_600), usdx(5_600), usdx(560))
    assert [p["amount"] for p in totals["payee_parts"]] == [usdx(3_024), usdx(2_016)]


def test_a_downward_adjustment_is_a_credit(node: Node) -> None:
    licence = Licence(node)
    original = licence.report(0, sold=100_000)  # 5,000
    downward = licence.report(0, returned=30_000, corrects=original)  # 30,000 of lines cancelled: -1,500
    detail = licence.get(f"/settlements/{downward}")
    assert _figures(detail, "kind", "corrects", "royalty", "priced", "credit_carried", "due", "nil_report") == (
        "adjustment", original, "0", usdx(-1_500), usdx(1_500), "0", False,
    )  # fmt: skip
    body = licence.get(f"/licences/{licence.id}")
    assert (body["credit"], body["totals"]["released"]) == (usdx(1_500), usdx(5_000))  # nothing clawed back
    assert body["credit"] == str(licence.on_chain("creditOf"))
    history = licence.get(f"/licences/{licence.id}/periods/0/history")
    assert [_figures(e, "kind", "returns_net", "net", "priced", "royalty", "credit_carried")
            for e in history["entries"]] == [
        ("report", "0", usdx(100_000), usdx(5_000), usdx(5_000), "0"),
        ("adjustment", usdx(30_000), usdx(-30_000), usdx(-1_500), "0", usdx(1_500)),
    ]  # fmt: skip
    assert (history["net_royalty"], history["royalty"], history["credit_carried"]) == (
        usdx(3_500), usdx(5_000), usdx(1_500),  # 5,000 - 1,500; 5,000 charged; 1,500 carried
    )  # fmt: skip

    later = licence.report(1, sold=100_000)  # 100,000 x 5% = 5,000, less the 1,500 credit: 3,500 drawn
    detail = licence.get(f"/settlements/{later}")
    assert _figures(detail, "royalty", "credit_applied", "recouped", "due", "paid") == (
        usdx(5_000), usdx(1_500), usdx(1_500), usdx(3_500), usdx(3_500),
    )  # fmt: skip
    assert licence.get(f"/licences/{licence.id}")["credit"] == "0"
    statement = licence.statement()
    assert [_figures(r, "kind", "settlement_id", "corrects", *MONEY) for r in statement["rows"][:3]] == [
        ("report", original, None, usdx(100_000), "0", usdx(100_000), usdx(5_000), "0", "0", "0", usdx(5_000)),
        ("adjustment", downward, original, "0", usdx(30_000), usdx(-30_000), usdx(-1_500), usdx(1_500), "0", "0",
         "0"),
        ("report", later, None, usdx(100_000), "0", usdx(100_000), usdx(5_000), "0", usdx(1_500), usdx(1_500),
         usdx(3_500)),
    ]  # fmt: skip
    # royalty 5,000 - 1,500 + 5,000 = 8,500 = due 5,000 + 0 + 3,500; tax 850; payees 60/40 of 7,650
    totals = statement["totals"]
    assert _figures(totals, "royalty", "credit_carried", "credit_applied", "due", "paid", "tax_withheld") == (
        usdx(8_500), usdx(1_500), usdx(1_500), usdx(8_500), usdx(8_500), usdx(850),
    )  # fmt: skip
    assert [p["amount"] for p in totals["payee_parts"]] == [usdx(4_590), usdx(3_060)]


class _TwoReports:
    """A line store over a period's original report and one adjustment, each its own Merkle tree."""

    configured = True

    def __init__(self, licence_id: int, original: list[str], adjustment: list[str]) -> None:
        self.licence_id = licence_id
        self.leaves = {line: bytes([i + 1]) * 32 for i, line in enumerate(original + adjustment)}
        self.original = MerkleTree([self.leaves[line] for line in original])
        self.adjustment = MerkleTree([self.leaves[line] for line in adjustment])
        self.in_adjustment = set(adjustment)

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        if licence_id != self.licence_id or period != 0 or line_id not in self.leaves:
            return None
        leaf = self.leaves[line_id]
        tree = self.adjustment if line_id in self.in_adjustment else self.original
        return {"line_id": line_id}, leaf, tree.proof(leaf)


def test_line_proofs_use_the_root_of_the_report_that_carried_the_line(node: Node) -> None:
    licence = Licence(node)
    store = _TwoReports(licence.id, ["L-1", "L-2", "L-3"], ["L-4", "L-5"])
    original = licence.report(0, sold=100_000, root=store.original.root)
    adjustment = licence.report(0, sold=10_000, corrects=original, root=store.adjustment.root)
    synced(node.services)
    node.services.line_store = store
    try:
        proof = licence.get(f"/settlements/{adjustment}/lines/L-5/proof")
        assert _figures(proof, "settlement_id", "kind", "corrects", "lines_root", "verified") == (
            adjustment, "adjustment", original, "0x" + store.adjustment.root.hex(), True,
        )  # fmt: skip
        proof = licence.get(f"/settlements/{original}/lines/L-2/proof")
        assert _figures(proof, "settlement_id", "kind", "lines_root") == (
            original, "report", "0x" + store.original.root.hex(),
        )  # fmt: skip
        # asked of the other report of the period: not found there, and the answer names the carrier
        wrong = node.client.get(f"/settlements/{original}/lines/L-4/proof")
        assert wrong.status_code == 404 and f"settlement {adjustment} (adjustment) carried it" in wrong.json()["detail"]
        wrong = node.client.get(f"/settlements/{adjustment}/lines/L-1/proof")
        assert wrong.status_code == 404 and f"settlement {original} (report) carried it" in wrong.json()["detail"]
        # by period: whichever report carried it
        for line, carrier in (("L-1", original), ("L-4", adjustment)):
            assert licence.get(f"/licences/{licence.id}/periods/0/lines/{line}/proof")["settlement_id"] == carrier
        assert node.client.get(f"/licences/{licence.id}/periods/1/lines/L-1/proof").status_code == 404
    finally:
        node.services.line_store = NoLineStore()


def test_dashboard_shows_the_period_history_and_the_credit(node: Node) -> None:
    licence = Licence(node)
    original = licence.report(0, sold=100_000)  # 5,000
    downward = licence.report(0, returned=30_000, corrects=original)  # -1,500, carried
    synced(node.services)
    page = node.client.get(f"/ui/licences/{licence.id}")
    assert page.status_code == 200, page.text
    assert 'id="credit">1,500.00 USDX<' in page.text
    assert "1,500.00 USDX carried, 0.00 USDX used against royalties" in page.text
    assert f'<a href="/ui/licences/{licence.id}/periods/0">1 adjustment</a>' in page.text
    assert f"adjustment of #{original}</a>" in page.text and f"(corrected by #{downward})" in page.text
    history = node.client.get(f"/ui/licences/{licence.id}/periods/0")
    assert history.status_code == 200, history.text
    text = " ".join(history.text.split())
    assert 'id="net-royalty">3,500.00 USDX<' in text  # 5,000 - 1,500
    assert 'id="credit-carried">1,500.00 USDX<' in text
    assert f"adjustment of #{original}" in text and f"(corrected by #{downward})" in text
    # the adjustment's row: no sales, 30,000 returned, net -30,000, difference -1,500, charged 0, 1,500 carried
    assert (
        '<td class="num">0.00 USDX</td><td class="num">30,000.00 USDX</td><td class="num">-30,000.00 USDX</td> '
        '<td class="num">-1,500.00 USDX</td><td class="num">0.00 USDX</td> <td class="num">1,500.00 USDX</td>'
    ) in text
    assert node.client.get(f"/ui/licences/{licence.id}/periods/99999").status_code == 404
