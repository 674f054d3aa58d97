"""Values are bounded before any work (finding F3), and no party is the zero address (finding F8).

F3: ``GET /licences/<5,000 digits>`` was a 500 after 4.7 s (Python refuses to convert integers of
more than 4,300 digits, inside routing). Every route's every numeric path parameter, and the
numeric query parameters, are tried with 5,000 digits here: each answer is a 422 naming the field.
F8: the zero address was accepted as a licensor; every place a party is named refuses it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from apikit import chain_time, sign, terms_json
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.routes import feeds, health, licences, parties, settlements, ui
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role

HUGE = "9" * 5_000
ZERO = "0x" + "00" * 20
ID_PARAMS = {"licence_id", "settlement_id", "period", "review_id"}
ROUTERS = (health, licences, settlements, parties, feeds, ui)


def _api_routes() -> list[APIRoute]:
    return [route for module in ROUTERS for route in module.router.routes if isinstance(route, APIRoute)]


def _routes_with_ids() -> list[tuple[str, str, str]]:
    """(method, path template, id parameter) for every id parameter of every route."""
    found = []
    for route in _api_routes():
        for name in re.findall(r"{(\w+):id}", route.path):
            assert name in ID_PARAMS, f"{route.path}: an id convertor on an unexpected parameter {name}"
            for method in sorted(route.methods):
                found.append((method, route.path, name))
    return found


ROUTES = _routes_with_ids()


def test_every_numeric_path_parameter_is_an_id() -> None:
    """No route takes a number in its path through Starlette's unbounded ``int`` convertor."""
    routes = _api_routes()
    assert {route.path for route in routes} >= {"/licences/{licence_id:id}", "/settlements/{settlement_id:id}"}
    for route in routes:
        assert ":int}" not in route.path, route.path
        bare = set(re.findall(r"{(\w+)}", route.path)) & ID_PARAMS
        assert not bare, f"{route.path}: {bare} without the id convertor"
    assert len(ROUTES) >= 20


@pytest.mark.parametrize(("method", "template", "param"), ROUTES, ids=[f"{m} {t} {p}" for m, t, p in ROUTES])
def test_a_5000_digit_id_is_a_422_naming_the_field(client: TestClient, method: str, template: str, param: str) -> None:
    path = re.sub(r"{(\w+):id}", lambda m: HUGE if m.group(1) == param else "1", template)
    path = path.replace("{line_id}", "L-1")
    answer = client.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code == 422, answer.text[:300]
    fields = [e["field"] for e in answer.json()["errors"]]
    assert f"path.{param}" in fields, fields
    assert "less than or equal to" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/licences/{HUGE}", "path.licence_id"),  # finding F3 itself: a 500 after 4.7 s on main
        (f"/settlements/{HUGE}", "path.settlement_id"),
        (f"/licences/1/periods/{HUGE}/history", "path.period"),
        (f"/licences?page={HUGE}", "query.page"),
        (f"/licences?size={HUGE}", "query.size"),
        (f"/licences/1/settlements?page={HUGE}", "query.page"),
        (f"/licences/1/statement?year={HUGE}", "query.year"),
        (f"/licences?party={HUGE}", "query.party"),
        (f"/parties/{HUGE}", "path.address"),
        (f"/settlements/1/lines/{'L' * 5_000}/proof", "path.line_id"),
    ],
    ids=lambda value: value[:48] + "..." if len(value) > 48 else value,
)
def test_long_query_and_path_values_are_a_422_naming_the_field(client: TestClient, path: str, field: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 422, answer.text[:300]
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def _zero_field(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text[:300]
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert field in errors, errors
    assert "zero address" in errors[field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t.update(licensor=ZERO), "body.terms.licensor"),
        (lambda t: t.update(licensee=ZERO), "body.terms.licensee"),
        (lambda t: t.update(arbiter=ZERO), "body.terms.arbiter"),
        (lambda t: t.update(tax_account=ZERO), "body.terms.tax_account"),
        (lambda t: t["oracles"].append(ZERO), "body.terms.oracles.2"),
        (lambda t: t["payees"][1].update(account=ZERO), "body.terms.payees.1.account"),
    ],
)
def test_a_draft_naming_the_zero_address_is_refused(client: TestClient, chain: Chain, change: Any, field: str) -> None:
    terms = terms_json(chain, chain_time(chain))
    change(terms)
    _zero_field(client.post("/licences/drafts", json={"terms": terms}), field)


def test_a_registration_naming_the_zero_address_is_refused(client: TestClient, chain: Chain) -> None:
    draft = client.post("/licences/drafts", json={"terms": terms_json(chain, chain_time(chain))}).json()
    terms = {**draft["terms"], "licensee": ZERO}
    body = {
        "terms": terms,
        "deadline": draft["deadline"],
        "licensor_signature": sign(draft["digest"], "licensor_brand"),
        "licensee_signature": sign(draft["digest"], "licensee_apparel"),
    }
    _zero_field(client.post("/licences", json=body), "body.terms.licensee")


def test_a_dispute_by_the_zero_address_is_refused(client: TestClient) -> None:
    _zero_field(client.post("/settlements/1/disputes/drafts", json={"party": ZERO}), "body.party")
    _zero_field(
        client.post("/settlements/1/disputes", json={"party": ZERO, "deadline": 1, "signature": "0x"}), "body.party"
    )


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/parties/{ZERO}", "path.address"),
        (f"/ui/parties/{ZERO}", "path.address"),
        (f"/licences?party={ZERO}", "query.party"),
    ],
)
def test_the_zero_address_is_not_a_party_to_ask_about(client: TestClient, path: str, field: str) -> None:
    _zero_field(client.get(path), field)


def test_a_real_party_is_still_answered(client: TestClient) -> None:
    assert client.get(f"/parties/{role('licensor_brand').address}").status_code == 200
    assert client.get(f"/licences?party={role('licensor_brand').address.lower()}").status_code == 200
