"""The keeper on a real Anvil: releases after the dispute window, guarantee shortfalls after the
contract year, waiting for open settlements, and exactly one charge however it is killed.

The module has an Anvil of its own, because the tests move its clock; each test starts from a
snapshot of the freshly deployed chain (``evm_snapshot``/``evm_revert``), so no test sees
another's licences. Token USDX has 6 decimals (1 USDX = 1,000,000 units); every licence charges
10% of net sales; reports are signed by one oracle (threshold 1).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from oracle_world import USDX, fund, register
from structlog.testing import capture_logs

from oracle.keeper import Keeper, RoundResult
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain, FeeCaps
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.devnet import deploy, start_anvil
from royalty_chain.dev.keys import dev_account, role
from royalty_chain.models import Kind, State
from royalty_chain.terms import DAY, Bucket, Calendar, Payee, Report, Schedule, Term

ROOT = Path(__file__).resolve().parents[3]
CRASHING_KEEPER = Path(__file__).resolve().with_name("crashing_keeper.py")
GUARANTEE = 5_000 * USDX


@pytest.fixture(scope="module")
def keeper_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    local = start_anvil()
    try:
        tmp = tmp_path_factory.mktemp("keeper")
        yield Chain(local.url, deploy(local.url, tmp / "deployment.json"))
    finally:
        local.stop()


@pytest.fixture
def chain(keeper_chain: Chain) -> Iterator[Chain]:
    """The module's chain, back at its deployed state after each test."""
    snapshot = keeper_chain.transport.call("evm_snapshot")
    yield keeper_chain
    assert keeper_chain.transport.call("evm_revert", snapshot) is True


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _warp(chain: Chain, timestamp: int) -> None:
    """The next block, mined now, has ``timestamp``."""
    chain.transport.call("evm_setNextBlockTimestamp", timestamp)
    chain.transport.call("evm_mine")


def _settle(chain: Chain, licence_id: int, period: int, gross: int, sequence: int) -> int:
    """Licence ``licence_id`` reports ``gross`` of US apparel retail sales in ``period`` (contract
    year 0), signed by oracle2; returns the settlement id."""
    bucket = Bucket(0, territory_index("US"), field_index("apparel"), channel_index("retail"), 1, gross, 0)
    report = Report(licence_id, period, sequence, _now(chain) + DAY, b"\x07" * 32, 1, (bucket,))
    signatures = sign_report(report_digest(chain, report), [role("oracle2")])
    receipt = chain.transact(chain.ledger.settle_fn([report], [signatures]), role("oracle_sender"))
    # The report's own settlement comes first (a reserve may follow it).
    settled = [e for e in chain.receipt_events(receipt) if e.name == "Settled"]
    return int(settled[0].args["settlementId"])


def _guarantee_licence(chain: Chain, start: int, dispute_window: int = 0) -> int:
    licence_id = register(
        chain,
        start,
        Schedule(rate_bps=1000, minimum_guarantee=GUARANTEE),
        threshold=1,
        dispute_window=dispute_window,
    )
    fund(chain, licence_id, 10_000 * USDX)
    return licence_id


def _guarantee_charges(chain: Chain, licence_id: int) -> list[tuple[int, int]]:
    """(contract year, shortfall) of each minimum-guarantee settlement of the licence."""
    events = chain.ledger.events("Settled", licenceId=licence_id)
    return [
        (int(e.args["period"]), int(e.args["royalty"]))
        for e in events
        if Kind(int(e.args["kind"])) is Kind.MINIMUM_GUARANTEE
    ]


def _sent(chain: Chain, address: str) -> int:
    return int(chain.w3.eth.get_transaction_count(address))


def _year_end(chain: Chain, licence_id: int) -> int:
    start, end, full = chain.registry.settlement_context(licence_id).rule().year_bounds(0)
    assert end - start == full  # contract years from the start date: year 0 is a whole year
    return end


