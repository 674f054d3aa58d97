"""Each period's royalty by component (fixed fee, per-unit amount, percentage part), as a licensor
checks a statement by hand against the licence, through the HTTP API on the session's Anvil and
again on its Ganache (the ``node`` fixture), with the same figures.

Token: 6 decimals (1 USDX = 1,000,000 units); 30-day periods; scope US/GB apparel (and, in the
tiers licence, model-training) retail+online; payees 60/40, 10% tax, no dispute window. Every
figure is written out with its arithmetic, in USDX. The components always add up to the chain's
own per-year figure: the percentage part is that figure minus the fixed fee and the per-unit
amount, so it takes the rounding down of the year's percentage numerator.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from apikit import USDX, Node, bucket, chain_time, fund, register, settle, synced, terms_json

from royalty_chain.terms import DAY, Bucket

COMPONENTS = ("royalty_fixed_fee", "royalty_per_unit", "royalty_percentage", "royalty")


def usdx(amount: str | int) -> str:
    """``usdx("-0.25")`` -> "-250000": a decimal USDX amount in token units, as the API writes it."""
    return str(int(Decimal(str(amount)) * USDX))


class Licence:
    def __init__(self, node: Node, days_ago: int, **terms: Any) -> None:
        self.client, self.chain, self.services = node.client, node.chain, node.services
        self.id = register(self.client, terms_json(self.chain, chain_time(self.chain) - days_ago * DAY, **terms))
        fund(self.chain, self.id, 1_000_000 * USDX)
        self.sequence = 0

    def report(self, period: int, sold: list[Bucket], returned: tuple[Bucket, ...] = (), corrects: int = 0) -> int:
        self.sequence += 1
        return settle(self.chain, self.id, period, sold, sequence=self.sequence, returned=returned,
                      corrects=corrects, lines_root=bytes([self.sequence]) * 32)  # fmt: skip

    def get(self, path: str, **params: Any) -> Any:
        synced(self.services)
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def statement(self, year: int) -> dict[str, Any]:
        return self.get(f"/licences/{self.id}/statement", year=year)  # type: ignore[no-any-return]

    def csv(self, year: int) -> list[dict[str, str]]:
        synced(self.services)
        answer = self.client.get(f"/licences/{self.id}/statement", params={"year": year, "format": "csv"})
        assert answer.status_code == 200, answer.text
        return list(csv.DictReader(io.StringIO(answer.text)))

    def page_rows(self, year: int) -> dict[str, str]:
        """The dashboard's statement table: each row's text by its id (statement-row-<settlement>)."""
        synced(self.services)
        answer = self.client.get(f"/ui/licences/{self.id}/statement", params={"year": year})
        assert answer.status_code == 200, answer.text
        found = re.findall(r'<tr[^>]*id="(statement-[^"]+)"[^>]*>(.*?)</tr>', answer.text, re.S)
        return {key: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for key, body in found}


def _by_settlement(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["settlement_id"]: r for r in rows if r["settlement_id"] is not None}


def _components(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[n] for n in COMPONENTS)


def test_fixed_fee_per_unit_and_percentage_of_reports_returns_and_an_adjustment(node: Node) -> None:
    # Fixed fee 100.00 per period, 0.25 per unit, 5% of net sales; periods 0, 1 and 2 have ended.
    licence = Licence(node, 95, schedule={
        "fixed_fee_per_period": 100 * USDX, "per_unit": 250_000, "rate_bps": 500,
    })  # fmt: skip
    # Period 0: 1,000 units, 42,000.00 gross - 2,000.00 deductions = 40,000.00 net in the scope; 500 units
    # sold in FR, outside it, earn nothing (not even per unit).
    sold = licence.report(0, [bucket("US", "apparel", "retail", 1_000, 42_000 * USDX, 2_000 * USDX),
                              bucket("FR", "apparel", "retail", 500, 10_000 * USDX)])  # fmt: skip
    # fixed 100.00 + per unit 1,000 x 0.25 = 250.00 + 5% of 40,000.00 = 2,000.00 -> 2,350.00
    expected_sold = (usdx(100), usdx(250), usdx(2_000), usdx(2_350))
    # Period 1: only a return of 200 units / 8,000.00 (of period 0's sales): fixed 100.00, per unit
    # -200 x 0.25 = -50.00, percentage -5% of 8,000.00 = -400.00 -> -350.00 (a credit of 350.00 carried).
    returned = licence.report(1, [], returned=(bucket("US", "apparel", "retail", 200, 8_000 * USDX),))
    expected_returned = (usdx(100), usdx(-50), usdx(-400), usdx(-350))
    # Period 2: a nil report still pays the fixed fee: 100.00 + 0 + 0.
    nil = licence.report(2, [])
    expected_nil = (usdx(100), "0", "0", usdx(100))
    # An adjustment of period 0 adds 100 units / 4,000.00 and cancels a line of 40 units / 1,000.00: no
    # fixed fee again; per unit (100 - 40) x 0.25 = 15.00; 5% of (4,000.00 - 1,000.00) = 150.00 -> 165.00.
    adjustment = licence.report(
        0, [bucket("GB", "apparel", "online", 100, 4_000 * USDX)],
        returned=(bucket("US", "apparel", "retail", 40, 1_000 * USDX),), corrects=sold,
    )  # fmt: skip
    expected_adjustment = ("0", usdx(15), usdx(150), usdx(165))

    statement = licence.statement(0)
    rows = _by_settlement(statement["rows"])
    assert _components(rows[sold]) == expected_sold
    assert _components(rows[returned]) == expected_returned
    assert _components(rows[nil]) == expected_nil
    assert _components(rows[adjustment]) == expected_adjustment
    assert (rows[returned]["returned_units"], rows[returned]["credit_carried"]) == ("200", usdx(350))
    assert rows[sold]["units"] == "1500"  # the row counts every unit sold; only 1,000 are in the scope
    unreported = statement["rows"][4]
    assert (unreported["settlement_id"], unreported["state"], _components(unreported)) == (
        None, "open", ("0", "0", "0", "0"),
    )  # fmt: skip
    # Totals: fixed 100 + 100 + 100 = 300.00; per unit 250 - 50 + 0 + 15 = 215.00; percentage
    # 2,000 - 400 + 0 + 150 = 1,750.00; royalty 2,350 - 350 + 100 + 165 = 2,265.00 = 300 + 215 + 1,750.
    assert _components(statement["totals"]) == (usdx(300), usdx(215), usdx(1_750), usdx(2_265))
    assert "by component" in statement["split_rule"]

    # Settlement detail: the priced total by component, and per contract year.
    detail = licence.get(f"/settlements/{returned}")
    assert (detail["royalty"], detail["priced"]) == ("0", usdx(-350))
    assert tuple(detail[n] for n in COMPONENTS[:3]) == expected_returned[:3]
    assert [_components(y) for y in detail["years"]] == [expected_returned]
    detail = licence.get(f"/settlements/{adjustment}")
    assert (detail["kind"], *(detail[n] for n in COMPONENTS[:3]), detail["priced"]) == (
        "adjustment", *expected_adjustment,
    )  # fmt: skip

    # CSV: the three columns appended after the others (the payee columns come last).
    table = licence.csv(0)
    header = list(table[0])
    assert header[header.index("credit_applied") + 1 : header.index("credit_applied") + 4] == list(COMPONENTS[:3])
    # then the reserve and audit columns, the schedule version that priced the row, then the payees
    assert header[header.index("royalty_percentage") + 1] == "reserve_held"
    assert header[header.index("audit_cost") + 1] == "schedule_version"
    assert header[header.index("schedule_version") + 1].startswith("payee:")
    by_id = {r["settlement_id"]: r for r in table}
    assert tuple(by_id[str(sold)][n] for n in COMPONENTS) == expected_sold
    assert tuple(by_id[str(returned)][n] for n in COMPONENTS) == expected_returned
    assert (table[4]["period"], *(table[4][n] for n in COMPONENTS)) == ("3", "0", "0", "0", "0")  # not reported
    assert tuple(table[-1][n] for n in COMPONENTS) == (usdx(300), usdx(215), usdx(1_750), usdx(2_265))

    # The dashboard's statement table: fixed fee, per unit, percentage, royalty in that order.
    page = licence.page_rows(0)
    assert "100.00 USDX 250.00 USDX 2,000.00 USDX 2,350.00 USDX" in page[f"statement-row-{sold}"]
    assert "100.00 USDX -50.00 USDX -400.00 USDX -350.00 USDX" in page[f"statement-row-{returned}"]
    assert "0.00 USDX 15.00 USDX 150.00 USDX 165.00 USDX" in page[f"statement-row-{adjustment}"]
    assert "300.00 USDX 215.00 USDX 1,750.00 USDX 2,265.00 USDX" in page["statement-totals"]
    licence_page = node.client.get(f"/ui/licences/{licence.id}")
    assert f"/ui/licences/{licence.id}/statement?year=0" in licence_page.text


def test_tiers_field_rates_and_a_period_crossing_the_contract_year(node: Node) -> None:
    # Fixed fee 50.00 per period, 0.10 per unit, marginal tiers per contract year of 5% up to 10,000.00
    # and 10% above, model-training at its own 20%. The start 400 days ago: contract year 0 is days
    # 0..365, period 11 is days 330..360, period 12 days 360..390 (it crosses into year 1).
    licence = Licence(
        node, 400,
        scope={"territories": ["US", "GB"], "fields": ["apparel", "model-training"], "channels": ["retail", "online"]},
        schedule={"fixed_fee_per_period": 50 * USDX, "per_unit": 100_000,
                  "tiers": [{"threshold": 0, "rate_bps": 500}, {"threshold": 10_000 * USDX, "rate_bps": 1_000}],
                  "field_rates": [{"field": "model-training", "rate_bps": 2_000}]},
    )  # fmt: skip
    # Period 11: 400 units, 8,500.00 - 500.00 = 8,000.00 net, the slice 0..8,000 of year 0 at 5% = 400.00;
    # per unit 400 x 0.10 = 40.00; fixed 50.00 -> 490.00.
    p11 = licence.report(11, [bucket("US", "apparel", "retail", 400, 8_500 * USDX, 500 * USDX)])
    # Period 12, year 0: 300 units / 6,000.00 of apparel, 10 units / 1,000.00 of model-training, and a
    # return of 50 units / 1,000.00 of apparel. Tier-priced increase 6,000 - 1,000 = 5,000.00 on the
    # year's 8,000.00: the slice 8,000..10,000 at 5% = 100.00 and 10,000..13,000 at 10% = 300.00; plus
    # model-training 20% of 1,000.00 = 200.00: percentage 600.00. Per unit (300 + 10 - 50) x 0.10 = 26.00;
    # the period's fixed fee 50.00 (its first year's) -> 676.00.
    # Year 1: 200 units / 3,000.000007 of apparel, the slice 0..3,000.000007 of year 1 at 5% =
    # 150.00000035, rounded down to 150.00 (the rounding is the percentage part's); per unit 20.00;
    # no fixed fee -> 170.00.
    p12 = licence.report(
        12,
        [bucket("US", "apparel", "online", 300, 6_000 * USDX, year=0),
         bucket("GB", "model-training", "retail", 10, 1_000 * USDX, year=0),
         bucket("US", "apparel", "retail", 200, 3_000 * USDX + 7, year=1)],
        returned=(bucket("US", "apparel", "retail", 50, 1_000 * USDX, year=0),),
    )  # fmt: skip
    # An adjustment of period 11 cancels 50 units / 1,000.00: a decrease of year 0's tier-priced sales,
    # now 13,000.00, off the slice below it, 12,000..13,000 at 10% = -100.00; per unit -50 x 0.10 = -5.00;
    # no fixed fee -> -105.00.
    adjustment = licence.report(11, [], returned=(bucket("US", "apparel", "retail", 50, 1_000 * USDX),),
                                corrects=p11)  # fmt: skip

    detail = licence.get(f"/settlements/{p12}")
    assert [(y["year"], *_components(y)) for y in detail["years"]] == [
        (0, usdx(50), usdx(26), usdx(600), usdx(676)),
        (1, "0", usdx(20), usdx(150), usdx(170)),
    ]
    # The whole period: 50.00 + 46.00 + 750.00 = 846.00, its priced total and royalty.
    assert tuple(detail[n] for n in (*COMPONENTS[:3], "priced", "royalty")) == (
        usdx(50), usdx(46), usdx(750), usdx(846), usdx(846),
    )  # fmt: skip

    year0 = _by_settlement(licence.statement(0)["rows"])
    assert _components(year0[p11]) == (usdx(50), usdx(40), usdx(400), usdx(490))
    assert _components(year0[adjustment]) == ("0", usdx(-5), usdx(-100), usdx(-105))
    assert _components(year0[p12]) == (usdx(50), usdx(26), usdx(600), usdx(676))
    year1 = licence.statement(1)
    assert _components(_by_settlement(year1["rows"])[p12]) == ("0", usdx(20), usdx(150), usdx(170))
    # Year 0's totals: fixed 50 + 0 + 50 = 100.00; per unit 40 - 5 + 26 = 61.00; percentage
    # 400 - 100 + 600 = 900.00; royalty 490 - 105 + 676 = 1,061.00.
    assert _components(licence.statement(0)["totals"]) == (usdx(100), usdx(61), usdx(900), usdx(1_061))
    assert _components(year1["totals"]) == ("0", usdx(20), usdx(150), usdx(170))
    page = licence.page_rows(1)
    assert "0.00 USDX 20.00 USDX 150.00 USDX 170.00 USDX" in page[f"statement-row-{p12}"]
