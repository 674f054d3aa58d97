"""Bad input gets a problem document naming the field; operators' feeds are validated line by line;
line proofs are verified against the on-chain root."""

from __future__ import annotations

import json
from typing import Any

import pytest
from apikit import OPERATOR_TOKEN, USDX, bucket, chain_time, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from intake.merkle import MerkleTree, leaf_fast
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.terms import DAY


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["type"].startswith("/problems/") and body["title"]
    return body


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/licences/999999", 404),
        ("/settlements/999999", 404),
        ("/licences/0", 422),
        ("/licences/" + "9" * 100, 422),
        ("/licences/abc", 404),
        ("/parties/0x123", 422),
        ("/parties/0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 422),  # bad checksum
        ("/licences?size=100000", 422),
        ("/licences/1/statement?year=-1", 422),
        ("/nowhere", 404),
    ],
)
def test_bad_requests_are_problems(client: TestClient, path: str, status: int) -> None:
    _problem(client.get(path), status)


def test_field_errors_name_the_field(client: TestClient, chain: Chain) -> None:
    terms = terms_json(chain, chain_time(chain))
    terms["scope"]["territories"] = ["US", "XX"]
    body = _problem(client.post("/licences/drafts", json={"terms": terms}), 422)
    assert body["errors"][0]["field"] == "body.terms.scope.territories"
    assert "XX" in body["errors"][0]["message"]

    terms = terms_json(chain, chain_time(chain), advance=str(2**200))
    body = _problem(client.post("/licences/drafts", json={"terms": terms}), 422)
    assert body["errors"][0]["field"] == "body.terms.advance"

    terms = terms_json(chain, chain_time(chain), token="NOPE")
    body = _problem(client.post("/licences/drafts", json={"terms": terms}), 422)
    assert body["errors"][0]["field"] == "terms.token"

    body = _problem(
        client.post("/licences/drafts", content=b"{not json", headers={"content-type": "application/json"}), 422
    )
    assert body["errors"]
    _problem(client.post("/licences/drafts", content=b"a,b", headers={"content-type": "text/csv"}), 422)


def test_feed_upload_needs_the_operator_token(client: TestClient) -> None:
    feed = b"line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
    _problem(client.post("/feeds", content=feed, headers={"content-type": "text/csv"}), 401)
    _problem(
        client.post("/feeds", content=feed, headers={"content-type": "text/csv", "authorization": "Bearer wrong"}),
        403,
    )


