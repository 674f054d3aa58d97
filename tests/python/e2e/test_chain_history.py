"""The chain keeps its history across stops, and a deployment is never replaced by accident.

On the chain `make run` embeds (Ganache with its database in the data folder): a licence
registered, funded and settled, then the chain stopped by Ctrl-C, SIGTERM and SIGKILL (each
right after a settlement's receipt), started again on the same folder: every block, every
Settled log and every balance is there, and the deployment is recognised by its code (nothing
deployed again, one manifest on record).

On Anvil (CHAIN=anvil), whose state file a SIGKILL can leave behind the chain: the settlements
of the blocks it lost are detected and sent again by the oracle, the index rolls back and
rebuilds, and both say so in one log line each.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from oracle_world import USDX, chain_now, day, fund, register, write_feed
from sqlalchemy import select
from structlog.testing import capture_logs

from api.indexer.db import make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.indexer.models import IndexState, SettlementRow
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.deployments import Deployments
from royalty_chain.dev.devnet import DEFAULT_EMBEDDED_CHAIN, LocalChain, deploy, start_anvil, start_embedded_chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Bucket, Report

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from _supervisor import Supervisor  # noqa: E402

SIGNALS = {"clean": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}


def _stop(local: LocalChain, how: str) -> None:
    """Stops the chain's whole process group (Anvil's npm wrapper and its binary alike)."""
    assert local.process is not None
    os.killpg(local.process.pid, SIGNALS[how])
    local.process.wait(timeout=30)


def _settle(chain: Chain, licence_id: int, period: int, gross: int) -> int:
    """A report of one bucket signed by oracle1 (the licence's threshold is 1); its settlement id."""
    bucket = Bucket(0, territory_index("US"), field_index("apparel"), channel_index("retail"), 1, gross, 0)
    report = Report(
        licence_id=licence_id,
        period=period,
        sequence=period + 1,
        deadline=chain_now(chain) + DAY,
        lines_root=b"\x07" * 32,
        line_count=1,
        buckets=(bucket,),
    )
    signatures = sign_report(report_digest(chain, report), [role("oracle1")])
    receipt = chain.transact(chain.ledger.settle_fn([report], [signatures]), role("oracle_sender"))
    return int(next(e for e in chain.receipt_events(receipt) if e.name == "Settled").args["settlementId"])


def _history(chain: Chain, licence_id: int) -> dict[str, Any]:
    """What a restart must keep: every block's hash, the ledger's Settled logs, the balances."""
    head = chain.w3.eth.block_number
    blocks = chain.transport.blocks(range(head + 1))
    licensor, licensee = role("licensor_brand").address, role("licensee_apparel").address
    token = chain.token(chain.manifest.token("USDX").address)
    return {
        "head": head,
        "block_hashes": [block["hash"] if block else None for block in blocks],
        "settled_logs": [(e.block_number, e.tx_hash, e.args) for e in chain.ledger.events("Settled", from_block=0)],
        "settlements": chain.ledger.settlement_count(),
        "escrow": chain.ledger.escrow_of(licence_id),
        "claimable": chain.ledger.claimable(licence_id, licensor),
        "balances": (token.balance_of(licensee), token.balance_of(chain.ledger.address)),
    }


def test_the_make_run_chain_keeps_every_block_log_and_balance_across_every_kind_of_stop(tmp_path: Path) -> None:
    chain_dir, pointer = tmp_path / "chain", tmp_path / "deployments" / "1337.json"
    local = start_embedded_chain(DEFAULT_EMBEDDED_CHAIN, chain_dir)
    try:
        manifest = deploy(local.url, pointer)
        chain = Chain(local.url, manifest)
        licence_id = register(chain, chain_now(chain) - 100 * DAY, threshold=1)
        fund(chain, licence_id, 1_000 * USDX)
        for period, how in enumerate(("clean", "sigterm", "sigkill")):
            settlement_id = _settle(chain, licence_id, period, (period + 1) * 100 * USDX)
            before = _history(chain, licence_id)
            _stop(local, how)  # right after the receipt: the worst moment for a chain that writes late

            local = start_embedded_chain(DEFAULT_EMBEDDED_CHAIN, chain_dir)
            recognised = deploy(local.url, pointer)  # what `make run` does on every start
            chain = Chain(local.url, recognised)

            assert _history(chain, licence_id) == before, how
            assert chain.ledger.settled_period(licence_id, period) == settlement_id
            assert recognised == manifest  # the same deployment, not a new one
            assert Deployments(pointer).records() == [pointer.resolve()]
        assert chain.ledger.settlement_count() == 3
        assert chain.ledger.escrow_of(licence_id) == 1_000 * USDX - 60 * USDX  # 10% of 100 + 200 + 300
    finally:
        local.stop()


def _oracle(chain: Chain, tmp_path: Path) -> OracleService:
    return OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        nil_reports=False,
    )


def _indexed_settlements(indexer: Indexer) -> list[tuple[int, int, int]]:
    with indexer.sessions() as session:
        rows = session.scalars(select(SettlementRow).order_by(SettlementRow.id)).all()
        return [(row.id, row.licence_id, row.period) for row in rows]


