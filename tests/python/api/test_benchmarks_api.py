"""POST /benchmarks and GET /benchmarks: an operator loads a benchmark file over HTTP into the
oracle's outbox and reads it back. Each bad line is a rejection named in the answer while the good
lines beside it are stored and nothing else changes; a bad header stores nothing; a second load
is harmless; a conflicting value never overwrites the stored one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
NAMED = {"file_name": "data-lic-rate.csv"}
TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
FILE = (
    "date,benchmark,value\n"
    "2026-11-02,DATA-LIC-RATE,4.00\n"
    "2026-11-30,DATA-LIC-RATE,4.60\n"
    f"{TOMORROW},DATA-LIC-RATE,4.70\n"  # line 4: not published yet
    "2026-11-30,DATA LIC,4.60\n"  # line 5: a space in the name
    "2026-11-31,DATA-LIC-RATE,4.60\n"  # line 6: no such day
    "2026-11-29,DATA-LIC-RATE,0\n"  # line 7
    "2026-11-28,DATA-LIC-RATE,-4.6\n"  # line 8
    "2026-11-27,DATA-LIC-RATE,4600000\n"  # line 9: absurd
    "2026-11-26,LES-MEDDEV-RATE,5.10\n"
    "2026-11-25,LES-MEDDEV-RATE,5.10\n"
    "2026-11-25,DATA-LIC-RATE,4.1\n"  # lines 12 and 13: one day, two values
    "2026-11-25,DATA-LIC-RATE,4.2\n"
)
TWO_VALUES = "differs from the value of DATA-LIC-RATE for 2026-11-25"
ZERO = "is zero; a benchmark value is positive (the reviews contract refuses 0: BenchmarkValueZero)"


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


def _stored(client: TestClient, benchmark: str | None = None) -> list[tuple[str, str, str, str]]:
    answer = client.get("/benchmarks", params={"benchmark": benchmark} if benchmark else {}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["benchmark"] == benchmark
    return [(v["benchmark"], v["date"], v["value"], v["file_name"]) for v in answer.json()["values"]]


def test_a_benchmark_file_loads_its_good_lines_and_names_each_bad_one(client: TestClient) -> None:
    answer = client.post("/benchmarks", params=NAMED, content=FILE, headers=CSV)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "file_name": "data-lic-rate.csv", "loaded": 4, "known": 0, "repeated": 0, "rejected": 8,
        "benchmarks": ["DATA-LIC-RATE", "LES-MEDDEV-RATE"], "first_date": "2026-11-02", "last_date": "2026-11-30",
        "days": 4,
        "rejections": [
            {"line_number": 4, "field": "date", "value": TOMORROW,
             "reason": f"is in the future (today is {datetime.now(UTC).date().isoformat()})"},
            {"line_number": 5, "field": "benchmark", "value": "DATA LIC",
             "reason": "is not a benchmark name: printable ASCII characters without spaces, such as DATA-LIC-RATE"},
            {"line_number": 6, "field": "date", "value": "2026-11-31",
             "reason": "is not a date: no such day in the calendar"},
            {"line_number": 7, "field": "value", "value": "0", "reason": ZERO},
            {"line_number": 8, "field": "value", "value": "-4.6",
             "reason": "has a sign; a benchmark value is a positive decimal such as 4.60"},
            {"line_number": 9, "field": "value", "value": "4600000",
             "reason": "is above the largest benchmark value 1,000,000 (MAX_BENCHMARK_POINTS)"},
            {"line_number": 12, "field": "value", "value": "4.1",
             "reason": f"{TWO_VALUES} on line 13 (4.2): none of them is loaded"},
            {"line_number": 13, "field": "value", "value": "4.2",
             "reason": f"{TWO_VALUES} on line 12 (4.1): none of them is loaded"},
        ],
    }  # fmt: skip
    assert _stored(client) == [
        ("DATA-LIC-RATE", "2026-11-02", "4.00", "data-lic-rate.csv"),
        ("DATA-LIC-RATE", "2026-11-30", "4.60", "data-lic-rate.csv"),
        ("LES-MEDDEV-RATE", "2026-11-25", "5.10", "data-lic-rate.csv"),
        ("LES-MEDDEV-RATE", "2026-11-26", "5.10", "data-lic-rate.csv"),
    ]
    assert _stored(client, "LES-MEDDEV-RATE") == [
        ("LES-MEDDEV-RATE", "2026-11-25", "5.10", "data-lic-rate.csv"),
        ("LES-MEDDEV-RATE", "2026-11-26", "5.10", "data-lic-rate.csv"),
    ]


def test_loading_again_is_harmless_and_a_different_value_never_overwrites(client: TestClient) -> None:
    assert client.post("/benchmarks", params=NAMED, content=FILE, headers=CSV).json()["loaded"] == 4
    again = client.post("/benchmarks", params=NAMED, content=FILE, headers=CSV).json()
    assert (again["loaded"], again["known"], again["rejected"]) == (0, 4, 8)
    revised = "date,benchmark,value\n2026-11-30,DATA-LIC-RATE,4.65\n"
    changed = client.post("/benchmarks", params={"file_name": "revised.csv"}, content=revised, headers=CSV).json()
    assert (changed["loaded"], changed["known"], changed["rejected"]) == (0, 0, 1)
    assert changed["rejections"] == [
        {"line_number": 2, "field": "value", "value": "4.65",
         "reason": "differs from the value stored for DATA-LIC-RATE 2026-11-30: 4.60, loaded from data-lic-rate.csv; "
                   "the stored value stays"},
    ]  # fmt: skip
    assert ("DATA-LIC-RATE", "2026-11-30", "4.60", "data-lic-rate.csv") in _stored(client, "DATA-LIC-RATE")


def test_a_bad_header_refuses_the_whole_file_and_stores_nothing(client: TestClient) -> None:
    answer = client.post("/benchmarks", content="benchmark,date,value\nDATA-LIC-RATE,2026-11-30,4.6\n", headers=CSV)
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "body"
    assert "the header is 'benchmark,date,value'; expected date,benchmark,value" in error["message"]
    assert _stored(client) == []


def test_benchmarks_are_for_operators_only_and_only_as_csv(client: TestClient) -> None:
    assert client.post("/benchmarks", content=FILE, headers={"Content-Type": "text/csv"}).status_code == 401
    wrong = {"Authorization": "Bearer nope", "Content-Type": "text/csv"}
    assert client.post("/benchmarks", content=FILE, headers=wrong).status_code == 403
    as_json = client.post("/benchmarks", content=FILE, headers={**AUTH, "Content-Type": "application/json"})
    assert as_json.status_code == 415 and "text/csv" in as_json.json()["detail"]
    assert client.get("/benchmarks").status_code == 401
    bad_name = client.get("/benchmarks", params={"benchmark": "DATA LIC"}, headers=AUTH)
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"].endswith("benchmark")
    assert _stored(client) == []


def test_an_api_without_the_oracles_outbox_says_where_benchmark_values_go(chain: Chain, tmp_path: Path) -> None:
    services = build_services(api_settings(chain, tmp_path, run_indexer=False))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as c:
            answer = c.post("/benchmarks", content=FILE, headers=CSV)
    finally:
        services.close()
    assert answer.status_code == 503
    assert "benchmark values are kept in the oracle's outbox" in answer.json()["detail"]
    assert "royalty-oracle benchmarks load" in answer.json()["detail"]
