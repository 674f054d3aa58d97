"""Operators register and revoke relaying organisations with ``python -m api.callers``: a fresh
key printed once and stored only as its SHA-256, the running API honouring each change from its
next request (no restart), and every refusal sending nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from apikit import chain_time, sign, terms_json
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

ROOT = Path(__file__).resolve().parents[3]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.callers", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def _nonce(chain: Chain) -> int:
    return int(chain.w3.eth.get_transaction_count(role("relayer").address, "pending"))


def _signed(client: TestClient, chain: Chain) -> dict[str, Any]:
    body = client.post("/licences/drafts", json={"terms": terms_json(chain, chain_time(chain) - DAY)}).json()
    return {
        "terms": body["terms"],
        "deadline": body["deadline"],
        "licensor_signature": sign(body["digest"], "licensor_brand"),
        "licensee_signature": sign(body["digest"], "licensee_apparel"),
    }


def test_add_prints_a_key_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    callers = tmp_path / "callers.json"
    added = _cli("add", "acme", "--tx-per-minute", "5", "--file", str(callers))
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert len(key) == 43 and "shown only now" in added.stderr
    entries = json.loads(callers.read_text())["callers"]
    assert [(e["name"], e["key_sha256"], e["tx_per_minute"]) for e in entries] == [
        ("acme", hashlib.sha256(key.encode()).hexdigest(), 5)
    ]
    assert key not in callers.read_text()

    again = _cli("add", "acme", "--file", str(callers))
    assert again.returncode == 1
    assert "organisation 'acme' is already registered: revoke it first" in again.stderr
    bad = _cli("add", "acme corp!", "--file", str(callers))
    assert bad.returncode == 1 and "organisation name 'acme corp!': 1 to 64 letters" in bad.stderr
    zero = _cli("add", "beta", "--gas-per-day", "0", "--file", str(callers))
    assert zero.returncode == 1 and "--gas-per-day must be at least 1, not 0" in zero.stderr
    assert [e["name"] for e in json.loads(callers.read_text())["callers"]] == ["acme"]  # nothing changed

    unknown = _cli("revoke", "nobody", "--file", str(callers))
    assert (
        unknown.returncode == 1
        and "no organisation 'nobody'" in unknown.stderr
        and "(registered: acme)" in unknown.stderr
    )
    no_file = _cli("list", env={"API_RELAY_CALLERS_FILE": ""})
    assert no_file.returncode == 1 and "pass --file or set API_RELAY_CALLERS_FILE" in no_file.stderr
    listed = _cli("list", env={"API_RELAY_CALLERS_FILE": str(callers)})
    assert listed.returncode == 0
    assert listed.stdout.startswith("acme\tkey sha256 " + hashlib.sha256(key.encode()).hexdigest()[:12])
    assert "tx_per_minute=5" in listed.stdout


def test_the_running_api_takes_added_and_revoked_organisations_without_a_restart(
    services: Services, chain: Chain, tmp_path: Path
) -> None:
    callers = tmp_path / "callers.json"
    acme = _cli("add", "acme", "--file", str(callers)).stdout.strip()
    settings = services.settings.model_copy(
        update={
            "database_url": str(tmp_path / "index.sqlite"),
            "relay_usage_file": tmp_path / "usage.sqlite",
            "relay_callers_file": callers,
            "relay_allow_hosts": [],
            "run_indexer": False,
        }
    )
    own = build_services(settings)
    try:
        with TestClient(create_app(services=own), raise_server_exceptions=False) as client:
            sent = client.post("/licences", json=_signed(client, chain), headers={"X-API-Key": acme})
            assert sent.status_code == 201, sent.text

            beta = _cli("add", "beta", "--file", str(callers)).stdout.strip()  # while the API runs
            assert client.post("/licences", json=_signed(client, chain), headers={"X-API-Key": beta}).status_code == 201

            assert _cli("revoke", "acme", "--file", str(callers)).returncode == 0
            before = _nonce(chain)
            refused = client.post("/licences", json=_signed(client, chain), headers={"X-API-Key": acme})
            assert refused.status_code == 401, refused.text
            assert "holds no key of a registered organisation" in refused.json()["detail"]
            assert _nonce(chain) == before

            # A file broken by hand keeps the last good list (beta still relays) until it is fixed.
            good = callers.read_text()
            callers.write_text("{not json")
            assert client.post("/licences", json=_signed(client, chain), headers={"X-API-Key": beta}).status_code == 201
            callers.write_text(good)
            assert client.post("/licences", json=_signed(client, chain), headers={"X-API-Key": acme}).status_code == 401
    finally:
        own.close()