def _run_cli(chain: Chain, tmp_path: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    env = dict(os.environ)
    env.update(KEEPER_RPC_URL=chain.transport.url, KEEPER_MANIFEST=str(manifest))
    command = [sys.executable, str(CRASHING_KEEPER), fault] if fault else [sys.executable, "-m", "oracle.cli"]
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_settlement_is_released_once_its_dispute_window_closes(chain: Chain) -> None:
    licensor, co_owner = role("licensor_brand").address, role("co_owner").address
    start = (_now(chain) - 40 * DAY) // DAY * DAY
    licence_id = register(
        chain,
        start,
        Schedule(rate_bps=1000),
        threshold=1,
        dispute_window=3 * DAY,
        payees=tuple(sorted((Payee(licensor, 6_000), Payee(co_owner, 4_000)), key=lambda p: int(p.account, 16))),
        tax_bps=1500,
        tax_account=role("tax_authority").address,
    )
    fund(chain, licence_id, 1_000 * USDX)
    settlement_id = _settle(chain, licence_id, 0, 1_000 * USDX, sequence=1)  # royalty 10% = 100 USDX
    pending = chain.ledger.settlement(settlement_id)
    assert pending.state is State.PENDING and pending.paid == 100 * USDX
    keeper = Keeper(chain, role("keeper"))
    sent_before = _sent(chain, keeper.account.address)

    early = keeper.round()  # the window is open until settled_at + 3 days

    assert early.released == [] and early.sent == 0
    assert _sent(chain, keeper.account.address) == sent_before
    assert chain.ledger.claimable(licence_id, licensor) == 0 and chain.ledger.claimable(licence_id, co_owner) == 0

    _warp(chain, pending.dispute_until)
    released = keeper.round()

    (release,) = released.released
    # 100 USDX less 15% tax (15 USDX) = 85 USDX to the payees: 60% = 51 USDX, 40% = 34 USDX
    assert (release.licence_id, release.settlement_ids) == (licence_id, (settlement_id,))
    assert (release.amount, release.tax, release.to_payees) == (100 * USDX, 15 * USDX, 85 * USDX)
    assert release.gas_used > 0 and release.tx_hash.startswith("0x")
    assert chain.ledger.claimable(licence_id, licensor) == 51 * USDX
    assert chain.ledger.claimable(licence_id, co_owner) == 34 * USDX
    assert chain.ledger.tax_claimable(licence_id) == 15 * USDX
    assert chain.ledger.settlement(settlement_id).state is State.FINAL
    assert _sent(chain, keeper.account.address) == sent_before + 1

    again = keeper.round()
    assert again.sent == 0 and _sent(chain, keeper.account.address) == sent_before + 1


def test_a_fee_above_the_keepers_cap_sends_nothing_and_the_next_round_releases(chain: Chain) -> None:
    """KEEPER_MAX_FEE_PER_GAS and KEEPER_MAX_PRIORITY_FEE_PER_GAS, as the oracle's sender caps its
    fees: a round where the chain asks more sends nothing and logs the cap, the asked fee and
    what happens; once the fee is within the cap the release goes out."""
    start = (_now(chain) - 40 * DAY) // DAY * DAY
    licence_id = register(chain, start, Schedule(rate_bps=1000), threshold=1, dispute_window=3 * DAY)
    fund(chain, licence_id, 1_000 * USDX)
    settlement_id = _settle(chain, licence_id, 0, 1_000 * USDX, sequence=1)
    _warp(chain, chain.ledger.settlement(settlement_id).dispute_until)
    capped = Chain(
        chain.transport.url, chain.manifest, fee_caps=FeeCaps(max_fee_per_gas=1, max_priority_fee_per_gas=5 * 10**9)
    )
    keeper = Keeper(capped, role("keeper"))
    sent_before = _sent(chain, keeper.account.address)
    base_fee = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    tip = int(chain.w3.eth.max_priority_fee)

    with capture_logs() as logs:
        held = keeper.round()

    assert (held.released, held.sent) == ([], 0)
    assert _sent(chain, keeper.account.address) == sent_before
    assert chain.ledger.settlement(settlement_id).state is State.PENDING
    assert [e for e in logs if e["event"] == "fee_cap_exceeded"] == [
        {"event": "fee_cap_exceeded", "log_level": "warning", "cap": "max_fee_per_gas", "capped": 1,
         "asked": base_fee + tip, "action": "nothing sent this round"}
    ]  # fmt: skip
    tip_capped = Chain(
        chain.transport.url, chain.manifest, fee_caps=FeeCaps(max_fee_per_gas=10**12, max_priority_fee_per_gas=0)
    )
    with capture_logs() as logs:
        assert Keeper(tip_capped, role("keeper")).round().sent == 0
    assert [(e["cap"], e["capped"], e["asked"]) for e in logs if e["event"] == "fee_cap_exceeded"] == [
        ("max_priority_fee_per_gas", 0, tip)
    ]

    within = Chain(
        chain.transport.url, chain.manifest, fee_caps=FeeCaps(max_fee_per_gas=10**12, max_priority_fee_per_gas=tip)
    )
    (release,) = Keeper(within, role("keeper")).round().released
    assert release.settlement_ids == (settlement_id,)
    assert chain.ledger.settlement(settlement_id).state is State.FINAL
    assert _sent(chain, keeper.account.address) == sent_before + 1


def test_a_reserve_is_released_once_its_release_time_comes(chain: Chain) -> None:
    """A 20% reserve held for two 30-day periods: period 0's reserve is released at the end of
    period 2 (start + 90 days), by the keeper's releaseMatured, exactly once."""
    licensor = role("licensor_brand").address
    start = (_now(chain) - 40 * DAY) // DAY * DAY
    term = Term(
        start=start, end=start + 2 * 365 * DAY, sell_off_days=180, period_seconds=30 * DAY,
        calendar=Calendar(due_days=30, reserve_bps=2_000, reserve_periods=2),
    )  # fmt: skip
    licence_id = register(chain, start, Schedule(rate_bps=1000), threshold=1, term=term)
    fund(chain, licence_id, 1_000 * USDX)
    report_id = _settle(chain, licence_id, 0, 1_000 * USDX, sequence=1)  # 10% = 100 USDX: 80 paid out, 20 held
    reserve = chain.ledger.settlement(report_id + 1)
    assert (reserve.kind, reserve.state, reserve.due, reserve.paid) == (Kind.RESERVE, State.HELD, 20 * USDX, 20 * USDX)
    assert reserve.dispute_until == start + 90 * DAY
    assert chain.ledger.claimable(licence_id, licensor) == 80 * USDX
    keeper = Keeper(chain, role("keeper"))
    sent_before = _sent(chain, keeper.account.address)

    assert keeper.round().sent == 0  # held until the end of period 2

    _warp(chain, start + 90 * DAY)
    (release,) = keeper.round().released
    assert (release.licence_id, release.settlement_ids, release.amount) == (licence_id, (report_id + 1,), 20 * USDX)
    assert chain.ledger.settlement(report_id + 1).state is State.FINAL
    assert chain.ledger.claimable(licence_id, licensor) == 100 * USDX
    assert keeper.round().sent == 0 and _sent(chain, keeper.account.address) == sent_before + 1


def test_a_guarantee_shortfall_is_charged_once_after_the_contract_year(chain: Chain, tmp_path: Path) -> None:
    start = (_now(chain) - 360 * DAY) // DAY * DAY
    licence_id = _guarantee_licence(chain, start)
    _settle(chain, licence_id, 0, 10_000 * USDX, sequence=1)  # royalty 10% = 1,000 USDX in year 0
    keeper = Keeper(chain, role("keeper"))

    assert keeper.round().sent == 0  # day 360 of 365: YearNotEnded
    assert _guarantee_charges(chain, licence_id) == []

    _warp(chain, _year_end(chain, licence_id))
    done = keeper.round()

    (charge,) = done.charged
    # guarantee 5,000 USDX - the year's royalty 1,000 USDX = shortfall 4,000 USDX
    assert (charge.licence_id, charge.year, charge.shortfall) == (licence_id, 0, 4_000 * USDX)
    assert chain.ledger.settlement(charge.settlement_id).royalty == 4_000 * USDX
    assert _guarantee_charges(chain, licence_id) == [(0, 4_000 * USDX)]
    sent = _sent(chain, role("keeper").address)

    restarted = _run_cli(chain, tmp_path, "keep", "--once")  # a new keeper process

    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert "0 guarantee charge(s)" in restarted.stdout
    assert Keeper(chain, role("keeper")).round().sent == 0  # and a new instance
    assert _guarantee_charges(chain, licence_id) == [(0, 4_000 * USDX)]
    assert _sent(chain, role("keeper").address) == sent


def test_the_keeper_waits_for_open_settlements_then_charges_after_the_release(chain: Chain) -> None:
    start = (_now(chain) - 361 * DAY) // DAY * DAY
    licence_id = _guarantee_licence(chain, start, dispute_window=10 * DAY)
    # period 11 (days 330-359 of year 0) reports 2,000 USDX: royalty 200 USDX, pending 10 days
    settlement_id = _settle(chain, licence_id, 11, 2_000 * USDX, sequence=1)
    dispute_until = chain.ledger.settlement(settlement_id).dispute_until
    keeper = Keeper(chain, role("keeper"))

    _warp(chain, _year_end(chain, licence_id))  # year 0 has ended; the settlement is still pending
    assert dispute_until > _year_end(chain, licence_id)
    waiting = keeper.round()

    assert waiting.sent == 0 and waiting.waiting == [(licence_id, 0)]
    assert _guarantee_charges(chain, licence_id) == []

    _warp(chain, dispute_until)
    done = keeper.round()

    (release,) = done.released
    assert release.settlement_ids == (settlement_id,) and release.amount == 200 * USDX
    (charge,) = done.charged
    # guarantee 5,000 USDX - the year's royalty 200 USDX = shortfall 4,800 USDX
    assert (charge.year, charge.shortfall) == (0, 4_800 * USDX)
    assert _guarantee_charges(chain, licence_id) == [(0, 4_800 * USDX)]
    assert keeper.round().sent == 0


@pytest.mark.parametrize("fault", ["after_simulate", "after_send"])
def test_a_keeper_killed_mid_round_and_restarted_charges_exactly_once(chain: Chain, tmp_path: Path, fault: str) -> None:
    start = (_now(chain) - 360 * DAY) // DAY * DAY
    licence_id = _guarantee_licence(chain, start)
    _settle(chain, licence_id, 0, 10_000 * USDX, sequence=1)  # royalty 1,000 USDX
    _warp(chain, _year_end(chain, licence_id))

    crashed = _run_cli(chain, tmp_path, "keep", "--once", fault=fault)

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    # killed before the send: nothing charged; killed after it: the charge is on chain
    assert _guarantee_charges(chain, licence_id) == ([] if fault == "after_simulate" else [(0, 4_000 * USDX)])

    recovered = _run_cli(chain, tmp_path, "keep", "--once")
    again = _run_cli(chain, tmp_path, "keep", "--once")

    assert recovered.returncode == 0 and again.returncode == 0, recovered.stderr[-2000:] + again.stderr[-2000:]
    assert "0 guarantee charge(s)" in again.stdout
    assert _guarantee_charges(chain, licence_id) == [(0, 4_000 * USDX)]  # 5,000 - 1,000, once


def test_two_keepers_at_once_charge_once(chain: Chain) -> None:
    """Keeper B charges while keeper A is between its simulation and its send: A's transaction
    is refused by the ledger (GuaranteeAlreadyCharged on chain), and A then counts it done."""
    start = (_now(chain) - 360 * DAY) // DAY * DAY
    licence_id = _guarantee_licence(chain, start)
    _settle(chain, licence_id, 0, 10_000 * USDX, sequence=1)
    _warp(chain, _year_end(chain, licence_id))
    other = Keeper(chain, dev_account(19))
    other_rounds: list[RoundResult] = []

    def other_keeper_runs(point: str) -> None:
        if point == "after_simulate" and not other_rounds:
            other_rounds.append(other.round())

    first = Keeper(chain, role("keeper"), fault=other_keeper_runs).round()

    assert [c.shortfall for c in other_rounds[0].charged] == [4_000 * USDX]
    assert first.charged == [] and first.failed == 1  # sent after B's charge: reverted on chain
    assert _guarantee_charges(chain, licence_id) == [(0, 4_000 * USDX)]


def test_expiry_and_the_end_of_the_sell_off_are_logged_once_per_run(chain: Chain) -> None:
    start = (_now(chain) - 20 * DAY) // DAY * DAY
    end = start + 30 * DAY
    licence_id = register(chain, start, term=Term(start=start, end=end, sell_off_days=2, period_seconds=30 * DAY))
    keeper = Keeper(chain, role("keeper"))
    with capture_logs() as active:
        assert keeper.round().expired == []
    assert [e for e in active if e["event"] in ("licence_expired", "sell_off_ended")] == []

    _warp(chain, end + 2 * DAY)  # the term ended at `end`, its 2-day sell-off at end + 2 days
    with capture_logs() as ended:
        assert keeper.round().expired == [licence_id]
        assert keeper.round().expired == []  # once per run
    logged = [(e["event"], e["licence"], e["at"]) for e in ended if e["event"] in ("licence_expired", "sell_off_ended")]
    assert logged == [("licence_expired", licence_id, end), ("sell_off_ended", licence_id, end + 2 * DAY)]
    assert keeper.round().sent == 0  # nothing to write on chain


def test_sigterm_stops_the_keeper_between_rounds(chain: Chain, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    env = dict(os.environ, KEEPER_RPC_URL=chain.transport.url, KEEPER_MANIFEST=str(manifest))
    process = subprocess.Popen(
        [sys.executable, "-m", "oracle.cli", "keep", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        started = process.stderr.readline()
        assert "event='keeper_started'" in started
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "event='keeper_stopped'" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
