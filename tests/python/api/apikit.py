"""Helpers for the API tests: friendly terms, party signatures, funding and settling on a local chain.

A plain module with a unique name (not conftest.py) so test files can import it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.services import Services, build_services
from api.settings import ApiSettings
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.devnet import LocalChain, deploy, free_port, start_anvil, start_ganache
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.reviews import Evidence, ReviewClause, Trigger
from royalty_chain.terms import DAY, Bucket, Conversion, Report

USDX = 10**6
OPERATOR_TOKEN = "operator-test-token"
RELAY_KEY = "relay-test-key"
RELAY_HEADERS = {"X-API-Key": RELAY_KEY}


def relay_callers_file(tmp: Path, name: str = "test-org", **quotas: int) -> Path:
    """A callers file naming one organisation with the key RELAY_KEY (stored as its SHA-256)."""
    path = tmp / "relay-callers.json"
    entry = {"name": name, "key_sha256": hashlib.sha256(RELAY_KEY.encode()).hexdigest(), **quotas}
    path.write_text(json.dumps({"callers": [entry]}))
    return path


_salts = itertools.count(1)


@dataclass(frozen=True)
class Node:
    """One chain node's contracts and the API over them (the ``node`` fixture: Anvil, then Ganache)."""

    name: str
    chain: Chain
    services: Services
    client: TestClient


@dataclass(frozen=True)
class ClockedNode:
    """A chain of a test module's own, whose clock the tests set, with the contracts and the API."""

    local: LocalChain
    chain: Chain
    services: Services
    client: TestClient


@contextmanager
def clocked_node(kind: str, genesis: int, tmp: Path) -> Iterator[ClockedNode]:
    """Anvil or Ganache from ``genesis``, each block to the second (on Ganache, which has no
    evm_setNextBlockTimestamp, a fixed 1-second block step), contracts deployed, the API over them."""
    if kind == "anvil":
        local = start_anvil(timestamp=genesis)
    else:
        local = start_ganache(timestamp=genesis, timestamp_increment=1)
    try:
        chain = Chain(local.url, deploy(local.url, tmp / "deployment.json"))
        settings = ApiSettings(
            rpc_url=local.url, manifest=tmp / "deployment.json", database_url=str(tmp / "index.sqlite"),
            operator_token=SecretStr(OPERATOR_TOKEN), data_dir=tmp, poll_seconds=0.2,
            relay_callers_file=relay_callers_file(tmp),
        )  # fmt: skip
        services = build_services(settings)
        try:
            app = create_app(services=services)
            with TestClient(app, raise_server_exceptions=False, headers=RELAY_HEADERS) as client:
                yield ClockedNode(local, chain, services, client)
        finally:
            services.close()
    finally:
        local.stop()