def test_feed_lines_are_validated_one_by_one(client: TestClient, chain: Chain, services: Services) -> None:
    start = chain_time(chain) - 40 * DAY
    licence_id = register(client, terms_json(chain, start))
    synced(services)
    from datetime import UTC, datetime

    day = datetime.fromtimestamp(start + DAY, UTC).date().isoformat()
    feed = (
        "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
        f"A-1,{licence_id},{day},US,apparel,retail,2,19.98,0,USD\n"
        f"A-2,{licence_id},{day},US,apparel,retail,1,abc,0,USD\n"
        f"A-3,{licence_id},{day},FR,apparel,online,1,5,0,USD\n"
        f"A-4,999999,{day},US,apparel,retail,1,5,0,USD\n"
    ).encode()
    headers = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    answer = client.post("/feeds", content=feed, headers={**headers, "content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["valid"], body["rejected"], body["out_of_scope"]) == (2, 2, 1)
    by_line = {r["line_number"]: r for r in body["results"]}
    assert by_line[2]["status"] == "valid" and by_line[2]["period"] == 0 and by_line[2]["in_scope"] is True
    assert by_line[3]["status"] == "rejected" and by_line[3]["field"] == "gross"
    assert by_line[4]["in_scope"] is False
    assert by_line[5]["field"] == "licence_id"
    assert body["sink"]["stored"] == 0 and body["sink"]["configured"] is False

    line = {
        "line_id": "J-1", "licence_id": licence_id, "sale_date": day, "territory": "GB", "field": "apparel",
        "channel": "online", "units": 1, "gross": "10", "deductions": "0", "currency": "USD",
    }  # fmt: skip
    jsonl = (json.dumps(line) + "\n").encode()
    answer = client.post("/feeds", files={"file": ("feed.jsonl", jsonl, "application/octet-stream")}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["format"] == "jsonl" and answer.json()["valid"] == 1
    _problem(client.post("/feeds", content=b"x", headers={**headers, "content-type": "image/png"}), 415)


class _TreeStore:
    """A LineStore over one in-memory report's lines."""

    configured = True

    def __init__(self, licence_id: int, lines: list[dict[str, Any]], leaves: list[bytes]) -> None:
        self.licence_id = licence_id
        self.lines = {line["line_id"]: (line, leaf) for line, leaf in zip(lines, leaves, strict=True)}
        self.tree = MerkleTree(leaves)
        self.tamper = False

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        if licence_id != self.licence_id or line_id not in self.lines:
            return None
        line, leaf = self.lines[line_id]
        proof = self.tree.proof(leaf)
        return line, leaf, ([b"\x00" * 32, *proof] if self.tamper else proof)


def test_line_proofs_are_checked_against_the_reported_root(
    client: TestClient, chain: Chain, services: Services
) -> None:
    start = chain_time(chain) - 31 * DAY
    licence_id = register(client, terms_json(chain, start))
    fund(chain, licence_id, 10 * USDX)
    day = start - start % DAY + DAY
    lines = [
        {"line_id": f"L-{i}", "sale_day": day, "territory": "US", "field": "apparel", "channel": "retail",
         "units": 1, "gross": 1_000_000 * i, "deductions": 0}
        for i in range(1, 6)
    ]  # fmt: skip
    leaves = [
        leaf_fast(x["line_id"], licence_id.to_bytes(32, "big"), 0, x["sale_day"], territory_index("US"),
                  field_index("apparel"), channel_index("retail"), 1, x["gross"], 0)
        for x in lines
    ]  # fmt: skip
    store = _TreeStore(licence_id, lines, leaves)
    settlement_id = settle(
        chain, licence_id, 0, [bucket("US", "apparel", "retail", 5, 15 * USDX)], lines_root=store.tree.root,
        line_count=5,
    )  # fmt: skip
    synced(services)
    assert _problem(client.get(f"/settlements/{settlement_id}/lines/L-3/proof"), 404)["detail"] == (
        "line store not configured"
    )
    services.line_store = store
    try:
        answer = client.get(f"/settlements/{settlement_id}/lines/L-3/proof")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["verified"] is True
        assert body["lines_root"] == "0x" + store.tree.root.hex()
        assert body["leaf"] == "0x" + leaves[2].hex()
        assert body["line"]["gross"] == 3_000_000
        _problem(client.get(f"/settlements/{settlement_id}/lines/NOPE/proof"), 404)
        store.tamper = True
        _problem(client.get(f"/settlements/{settlement_id}/lines/L-3/proof"), 502)
    finally:
        from api.plugins import NoLineStore

        services.line_store = NoLineStore()


def test_statement_as_json_and_csv(client: TestClient, chain: Chain, services: Services) -> None:
    start = chain_time(chain) - 95 * DAY
    licence_id = register(client, terms_json(chain, start))
    fund(chain, licence_id, 100 * USDX)
    first = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 50 * USDX)])  # 4 USDX
    third = settle(chain, licence_id, 2, [bucket("GB", "apparel", "online", 1, 25 * USDX)])  # 2 USDX
    synced(services)
    body = client.get(f"/licences/{licence_id}/statement", params={"year": 0}).json()
    # Fixed 30-day periods from the start, contract years from the start: year 0 is 365 days, so its
    # periods are 0..12 (period 12, days 360..390, crosses into year 1). Period 3 (days 90..120) is running.
    states = ["final", "not reported", "final", *["open"] * 10]
    settled = {0: (first, "4000000"), 2: (third, "2000000")}
    assert [(r["period"], r["settlement_id"], r["royalty"], r["state"]) for r in body["rows"]] == [
        (p, *settled.get(p, (None, "0")), states[p]) for p in range(13)
    ]
    rule = LicenceCalendar(start=start, period_seconds=30 * DAY)
    assert [r["period_name"] for r in body["rows"]] == [rule.period_name(p) for p in range(13)]
    assert body["rows"][0]["period_end"] == start + 30 * DAY and body["rows"][0]["due_at"] == start + 60 * DAY
    assert (body["year_start"], body["year_end"], body["year_days"]) == (start, start + 365 * DAY, 365)
    # Period 0 was due on day 60 and reported on day 95; period 1, due on day 90, is still unreported;
    # period 2 (due day 120) and the running period 3 are not late.
    assert [r["late"] for r in body["rows"][:4]] == [True, True, False, False]
    assert body["totals"]["royalty"] == "6000000"
    assert body["totals"]["tax_withheld"] == "600000"
    assert [p["amount"] for p in body["totals"]["payee_parts"]] == ["3240000", "2160000"]
    csv = client.get(f"/licences/{licence_id}/statement", params={"year": 0}, headers={"accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    rows = csv.text.strip().split("\n")
    assert rows[0].startswith(
        "period,period_name,period_start,period_end,period_last_day,due_at,due_date,late,settlement_id,kind,"
        "state,units,gross,net_in_scope,period_royalty,royalty,"
    )
    assert rows[1].split(",")[15] == "4000000"
    assert rows[-1].split(",")[9] == "total" and rows[-1].split(",")[15] == "6000000"
    _problem(client.get(f"/licences/{licence_id}/statement", params={"year": 5}), 422)
