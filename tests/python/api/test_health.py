"""The lifespan runs the indexer in the background; /health reports how far it got."""

from __future__ import annotations

import time

from apikit import chain_time, register, terms_json
from fastapi.testclient import TestClient

from royalty_chain.client import Chain
from royalty_chain.terms import DAY


def test_background_indexer_catches_up_and_health_says_so(client: TestClient, chain: Chain) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - DAY))
    head = chain.w3.eth.block_number
    deadline = time.monotonic() + 15
    health = client.get("/health").json()
    while health["indexed_block"] is None or health["indexed_block"] < head:
        assert time.monotonic() < deadline, health
        time.sleep(0.1)
        health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["chain_id"] == 31337
    assert health["head_block"] >= head
    assert health["lag"] == health["head_block"] - health["indexed_block"]
    assert client.get(f"/licences/{licence_id}").status_code == 200
