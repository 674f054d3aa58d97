"""POST /indices and GET /indices: an operator loads an index file over HTTP into the oracle's
outbox and reads it back. A bad line is a rejection named in the answer while the good lines
beside it are stored and nothing else changes; a bad header stores nothing; a second load is
harmless; a conflicting value never overwrites the stored one."""

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
NAMED = {"file_name": "cpi-u-2024.csv"}
FILE = (
    "index,month,value\n"
    "US-CPI-U,2023-09,307.789\n"
    "US-CPI-U,2024-09,315.301\n"
    "US-CPI-U,2024-10,315.6641234\n"  # line 4: seven decimals
    "EU-HICP,2024-09,127.9\n"
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


def _stored(client: TestClient, index: str | None = None) -> list[tuple[str, str, str, str]]:
    answer = client.get("/indices", params={"index": index} if index else {}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["index"] == index
    return [(v["index"], v["month"], v["value"], v["file_name"]) for v in answer.json()["values"]]


def test_an_index_file_loads_its_good_lines_and_names_the_bad_one(client: TestClient) -> None:
    answer = client.post("/indices", params=NAMED, content=FILE, headers=CSV)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "file_name": "cpi-u-2024.csv", "loaded": 3, "known": 0, "repeated": 0, "rejected": 1,
        "indices": ["EU-HICP", "US-CPI-U"], "first_month": "2023-09", "last_month": "2024-09", "months": 2,
        "rejections": [
            {"line_number": 4, "field": "value", "value": "315.6641234", "reason": "has 7 decimals; at most 6 allowed"}
        ],
    }  # fmt: skip
    assert _stored(client) == [
        ("EU-HICP", "2024-09", "127.9", "cpi-u-2024.csv"),
        ("US-CPI-U", "2023-09", "307.789", "cpi-u-2024.csv"),
        ("US-CPI-U", "2024-09", "315.301", "cpi-u-2024.csv"),
    ]
    assert _stored(client, "EU-HICP") == [("EU-HICP", "2024-09", "127.9", "cpi-u-2024.csv")]


def test_loading_again_is_harmless_and_a_different_value_never_overwrites(client: TestClient) -> None:
    assert client.post("/indices", params=NAMED, content=FILE, headers=CSV).json()["loaded"] == 3
    again = client.post("/indices", params=NAMED, content=FILE, headers=CSV).json()
    assert (again["loaded"], again["known"], again["rejected"]) == (0, 3, 1)
    changed = client.post(
        "/indices", params={"file_name": "revised.csv"}, content="index,month,value\nUS-CPI-U,2024-09,315.4\n",
        headers=CSV,
    ).json()  # fmt: skip
    assert (changed["loaded"], changed["known"], changed["rejected"]) == (0, 0, 1)
    assert changed["rejections"] == [
        {"line_number": 2, "field": "value", "value": "315.4",
         "reason": "differs from the value stored for US-CPI-U 2024-09: 315.301, loaded from cpi-u-2024.csv; "
                   "the stored value stays"},
    ]  # fmt: skip
    assert ("US-CPI-U", "2024-09", "315.301", "cpi-u-2024.csv") in _stored(client, "US-CPI-U")


def test_a_bad_header_refuses_the_whole_file_and_stores_nothing(client: TestClient) -> None:
    answer = client.post("/indices", content="index,date,value\nUS-CPI-U,2024-09,315.301\n", headers=CSV)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "body"
    assert "the header is 'index,date,value'; expected index,month,value" in error["message"]
    assert _stored(client) == []


def test_indices_are_for_operators_only_and_only_as_csv(client: TestClient) -> None:
    assert client.post("/indices", content=FILE, headers={"Content-Type": "text/csv"}).status_code == 401
    wrong = {"Authorization": "Bearer nope", "Content-Type": "text/csv"}
    assert client.post("/indices", content=FILE, headers=wrong).status_code == 403
    as_json = client.post("/indices", content=FILE, headers={**AUTH, "Content-Type": "application/json"})
    assert as_json.status_code == 415 and "text/csv" in as_json.json()["detail"]
    assert client.get("/indices").status_code == 401
    bad_name = client.get("/indices", params={"index": "US CPI"}, headers=AUTH)
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"].endswith("index")
    assert _stored(client) == []


def test_an_api_without_the_oracles_outbox_says_where_index_values_go(chain: Chain, tmp_path: Path) -> None:
    services = build_services(api_settings(chain, tmp_path, run_indexer=False))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
            answer = c.post("/indices", content=FILE, headers=CSV)
    finally:
        services.close()
    assert answer.status_code == 503 and "API_ORACLE_OUTBOX" in answer.json()["detail"]
