"""Escalation steps end to end on a real Anvil: a licence with a clause both parties signed waits
(logged once, shown by `royalty-oracle status`, no transaction) until `royalty-oracle indices
load` stored both months of its next step; then the oracle signs the step with two of its keys
and the escalator appends the escalated schedule, in force from the anniversary. Running again,
or a new oracle on the same outbox, sends nothing more: the chain's stepsApplied is the record.
A step the escalator refuses is logged with the contract's error name, and the round goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog
from oracle_world import USDX, chain_now, register
from rich.console import Console
from typer.testing import CliRunner

from oracle import cli, indices_cli
from oracle.escalation import index_step_digest
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.escalation import Clause, IndexStep
from royalty_chain.terms import DAY, Schedule

FEE = 1_000 * USDX  # 1,000.000000 USDX a period
SIGNERS = ("oracle1", "oracle2", "oracle3")


def _printed(console: Console) -> str:
    text = console.export_text(clear=True)
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼":
        text = text.replace(rule, " ")
    return " ".join(text.split())


def _licence(chain: Chain, clause: Clause) -> int:
    """A licence that began yesterday (two contract years), with ``clause`` attached by both parties."""
    licence_id = int(
        register(chain, chain_now(chain) - DAY, schedule=Schedule(fixed_fee_per_period=FEE, rate_bps=1000))
    )
    deadline = chain_now(chain) + DAY
    digest = chain.escalator.attach_digest(licence_id, clause, deadline)
    licensor, licensee = (sign_digest(digest, role(r).key) for r in ("licensor_brand", "licensee_apparel"))
    chain.escalator.attach(licence_id, clause, deadline, licensor, licensee, role("relayer"))
    return licence_id


def _service(chain: Chain, outbox: Path) -> OracleService:
    return OracleService(chain, Outbox(outbox), [role(r) for r in SIGNERS], role("oracle_sender"), nil_reports=False)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chain: Chain) -> tuple[CliRunner, Console, Path]:
    outbox = tmp_path / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox))
    monkeypatch.setenv("ORACLE_RPC_URL", chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    console = Console(width=250, record=True)
    monkeypatch.setattr(cli, "console", console)
    monkeypatch.setattr(indices_cli, "console", console)
    return CliRunner(), console, outbox


def _load(runner: CliRunner, path: Path, text: str) -> None:
    path.write_text("index,month,value\n" + text)
    result = runner.invoke(cli.app, ["indices", "load", str(path)])
    assert result.exit_code == 0, result.output


def test_a_step_waits_for_its_values_then_is_signed_sent_and_never_sent_again(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    runner, console, outbox_path = env
    licence_id = _licence(chain, Clause(index="US-CPI-U", base_month=202409))
    anniversary = chain.registry.contract_year_bounds(licence_id, 1)[0]
    service = _service(chain, outbox_path)

    # No value stored: nothing is sent, the licence is held, one log line says what it waits for.
    block = chain.w3.eth.block_number
    with structlog.testing.capture_logs() as logs:
        steps = service.step_escalations()
    assert [(w.licence_id, w.step, w.missing) for w in steps.waiting if w.licence_id == licence_id] == [
        (licence_id, 1, [{"index": "US-CPI-U", "months": ["2024-09", "2025-09"]}])
    ]
    waits = [e for e in logs if e["event"] == "escalation_waits_for_index" and e["licence"] == licence_id]
    assert [(e["step"], e["index"], e["months"], e["reason"], e["log_level"]) for e in waits] == [
        (1, "US-CPI-U", ["2024-09", "2025-09"], "no values of US-CPI-U for 2024-09, 2025-09", "warning")
    ]
    assert chain.w3.eth.block_number == block
    assert chain.escalator.steps_applied(licence_id) == 0

    # Said once, not every round.
    with structlog.testing.capture_logs() as logs:
        service.step_escalations()
    assert [e for e in logs if e["event"] == "escalation_waits_for_index" and e["licence"] == licence_id] == []

    # `status` shows the waiting step.
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert "Escalation steps waiting:" in shown
    assert f"{licence_id} 1 US-CPI-U 2024-09, 2025-09" in shown

    # One month loaded: it still waits, now for the other one only (news, so logged).
    _load(runner, tmp_path / "cpi-2024.csv", "US-CPI-U,2024-09,300.000\n")
    with structlog.testing.capture_logs() as logs:
        service.step_escalations()
    waits = [e for e in logs if e["event"] == "escalation_waits_for_index" and e["licence"] == licence_id]
    assert [(e["months"], e["reason"]) for e in waits] == [(["2025-09"], "no value of US-CPI-U for 2025-09")]
    assert chain.w3.eth.block_number == block

    # The digest the oracle signs is the escalator's own.
    values = IndexStep(licence_id, 1, "US-CPI-U", 202409, 300_000_000, 202509, 309_300_000, chain_now(chain) + DAY)
    assert index_step_digest(chain, values) == chain.escalator.step_digest(values)

    # Both months loaded: the next round steps the licence, long before the anniversary.
    _load(runner, tmp_path / "cpi-2025.csv", "US-CPI-U,2025-09,309.300\n")
    with structlog.testing.capture_logs() as logs:
        steps = service.step_escalations()
    (stepped,) = [s for s in steps.stepped if s.licence_id == licence_id]
    (line,) = [e for e in logs if e["event"] == "escalation_stepped" and e["licence"] == licence_id]
    assert {k: line[k] for k in ("step", "index", "from_month", "to_month", "from_value", "to_value", "version")} == {
        "step": 1, "index": "US-CPI-U", "from_month": "2024-09", "to_month": "2025-09",
        "from_value": "300.000", "to_value": "309.300", "version": 1,
    }  # fmt: skip
    assert line["tx"] == stepped.tx_hash and line["effective_from"] == anniversary
    assert chain.escalator.steps_applied(licence_id) == 1
    assert chain.registry.schedule_count(licence_id) == 2
    # The index rose 309.300 / 300.000 = 1.031, held to no floor or cap, rounded down to a unit:
    #   fixed fee 1,000.000000 x 1.031 = 1,031.000000 USDX a period
    #   rate      1,000 bps    x 1.031 = 1,031 bps (10.31%)
    # in force from the anniversary (contract year 1's start); the year before keeps the signed terms.
    escalated = chain.registry.schedule_at(licence_id, anniversary)
    assert (escalated.effective_from, escalated.fixed_fee_per_period, escalated.rate_bps) == (
        anniversary,
        1_031_000_000,
        1031,
    )
    before = chain.registry.schedule_at(licence_id, anniversary - 1)
    assert (before.fixed_fee_per_period, before.rate_bps) == (FEE, 1000)
    with service.outbox.connect() as conn:
        assert [h for h in service.outbox.escalation_holds(conn) if h.licence_id == licence_id] == []

    # Again, and from a new oracle on the same outbox (a restart): nothing more is sent. Step 2
    # would take effect at contract year 2's start, which is not inside the two-year term.
    block = chain.w3.eth.block_number
    assert [s for s in service.step_escalations().stepped if s.licence_id == licence_id] == []
    restarted = _service(chain, outbox_path)
    again = restarted.step_escalations()
    assert [s for s in again.stepped if s.licence_id == licence_id] == []
    assert [w for w in again.waiting if w.licence_id == licence_id] == []
    assert chain.w3.eth.block_number == block
    assert chain.registry.schedule_count(licence_id) == 2

    # The same values signed again are refused by the chain, which the stepper takes as done.
    signers = sorted((role(r) for r in SIGNERS[:2]), key=lambda a: int(a.address, 16))
    replay = IndexStep(licence_id, 1, "US-CPI-U", 202409, 300_000_000, 202509, 309_300_000, chain_now(chain) + DAY)
    digest = index_step_digest(chain, replay)
    with pytest.raises(Exception, match="StepAlreadyApplied"):
        chain.escalator.step(replay, [sign_digest(digest, a.key) for a in signers], role("oracle_sender"))


def test_a_refused_step_is_logged_with_its_error_and_the_other_licences_still_step(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    runner, console, outbox_path = env
    implausible = _licence(chain, Clause(index="XX-JUMP", base_month=202401))
    plain = _licence(chain, Clause(index="XX-PLAIN", base_month=202401))
    # The index has no values; its successor has: the step uses the successor.
    succeeded = _licence(chain, Clause(index="XX-OLD", successor="XX-NEW", base_month=202401))
    _load(
        runner,
        tmp_path / "values.csv",
        "XX-JUMP,2024-01,100\nXX-JUMP,2025-01,250\n"  # 2.5 times: more than doubling
        "XX-PLAIN,2024-01,300\nXX-PLAIN,2025-01,309.3\n"
        "XX-NEW,2024-01,200\nXX-NEW,2025-01,190\n",  # down 5%
    )
    service = _service(chain, outbox_path)
    with structlog.testing.capture_logs() as logs:
        steps = service.step_escalations()
    # The session chain holds other tests' licences with clauses too: this test reads its own.
    ours = {implausible, plain, succeeded}
    (refused,) = [e for e in logs if e["event"] == "escalation_refused" and e["licence"] in ours]
    assert (refused["licence"], refused["step"], refused["error"], refused["log_level"]) == (
        implausible, 1, "IndexChangeImplausible", "warning"
    )  # fmt: skip
    assert refused["reason"].startswith("the escalator refuses step 1: IndexChangeImplausible(")
    assert sorted((s.licence_id, s.index) for s in steps.stepped if s.licence_id in ours) == [
        (plain, "XX-PLAIN"),
        (succeeded, "XX-NEW"),
    ]
    assert chain.escalator.steps_applied(implausible) == 0
    assert chain.escalator.steps_applied(plain) == chain.escalator.steps_applied(succeeded) == 1
    # 1,000.000000 x 190 / 200 = 950.000000 USDX; 1,000 bps x 0.95 = 950 bps
    anniversary = chain.registry.contract_year_bounds(succeeded, 1)[0]
    lowered = chain.registry.schedule_at(succeeded, anniversary)
    assert (lowered.fixed_fee_per_period, lowered.rate_bps) == (950_000_000, 950)

    # The refusal is held and said once; status shows it with its reason.
    block = chain.w3.eth.block_number
    with structlog.testing.capture_logs() as logs:
        again = service.step_escalations()
    assert [
        e for e in logs if e["event"] in ("escalation_refused", "escalation_stepped") and e["licence"] in ours
    ] == []
    assert [(w.licence_id, w.error) for w in again.waiting if w.licence_id in ours] == [
        (implausible, "IndexChangeImplausible")
    ]
    assert chain.w3.eth.block_number == block
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert f"{implausible} 1" in shown and "the escalator refuses step 1: IndexChangeImplausible(" in shown


def _mined(chain: Chain, sender: str) -> None:
    """Waits (at most 10 s) until every transaction ``sender`` broadcast is in a block."""
    deadline = time.monotonic() + 10
    while chain.w3.eth.get_transaction_count(sender, "pending") != chain.w3.eth.get_transaction_count(sender):
        if time.monotonic() > deadline:
            raise AssertionError(f"{sender}'s transactions are still pending after 10 s")
        time.sleep(0.02)


class _Crash(Exception):
    """The process dying at a fault point."""


def _crash_at(point: str) -> Callable[[str], None]:
    def hook(reached: str) -> None:
        if reached == point:
            raise _Crash(point)

    return hook


def test_a_crash_between_send_and_receipt_never_steps_twice(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    runner, _, outbox_path = env
    licence_id = _licence(chain, Clause(index="XX-CRASH", base_month=202402))
    _load(runner, tmp_path / "values.csv", "XX-CRASH,2024-02,120\nXX-CRASH,2025-02,126\n")
    crashing = OracleService(
        chain, Outbox(outbox_path), [role(r) for r in SIGNERS], role("oracle_sender"), nil_reports=False,
        fault=_crash_at("after_step_send"),
    )  # fmt: skip
    with pytest.raises(_Crash):
        crashing.step_escalations()  # broadcast, the receipt never read
    _mined(chain, role("oracle_sender").address)  # Anvil mines it a moment after the broadcast
    assert chain.escalator.steps_applied(licence_id) == 1
    block = chain.w3.eth.block_number
    restarted = _service(chain, outbox_path)
    assert [s for s in restarted.step_escalations().stepped if s.licence_id == licence_id] == []
    assert chain.w3.eth.block_number == block
    assert chain.registry.schedule_count(licence_id) == 2


def test_a_step_still_pending_when_the_next_round_reads_the_chain_is_refused_and_taken_as_done(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    """The chain's stepsApplied (at the latest block) says 0 while the first sender's step waits in
    the node's pool: the second one is simulated against the pending block, refused
    StepAlreadyApplied and counted done, so nothing is sent twice."""
    runner, _, outbox_path = env
    licence_id = _licence(chain, Clause(index="XX-POOL", base_month=202403))
    _load(runner, tmp_path / "values.csv", "XX-POOL,2024-03,120\nXX-POOL,2025-03,126\n")
    signers = sorted((role(r) for r in SIGNERS[:2]), key=lambda a: int(a.address, 16))
    values = IndexStep(licence_id, 1, "XX-POOL", 202403, 120_000_000, 202503, 126_000_000, chain_now(chain) + DAY)
    digest = index_step_digest(chain, values)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        chain.transact(
            chain.escalator.step_fn(values, [sign_digest(digest, a.key) for a in signers]), role("relayer"), wait=False
        )
        with structlog.testing.capture_logs() as logs:
            steps = _service(chain, outbox_path).step_escalations()
    finally:
        chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert (licence_id, 1) in steps.done
    assert [s for s in steps.stepped if s.licence_id == licence_id] == []
    already = [e["licence"] for e in logs if e["event"] == "escalation_already_stepped" and e["licence"] == licence_id]
    assert already == [licence_id]
    assert chain.escalator.steps_applied(licence_id) == 1
    assert chain.registry.schedule_count(licence_id) == 2
