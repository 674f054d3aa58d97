"""The oracle's licence directory on a real Anvil: amendments seen at once, logs read in pages.

A "capped" node is the session's Anvil behind a Chain whose eth_getLogs refuses ranges wider than
a few blocks, as public endpoints do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from oracle_world import chain_now, register

from oracle.directory import LicenceDirectory
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import amend_digest, sign_digest
from royalty_chain.terms import DAY, Schedule, Term

CAP_BLOCKS = 4


class CappedLogs:
    """Wraps a Chain's rpc_batch: eth_getLogs over more than CAP_BLOCKS blocks is refused."""

    def __init__(self, chain: Chain) -> None:
        self._rpc_batch = chain.rpc_batch
        self.refused: list[tuple[int, int]] = []
        self.answered: list[tuple[int, int]] = []

    def __call__(self, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        answers = []
        for method, params in requests:
            if method == "eth_getLogs":
                span = (int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16))
                if span[1] - span[0] + 1 > CAP_BLOCKS:
                    self.refused.append(span)
                    answers.append({"error": {"code": -32005, "message": "query exceeds max block range"}})
                    continue
                self.answered.append(span)
            answers.extend(self._rpc_batch([(method, params)]))
        return answers


@pytest.fixture
def own_chain(chain: Chain) -> Chain:
    """A Chain of its own on the session's Anvil, so wrapping its methods leaks nowhere."""
    return Chain(chain.w3.provider.endpoint_uri, chain.manifest.model_copy(deep=True))  # type: ignore[attr-defined]


def test_an_amendment_is_seen_at_once_not_after_the_cache_expires(chain: Chain) -> None:
    now = chain_now(chain)
    start = (now - 10 * DAY) // DAY * DAY
    old_end = start + 100 * DAY
    licence_id = register(chain, start, term=Term(start=start, end=old_end, sell_off_days=0, period_seconds=30 * DAY))
    directory = LicenceDirectory(chain)  # a 30 s cache
    info = directory.get(licence_id)
    assert info is not None and info.term_end == old_end

    new_end = old_end + 365 * DAY  # the renewal
    schedule = Schedule(effective_from=now + DAY, rate_bps=800)
    version = chain.registry.schedule_count(licence_id)
    digest = amend_digest(chain.registry.domain(), licence_id, version, schedule, new_end, now + DAY)
    licensor, licensee = role("licensor_brand"), role("licensee_apparel")
    chain.registry.amend(
        licence_id,
        schedule,
        new_end,
        now + DAY,
        sign_digest(digest, licensor.key),
        sign_digest(digest, licensee.key),
        role("relayer"),
    )

    renewed = directory.get(licence_id)
    assert renewed is not None and renewed.term_end == new_end


def test_logs_are_read_in_pages_that_shrink_to_what_the_node_accepts(own_chain: Chain) -> None:
    capped = CappedLogs(own_chain)
    own_chain.rpc_batch = capped  # type: ignore[method-assign]
    first = register(own_chain, (chain_now(own_chain) - DAY) // DAY * DAY)
    for _ in range(12):  # at least 12 blocks after the deploy block, however few tests ran before
        own_chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    directory = LicenceDirectory(own_chain, log_block_span=10)
    deploy_block = own_chain.manifest.deploy_block

    found = directory.all()

    head = capped.answered[-1][1]
    assert first in found and len(found) == own_chain.registry.licence_count()
    assert capped.refused == [(deploy_block, deploy_block + 9), (deploy_block, deploy_block + 4)]
    # halved twice, to 3 blocks: every later page is 3 blocks (the last up to the head), none overlap
    assert capped.answered[0] == (deploy_block, deploy_block + 2)
    assert [b - a + 1 for a, b in capped.answered[:-1]] == [3] * (len(capped.answered) - 1)
    assert all(a == prev_b + 1 for (_, prev_b), (a, _) in zip(capped.answered, capped.answered[1:], strict=False))
    assert head == int(own_chain.w3.eth.block_number)

    second = register(own_chain, (chain_now(own_chain) - DAY) // DAY * DAY)
    capped.answered.clear()
    assert second in directory.all()
    assert capped.answered[0][0] == head + 1  # the next look starts where the last one ended
    assert directory.token_of(second) == own_chain.manifest.token("USDX").address


def test_a_token_outside_the_manifest_is_asked_its_metadata_once(
    own_chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = (chain_now(own_chain) - DAY) // DAY * DAY
    licences = [register(own_chain, start), register(own_chain, start)]
    usdx = own_chain.manifest.token("USDX").address
    monkeypatch.setattr(own_chain.manifest, "tokens", {})  # the manifest knows no token now
    asked: list[str] = []
    token = own_chain.token

    def counting_token(address: str) -> Any:
        asked.append(address)
        return token(address)

    monkeypatch.setattr(own_chain, "token", counting_token)
    directory = LicenceDirectory(own_chain, ttl_seconds=0)  # every look reloads the contexts

    for _ in range(2):
        infos = directory.many(licences)
        assert [(i.currency, i.decimals) for i in infos.values()] == [("USDX", 6), ("USDX", 6)]

    assert asked == [usdx]
