"""The sender's pipeline on a real Anvil with automining off, so what is in flight can be seen.

A miner thread mines a block only once the expected number of transactions waits in the pool.
A sender that waited for each receipt before sending the next batch would never get there (the
thread gives up after a while and mines anyway), so "all batches in one block" proves that the
round's transactions were in flight together, with consecutive nonces from the one sender.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from oracle_world import USDX, chain_now, day, fund, register, write_feed
from sqlalchemy import update

from oracle.service import OracleService
from outbox import Outbox
from outbox.schema import reports_table
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _service(chain: Chain, tmp_path: Path, batch_size: int) -> OracleService:
    return OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        batch_size=batch_size,
        nil_reports=False,  # only this test's reports in the blocks it counts
    )


@contextmanager
def manual_mining(chain: Chain, batch: int, give_up_s: float = 20.0) -> Iterator[None]:
    """Automining off; a block is mined whenever ``batch`` transactions are pending (or, after
    ``give_up_s`` without that many, whatever is pending)."""
    provider = chain.w3.provider
    stop = threading.Event()

    def pending() -> int:
        return int(provider.make_request("txpool_status", [])["result"]["pending"], 16)  # type: ignore[arg-type]

    def miner() -> None:
        since = time.monotonic()
        while not stop.is_set():
            waiting = pending()
            if waiting >= batch or (waiting and time.monotonic() - since > give_up_s):
                provider.make_request("evm_mine", [])  # type: ignore[arg-type]
                since = time.monotonic()
            elif not waiting:
                since = time.monotonic()
            time.sleep(0.01)

    provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    thread = threading.Thread(target=miner, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if pending():
            provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def _licence_with_sales(chain: Chain, tmp_path: Path, start: int, gross: list[str], tag: str) -> tuple[int, Path]:
    licence_id = register(chain, start)
    fund(chain, licence_id, 10_000 * USDX)
    rows = [
        f"{tag}-{i},{licence_id},{day(start + (i % 2) * 30 * DAY + DAY)},US,apparel,retail,1,{amount},0,USD"
        for i, amount in enumerate(gross)
    ]
    return licence_id, write_feed(tmp_path / f"{tag}.csv", rows)


def test_batches_of_a_round_are_in_flight_together(chain: Chain, tmp_path: Path) -> None:
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY  # period 0 ended, period 1 running
    grosses = ["100.00", "250.00", "40.50", "999.99", "12.34"]
    made = [_licence_with_sales(chain, tmp_path, start, [g], f"P{i}") for i, g in enumerate(grosses)]
    service = _service(chain, tmp_path, batch_size=2)
    for _, feed in made:
        service.ingest(feed)
    assert len(service.build_reports()) == 5

    with manual_mining(chain, batch=3):
        sent = service.send()

    assert sent.sent == 5 and len(sent.settled) == 5 and sent.rejected == [] and sent.waiting == 0
    assert service.simulation == "eth_simulateV1"  # Anvil has it: one execution per simulation
    hashes = sorted({r.tx_hash for r in sent.settled if r.tx_hash})
    assert len(hashes) == 3  # 5 reports in batches of 2, 2 and 1
    txs = [chain.w3.eth.get_transaction(h) for h in hashes]  # type: ignore[arg-type]
    nonces = sorted(int(tx["nonce"]) for tx in txs)
    assert nonces == list(range(nonces[0], nonces[0] + 3))
    assert {tx["from"] for tx in txs} == {role("oracle_sender").address}
    assert len({int(tx["blockNumber"]) for tx in txs}) == 1  # all three were pending at once
    royalty = {r.licence_id: r.royalty for r in sent.settled}
    # 10% of each licence's one sale, in USDX units
    assert royalty == {lid: int(g.replace(".", "")) * 10_000 // 10 for (lid, _), g in zip(made, grosses, strict=True)}


def test_reports_of_one_licence_wait_for_each_other(chain: Chain, tmp_path: Path) -> None:
    start = (chain_now(chain) - 65 * DAY) // DAY * DAY  # periods 0 and 1 ended
    licence_id, feed = _licence_with_sales(chain, tmp_path, start, ["100.00", "300.00"], "Q")
    service = _service(chain, tmp_path, batch_size=1)
    service.ingest(feed)
    assert len(service.build_reports()) == 2

    with manual_mining(chain, batch=1):
        sent = service.send()

    assert len(sent.settled) == 2 and sent.rejected == []
    by_period = {r.period: r for r in sent.settled}
    assert (by_period[0].sequence, by_period[1].sequence) == (1, 2)
    assert (by_period[0].royalty, by_period[1].royalty) == (10_000_000, 30_000_000)
    blocks = [int(chain.w3.eth.get_transaction(by_period[p].tx_hash)["blockNumber"]) for p in (0, 1)]  # type: ignore[arg-type]
    # The second report's simulation waited for the first's receipt: they cannot share a block.
    assert blocks[0] < blocks[1]
    assert chain.ledger.last_sequence(licence_id) == 2


def test_a_refused_report_is_split_out_and_the_rest_of_the_round_settles(chain: Chain, tmp_path: Path) -> None:
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    made = [_licence_with_sales(chain, tmp_path, start, [g], f"R{i}") for i, g in enumerate(["10", "20", "30", "40"])]
    service = _service(chain, tmp_path, batch_size=2)
    for _, feed in made:
        service.ingest(feed)
    built = service.build_reports()
    assert len(built) == 4
    # Corrupt the first signature of the second licence's report as if its signer had misbehaved.
    bad = service.outbox.report_for(service.conn, made[1][0], 0)
    assert bad is not None
    forged = ["0x" + "11" * 65, *["0x" + s.hex() for s in bad.signatures[1:]]]
    service.conn.execute(
        update(reports_table).where(reports_table.c.id == bad.id).values(signatures=json.dumps(forged))
    )
    service.conn.commit()

    sent = service.send()

    assert sorted(r.licence_id for r in sent.settled) == sorted(lid for i, (lid, _) in enumerate(made) if i != 1)
    assert [r.licence_id for r in sent.rejected] == [made[1][0]]
    assert sent.rejected[0].state == "rejected"
    # signature 0, ECDSA.RecoverError.InvalidSignature (1): decoded, recorded, not retried
    assert sent.rejected[0].error == "InvalidSignature(0, 1, 0x" + "00" * 32 + ")"
    assert chain.ledger.settled_period(made[1][0], 0) == 0
    assert service.simulation == "eth_simulateV1"  # a refusal is not a reason to stop simulating
    for i, (lid, _) in enumerate(made):
        if i != 1:
            assert chain.ledger.settled_period(lid, 0) != 0


def test_a_transaction_that_fails_on_chain_switches_to_estimate_gas_and_settles_next_round(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id, feed = _licence_with_sales(chain, tmp_path, start, ["77.00"], "G")
    service = _service(chain, tmp_path, batch_size=25)
    service.ingest(feed)
    service.build_reports()
    assert service.simulation == "eth_simulateV1"
    # A margin that cannot cover the gas: the transaction runs out of gas on chain.
    monkeypatch.setattr("oracle.sender.SIMULATED_GAS_MARGIN", 0.5)
    monkeypatch.setattr("oracle.sender.SIMULATED_GAS_EXTRA", 0)

    first = service.send()

    assert first.sent == 1 and first.settled == [] and first.waiting == 1
    (stored,) = service.outbox.reports_in(service.conn, "sent")
    assert stored.error == f"transaction {stored.tx_hash} failed"
    assert int(chain.w3.eth.get_transaction_receipt(stored.tx_hash)["status"]) == 0  # type: ignore[arg-type]
    assert service.simulation == "eth_estimateGas"
    assert chain.ledger.settled_period(licence_id, 0) == 0

    second = service.send()  # reconciles (mined and failed: send again), then estimates the gas

    assert [(r.licence_id, r.royalty) for r in second.settled] == [(licence_id, 7_700_000)]
    assert chain.ledger.settled_period(licence_id, 0) == second.settled[0].settlement_id


def test_on_ganache_without_simulate_v1_batches_are_estimated(ganache_chain: Chain, tmp_path: Path) -> None:
    start = (chain_now(ganache_chain) - 35 * DAY) // DAY * DAY
    made = [_licence_with_sales(ganache_chain, tmp_path, start, [g], f"N{i}") for i, g in enumerate(["5", "6"])]
    service = _service(ganache_chain, tmp_path, batch_size=25)
    for _, feed in made:
        service.ingest(feed)
    service.build_reports()

    sent = service.send()

    assert service.simulation == "eth_estimateGas"
    assert sorted((r.licence_id, r.royalty) for r in sent.settled) == [(made[0][0], 500_000), (made[1][0], 600_000)]
