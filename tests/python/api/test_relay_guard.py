"""The relayer serves only whom it should: a registered organisation's key (or an allowlisted
host), within its quotas, for actions that would succeed, of bounded size, at a capped fee.
Every refusal sends nothing: the relayer's nonce stays where it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apikit import RELAY_HEADERS, chain_time, relay_callers_file, sign, terms_json
from fastapi.testclient import TestClient

from api.app import create_app
from api.relay_guard import RelayCaller, UsageBook
from api.services import Services, build_services
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _nonce(chain: Chain) -> int:
    return int(chain.w3.eth.get_transaction_count(role("relayer").address, "pending"))


def _signed(client: TestClient, terms: dict[str, Any]) -> dict[str, Any]:
    draft = client.post("/licences/drafts", json={"terms": terms})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    return {
        "terms": body["terms"],
        "deadline": body["deadline"],
        "licensor_signature": sign(body["digest"], "licensor_brand"),
        "licensee_signature": sign(body["digest"], "licensee_apparel"),
    }


def _own_api(services: Services, tmp: Path, callers: Path, **overrides: Any) -> Iterator[TestClient]:
    settings = services.settings.model_copy(
        update={
            "database_url": str(tmp / "index.sqlite"),
            "relay_usage_file": tmp / "usage.sqlite",
            "relay_callers_file": callers,
            "run_indexer": False,
            **overrides,
        }
    )
    own = build_services(settings)
    try:
        with TestClient(create_app(services=own), raise_server_exceptions=False, headers=RELAY_HEADERS) as client:
            yield client
    finally:
        own.close()


def test_anonymous_or_unknown_callers_are_refused_and_nothing_is_sent(client: TestClient, chain: Chain) -> None:
    body = _signed(client, terms_json(chain, chain_time(chain) - DAY))
    before = _nonce(chain)
    anonymous = client.post("/licences", json=body, headers={"X-API-Key": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "/problems/unauthorized"
    assert anonymous.json()["detail"] == (
        "relaying needs an API key: send it as 'X-API-Key: <key>' (the relayer pays for what it sends)"
    )
    wrong = client.post("/licences", json=body, headers={"X-API-Key": "guessed"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "the X-API-Key header holds no key of a registered organisation"
    for path, payload in [("/licences/1/withdrawals", {"payee": role("co_owner").address}),
                          ("/licences/1/tax-withdrawals", None)]:  # fmt: skip
        refused = client.post(path, json=payload, headers={"X-API-Key": ""})
        assert refused.status_code == 401, path
    assert _nonce(chain) == before
    assert client.post("/licences", json=body).status_code == 201  # the organisation's key relays
    assert _nonce(chain) == before + 1


def test_a_failing_action_is_simulated_named_and_never_sent(client: TestClient, chain: Chain) -> None:
    terms = terms_json(chain, chain_time(chain) - DAY)
    terms["term"]["end"] = terms["term"]["start"]
    body = _signed(client, terms)
    before = _nonce(chain)
    answer = client.post("/licences", json=body)
    assert answer.status_code == 422
    assert answer.json()["type"] == "/problems/contract-rejected"
    assert answer.json()["error"] == "TermEndNotAfterStart"
    assert _nonce(chain) == before


def test_a_deadline_the_chain_may_pass_before_mining_is_refused(client: TestClient, chain: Chain) -> None:
    terms = terms_json(chain, chain_time(chain) - DAY)
    now = chain_time(chain)
    draft = client.post("/licences/drafts", json={"terms": terms, "deadline": now}).json()
    body = {"terms": draft["terms"], "deadline": draft["deadline"],
            "licensor_signature": sign(draft["digest"], "licensor_brand"),
            "licensee_signature": sign(draft["digest"], "licensee_apparel")}  # fmt: skip
    before = _nonce(chain)
    answer = client.post("/licences", json=body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "deadline"
    assert "API_RELAY_DEADLINE_MARGIN_SECONDS" in answer.json()["detail"]
    assert _nonce(chain) == before


def test_terms_over_a_size_limit_are_refused_naming_the_limit(client: TestClient, chain: Chain) -> None:
    payees = [{"account": "0x" + f"{i + 1:040x}", "share_bps": 500} for i in range(20)]
    payees.append({"account": role("co_owner").address, "share_bps": 0})
    payees[0]["share_bps"] = 500
    terms = terms_json(chain, chain_time(chain) - DAY, payees=payees)
    answer = client.post("/licences/drafts", json={"terms": terms})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["detail"] == "terms.payees: 21 is more than the relayer takes (API_RELAY_MAX_PAYEES = 20)"
    assert problem["errors"] == [{"field": "terms.payees", "message": "at most 20 (API_RELAY_MAX_PAYEES); got 21"}]
    assert (problem["limit"], problem["allowed"], problem["got"]) == ("API_RELAY_MAX_PAYEES", 20, 21)


def test_quota_exceeded_is_429_with_retry_after_and_sends_nothing(
    services: Services, chain: Chain, tmp_path: Path
) -> None:
    callers = relay_callers_file(tmp_path, "one-a-minute", tx_per_minute=1)
    for client in _own_api(services, tmp_path, callers):
        assert (
            client.post("/licences", json=_signed(client, terms_json(chain, chain_time(chain) - DAY))).status_code
            == 201
        )
        before = _nonce(chain)
        second = client.post("/licences", json=_signed(client, terms_json(chain, chain_time(chain) - DAY)))
        assert second.status_code == 429
        assert second.json()["type"] == "/problems/quota-exceeded"
        assert second.json()["detail"] == (
            "caller one-a-minute has relayed 1 transactions this minute, its limit of 1 per minute"
        )
        assert 1 <= int(second.headers["Retry-After"]) <= 60
        assert _nonce(chain) == before


def test_gas_quota_counts_survive_a_restart(tmp_path: Path) -> None:
    caller = RelayCaller("acme", tx_per_minute=100, gas_per_day=1_000_000)
    book = UsageBook(tmp_path / "usage.sqlite")
    book.record(caller, 600_000, now=86_400 * 10 + 5)
    book.close()
    reopened = UsageBook(tmp_path / "usage.sqlite")
    assert reopened.used("acme", now=86_400 * 10 + 50) == (1, 600_000)
    with pytest.raises(Exception) as refused:
        reopened.check(caller, 400_001, now=86_400 * 10 + 100)
    assert str(refused.value) == (
        "caller acme has spent 600000 gas today; 400001 more would pass its limit of 1000000 gas per day"
    )
    assert refused.value.extra["retry_after"] == 86_400 - 100  # type: ignore[attr-defined]
    reopened.check(caller, 400_000, now=86_400 * 10 + 100)  # exactly the limit is allowed
    reopened.close()


def test_a_fee_above_the_cap_is_503_naming_cap_and_asked_fee(services: Services, chain: Chain, tmp_path: Path) -> None:
    callers = relay_callers_file(tmp_path)
    for client in _own_api(services, tmp_path, callers, relay_max_fee_per_gas=1):
        body = _signed(client, terms_json(chain, chain_time(chain) - DAY))
        before = _nonce(chain)
        answer = client.post("/licences", json=body)
        assert answer.status_code == 503
        problem = answer.json()
        assert problem["type"] == "/problems/fee-cap-exceeded"
        assert problem["cap"] == "max_fee_per_gas"
        assert problem["capped"] == "1"
        asked = int(problem["asked"])
        assert asked > 1
        assert problem["detail"] == (f"the chain asks {asked} wei per gas (max_fee_per_gas), above the cap of 1")
        assert _nonce(chain) == before
