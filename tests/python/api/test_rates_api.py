"""POST /rates and GET /rates: an operator loads a publisher's rate file over HTTP into the oracle's
outbox and reads it back. Bad lines are rejections named in the answer while the good lines
alongside are stored; a bad header stores nothing; a second load is harmless; a conflicting rate
never overwrites the stored one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import OPERATOR_TOKEN, RELAY_HEADERS
from conftest import api_settings
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import build_services
from outbox import Outbox
from royalty_chain.client import Chain

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CSV = {**AUTH, "Content-Type": "text/csv"}
ECB = {"source": "ECB", "base": "EUR", "file_name": "eurofxref-2025-01.csv"}
FILE = (
    "date,currency,rate\n"
    "2025-01-02,USD,1.0856\n"
    "2025-01-02,JPY,163.5\n"
    "2025-01-03,usd,1.09\n"  # line 4: a lowercase code
    "2025-01-03,USD,0\n"  # line 5: a rate of zero
    "2025-01-03,JPY,162.0\n"
    "2025-01-02,USD,1.08560\n"  # line 7: line 2 again (the same rate written longer): counted once
)


@pytest.fixture
def client(chain: Chain, tmp_path: Path) -> Iterator[TestClient]:
    outbox = tmp_path / "oracle" / "outbox.sqlite"
    Outbox(outbox).close()  # the oracle made it; the API only opens it
    services = build_services(api_settings(chain, tmp_path, run_indexer=False, oracle_outbox=outbox))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False, headers=RELAY_HEADERS) as c:
            yield c
    finally:
        services.close()


def _jpy(client: TestClient) -> list[tuple[str, str, str]]:
    answer = client.get("/rates", params={"source": "ECB", "base": "EUR", "currency": "JPY"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return [(q["day"], q["quote"], q["in_base"]) for q in answer.json()["quotes"]]


def test_a_rate_file_loads_its_good_lines_and_names_each_bad_one(client: TestClient) -> None:
    answer = client.post("/rates", params=ECB, content=FILE, headers=CSV)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: body[k] for k in ("loaded", "known", "repeated", "rejected", "days", "currencies")} == {
        "loaded": 3, "known": 0, "repeated": 1, "rejected": 2, "days": 2, "currencies": ["JPY", "USD"],
    }  # fmt: skip
    assert (body["first_day"], body["last_day"], body["file_name"]) == ("2025-01-02", "2025-01-03", ECB["file_name"])
    assert body["rejections"] == [
        {"line_number": 4, "field": "currency", "value": "usd",
         "reason": "is not an ISO 4217 code (codes are uppercase: 'USD')"},
        {"line_number": 5, "field": "rate", "value": "0",
         "reason": "is zero; a rate is at least 0.000000001 (MIN_RATE)"},
    ]  # fmt: skip
    # 1 JPY in EUR is 1/163.5 = 0.00611620795107033639..., rounded down to 18 decimals.
    assert _jpy(client) == [
        ("2025-01-02", "163.5", "0.006116207951070336", ),
        ("2025-01-03", "162.0", "0.006172839506172839"),  # 1/162 = 0.0061728395061728395...
    ]  # fmt: skip


def test_loading_again_is_harmless_and_a_different_rate_never_overwrites(client: TestClient) -> None:
    assert client.post("/rates", params=ECB, content=FILE, headers=CSV).json()["loaded"] == 3
    again = client.post("/rates", params=ECB, content=FILE, headers=CSV).json()
    assert (again["loaded"], again["known"], again["rejected"]) == (0, 3, 2)
    changed = client.post(
        "/rates", params={**ECB, "file_name": "revised.csv"}, content="date,currency,rate\n2025-01-02,JPY,170\n",
        headers=CSV,
    ).json()  # fmt: skip
    assert (changed["loaded"], changed["known"], changed["rejected"]) == (0, 0, 1)
    (conflict,) = changed["rejections"]
    assert (conflict["line_number"], conflict["field"], conflict["value"]) == (2, "rate", "170")
    assert "163.5" in conflict["reason"] and ECB["file_name"] in conflict["reason"]
    assert _jpy(client)[0] == ("2025-01-02", "163.5", "0.006116207951070336")


def test_a_bad_header_refuses_the_whole_file_and_stores_nothing(client: TestClient) -> None:
    answer = client.post("/rates", params=ECB, content="day,ccy,rate\n2025-01-02,JPY,163.5\n", headers=CSV)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "body"
    assert "the header is 'day,ccy,rate'; expected date,currency,rate" in error["message"]
    assert _jpy(client) == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"source": "ECB", "base": "EUX"}, "base", "'EUX' is not an active ISO 4217 currency code"),
        ({"source": "E C B", "base": "EUR"}, "source", "pattern"),
        ({"source": "X" * 17, "base": "EUR"}, "source", "at most 16"),
    ],
)
def test_a_bad_source_or_base_is_refused_naming_it(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    answer = client.post("/rates", params=params, content=FILE, headers=CSV)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"].endswith(field) and message in error["message"], error
    assert _jpy(client) == []


def test_rates_are_for_operators_only_and_only_as_csv(client: TestClient) -> None:
    assert client.post("/rates", params=ECB, content=FILE, headers={"Content-Type": "text/csv"}).status_code == 401
    wrong = {"Authorization": "Bearer nope", "Content-Type": "text/csv"}
    assert client.post("/rates", params=ECB, content=FILE, headers=wrong).status_code == 403
    as_json = client.post("/rates", params=ECB, content=FILE, headers={**AUTH, "Content-Type": "application/json"})
    assert as_json.status_code == 415 and "text/csv" in as_json.json()["detail"]
    assert _jpy(client) == []


def test_the_base_has_no_quotes_of_its_own(client: TestClient) -> None:
    answer = client.get("/rates", params={"source": "ECB", "base": "EUR", "currency": "EUR"}, headers=AUTH)
    assert answer.status_code == 422 and "is the base: its rate is 1 by definition" in answer.text


def test_an_api_without_the_oracles_outbox_says_where_rates_go(chain: Chain, tmp_path: Path) -> None:
    services = build_services(api_settings(chain, tmp_path, run_indexer=False))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
            answer = c.post("/rates", params=ECB, content=FILE, headers=CSV)
    finally:
        services.close()
    assert answer.status_code == 503 and "API_ORACLE_OUTBOX" in answer.json()["detail"]


def test_the_rate_holds_are_the_outboxs_for_operators_only(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/rates/holds", headers=AUTH).json() == {"holds": []}
    outbox = Outbox(tmp_path / "oracle" / "outbox.sqlite")  # what the oracle's round notes
    reason = (
        "ECB has published rates (base EUR) only up to 2025-03-14: the period-average rate of JPY in USD needs "
        "them through 2025-03-31"
    )
    missing = [{"currency": "JPY", "days": ["2025-03-15..2025-03-31"], "reason": reason}]
    try:
        with outbox.connect() as conn:
            assert outbox.hold_for_rates(conn, 987_654, 2, "ECB", missing, "waits for ECB rates (base EUR) of JPY")
            conn.commit()
            (stored,) = outbox.rate_holds(conn)
    finally:
        outbox.close()
    answer = client.get("/rates/holds", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "holds": [
            {"licence_id": 987_654, "period": 2, "period_name": None,  # a licence this index does not know
             "source": "ECB", "missing": missing, "reason": "waits for ECB rates (base EUR) of JPY",
             "held_since": stored.held_since, "checked_at": stored.checked_at}
        ]
    }  # fmt: skip
    assert client.get("/rates/holds").status_code == 401
    assert client.get("/rates/holds", headers={"Authorization": "Bearer nope"}).status_code == 403


def test_an_api_without_the_oracles_outbox_has_no_rate_holds_to_show(chain: Chain, tmp_path: Path) -> None:
    services = build_services(api_settings(chain, tmp_path, run_indexer=False))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
            answer = c.get("/rates/holds", headers=AUTH)
    finally:
        services.close()
    assert answer.status_code == 503 and "royalty-oracle status" in answer.json()["detail"]