def chain_time(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def terms_json(chain: Chain, start: int, **overrides: Any) -> dict[str, Any]:
    """Friendly terms: 8% of net sales in US/GB apparel retail+online, 60/40 split, 10% tax."""
    terms: dict[str, Any] = {
        "licensor": role("licensor_brand").address,
        "licensee": role("licensee_apparel").address,
        "legal_text_hash": "0x" + "01" * 32,
        "asset_ids": ["7"],
        "scope": {"territories": ["US", "GB"], "fields": ["apparel"], "channels": ["retail", "online"]},
        "term": {"start": start, "end": start + 365 * DAY, "sell_off_days": 180, "period_seconds": 30 * DAY},
        "token": "USDX",
        "schedule": {"rate_bps": 800},
        "payees": [
            {"account": role("licensor_brand").address, "share_bps": 6000},
            {"account": role("co_owner").address, "share_bps": 4000},
        ],
        "tax_bps": 1000,
        "tax_account": role("tax_authority").address,
        "oracles": [role("oracle1").address, role("oracle2").address],
        "threshold": 1,
        "arbiter": role("arbiter").address,
        "salt": "0x" + (time.time_ns() * 1000 + next(_salts)).to_bytes(32, "big").hex(),
    }
    terms.update(overrides)
    return terms


def sign(digest_hex: str, role_name: str) -> str:
    return "0x" + sign_digest(bytes.fromhex(digest_hex[2:]), role(role_name).key).hex()


def register(client: TestClient, terms: dict[str, Any], licensor: str = "licensor_brand",
             licensee: str = "licensee_apparel") -> int:  # fmt: skip
    draft = client.post("/licences/drafts", json={"terms": terms})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    answer = client.post(
        "/licences",
        json={
            "terms": body["terms"],
            "deadline": body["deadline"],
            "licensor_signature": sign(body["digest"], licensor),
            "licensee_signature": sign(body["digest"], licensee),
        },
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["licence_id"])


def fund(chain: Chain, licence_id: int, amount: int, licensee: str = "licensee_apparel") -> None:
    account = role(licensee)
    token = chain.token(chain.manifest.token("USDX").address)
    token.mint(account.address, amount, account)
    token.approve(chain.ledger.address, amount, account)
    chain.ledger.deposit(licence_id, amount, account)


def bucket(
    territory: str, field: str, channel: str, units: int, gross: int, deductions: int = 0, year: int = 0
) -> Bucket:
    """A bucket of contract year ``year`` (the year of its sales' dates)."""
    codes = territory_index(territory), field_index(field), channel_index(channel)
    return Bucket(year, *codes, units, gross, deductions)


def settle(chain: Chain, licence_id: int, period: int, buckets: list[Bucket], sequence: int | None = None,
           lines_root: bytes = b"\x05" * 32, line_count: int = 3, returned: tuple[Bucket, ...] = (),
           corrects: int = 0, audit: bool = False, audit_cost: int = 0,
           deadline: int | None = None, fx: tuple[Conversion, ...] = ()) -> int:  # fmt: skip
    """Sign a report (with ``returned`` buckets; an adjustment of settlement ``corrects``, an
    audit finding with its cost; ``fx``, the conversions of sales in other currencies its buckets
    hold) with oracle2 and send it with the oracle_sender key; returns the settlement id."""
    report = Report(
        licence_id=licence_id,
        period=period,
        sequence=sequence if sequence is not None else period + 1,
        deadline=deadline if deadline is not None else chain_time(chain) + DAY,
        lines_root=lines_root,
        line_count=line_count,
        buckets=tuple(buckets),
        returned=returned,
        corrects=corrects,
        audit=audit,
        audit_cost=audit_cost,
        fx=fx,
    )
    signatures = sign_report(report_digest(chain, report), [role("oracle2")])
    receipt = chain.transact(chain.ledger.settle_fn([report], [signatures]), role("oracle_sender"))
    # The report's own settlement comes first; a reserve, interest or an audit cost may follow it.
    settled = [e for e in chain.receipt_events(receipt) if e.name == "Settled"]
    return int(settled[0].args["settlementId"])


def attach_review(chain: Chain, licence_id: int, clause: ReviewClause, licensee: str = "licensee_apparel") -> None:
    """Both parties sign the review clause (AttachReview); the relayer key sends it."""
    deadline = chain_time(chain) + DAY
    digest = chain.reviews.attach_digest(licence_id, clause, deadline)
    chain.reviews.attach(
        licence_id, clause, deadline, sign_digest(digest, role("licensor_brand").key),
        sign_digest(digest, role(licensee).key), role("relayer"),
    )  # fmt: skip


def fire_review(
    chain: Chain, licence_id: int, kind: Trigger, observed: int, oracles: tuple[str, ...] = ("oracle2",)
) -> int:
    """Evidence observed now, signed by ``oracles`` (terms_json's threshold is 1); the review's id."""
    now = chain_time(chain)
    evidence = Evidence(licence_id, kind, observed, as_of=now, deadline=now + DAY)
    signatures = (
        [] if kind is Trigger.DATE else sign_report(chain.reviews.evidence_digest(evidence), [role(o) for o in oracles])
    )
    return chain.reviews.review_id_of(chain.reviews.fire(evidence, signatures, role("relayer")))


def synced(services: Services) -> None:
    """Index up to the head now (the background loop would get there within a second)."""
    services.indexer.sync()


@contextmanager
def served(services: Services) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a thread, until the block ends: its base URL
    once /health answers (for Chromium, schemathesis and real TCP clients)."""
    port = free_port()
    config = uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        instance.should_exit = True
        thread.join(timeout=10)