def test_blocks_a_killed_anvil_lost_are_detected_and_their_settlements_sent_again(tmp_path: Path) -> None:
    # The interval is an hour: the state file is written only when Anvil exits cleanly, so the
    # SIGKILL below loses exactly what came after the SIGTERM restart.
    state, pointer = tmp_path / "anvil-state.json", tmp_path / "deployments" / "31337.json"
    local = start_anvil(state_file=state, state_interval=3600)
    try:
        chain = Chain(local.url, deploy(local.url, pointer))
        start = chain_now(chain) - 70 * DAY  # 30-day periods: 0 and 1 have ended
        licence_id = register(chain, start)
        fund(chain, licence_id, 1_000 * USDX)
        feed = [f"H-1,{licence_id},{day(start + DAY)},US,apparel,retail,1,100,0,USD"]
        _oracle(chain, tmp_path).run([write_feed(tmp_path / "period0.csv", feed)])
        indexer = Indexer(chain.transport, chain.manifest, make_sessions(make_engine(tmp_path / "index.sqlite")))
        indexer.sync()

        _stop(local, "sigterm")  # written at exit: everything comes back
        local = start_anvil(state_file=state, state_interval=3600)
        chain = Chain(local.url, deploy(local.url, pointer))
        # Anvil may regenerate its genesis block on such a restart (seen under load): the index
        # is kept all the same, as the blocks after it are.
        with indexer.sessions() as session, session.begin():
            index_state = session.get(IndexState, 1)
            assert index_state is not None
            index_state.genesis_hash = "0x" + "de" * 32
        indexer = Indexer(chain.transport, chain.manifest, indexer.sessions)
        assert indexer.sync().reset is False
        original = chain.ledger.settled_period(licence_id, 0)
        assert _indexed_settlements(indexer) == [(original, licence_id, 0)]

        feed = [f"H-2,{licence_id},{day(start + 31 * DAY)},US,apparel,retail,1,200,0,USD"]
        _oracle(chain, tmp_path).run([write_feed(tmp_path / "period1.csv", feed)])
        lost = chain.ledger.settled_period(licence_id, 1)
        assert lost != 0
        indexer.sync()
        seen_head = chain.w3.eth.block_number

        _stop(local, "sigkill")  # nothing written since the restart: period 1's blocks are lost
        local = start_anvil(state_file=state, state_interval=3600)
        chain = Chain(local.url, deploy(local.url, pointer))  # the contracts are there: recognised
        assert chain.w3.eth.block_number < seen_head
        assert chain.ledger.settled_period(licence_id, 1) == 0
        assert len(Deployments(pointer).records()) == 1

        indexer = Indexer(chain.transport, chain.manifest, indexer.sessions)
        with capture_logs() as logs:
            rolled_back = indexer.sync()
            sent = _oracle(chain, tmp_path).send()
            indexer.sync()

        (index_line,) = [e for e in logs if e["event"] == "chain_lost_blocks"]
        assert index_line["head"] < index_line["indexed_to"] == seen_head
        assert rolled_back.rolled_back_to == index_line["fork_block"] and rolled_back.reset is False
        (oracle_line,) = [e for e in logs if e["event"] == "chain_lost_settlements"]
        assert oracle_line["settlements"] == [lost]
        assert [r.period for r in sent.settled] == [1]
        again = chain.ledger.settled_period(licence_id, 1)
        assert again != 0 and chain.ledger.settlement(again).royalty == 20 * USDX  # 10% of 200
        settled = [(e.args["licenceId"], e.args["period"]) for e in chain.ledger.events("Settled", from_block=0)]
        assert settled == [(licence_id, 0), (licence_id, 1)]  # each period once
        assert _indexed_settlements(indexer) == [(original, licence_id, 0), (again, licence_id, 1)]
    finally:
        local.stop()


def test_anvil_keeps_its_history_across_a_stop_that_lets_it_write(tmp_path: Path) -> None:
    chain_dir, pointer = tmp_path / "chain", tmp_path / "deployments" / "31337.json"
    local = start_embedded_chain("anvil", chain_dir)
    try:
        chain = Chain(local.url, deploy(local.url, pointer))
        licence_id = register(chain, chain_now(chain) - 70 * DAY, threshold=1)
        fund(chain, licence_id, 100 * USDX)
        for period, how in enumerate(("clean", "sigterm")):
            _settle(chain, licence_id, period, 100 * USDX)
            before = _history(chain, licence_id)
            _stop(local, how)

            local = start_embedded_chain("anvil", chain_dir)
            chain = Chain(local.url, deploy(local.url, pointer))

            after = _history(chain, licence_id)
            # Block 0 is the one Anvil may regenerate; every block after it is the same.
            assert after["block_hashes"][1:] == before["block_hashes"][1:], how
            assert {**after, "block_hashes": None} == {**before, "block_hashes": None}, how
            assert len(Deployments(pointer).records()) == 1
    finally:
        local.stop()


def test_make_run_stopping_anvil_waits_for_it_to_write_its_state(tmp_path: Path) -> None:
    # An hour's interval: what the restart finds is only what Anvil wrote as it stopped.
    state = tmp_path / "anvil-state.json"
    local = start_anvil(state_file=state, state_interval=3600)
    supervisor = Supervisor(tmp_path / "run", tmp_path / "logs", ROOT)
    assert local.process is not None
    supervisor.adopt("chain", local.process)
    chain = Chain(local.url, deploy(local.url, tmp_path / "deployment.json"))
    licence_id = register(chain, chain_now(chain) - 40 * DAY, threshold=1)
    fund(chain, licence_id, 100 * USDX)
    _settle(chain, licence_id, 0, 100 * USDX)
    before = _history(chain, licence_id)

    supervisor.stop()  # what Ctrl-C or SIGTERM to `make run` does

    local = start_anvil(state_file=state, state_interval=3600)
    try:
        after = _history(Chain(local.url, deploy(local.url, tmp_path / "deployment.json")), licence_id)
        assert after["block_hashes"][1:] == before["block_hashes"][1:]
        assert {**after, "block_hashes": None} == {**before, "block_hashes": None}
    finally:
        local.stop()
