"""Rate-review triggers fired by the oracle and the keeper, end to end on a real Anvil.

- benchmark: a licence (2 of its 3 oracles sign) with a review clause waits (logged once, shown by
  `royalty-oracle status`, no transaction) until a benchmark value dated since the clause and
  beyond its move is loaded (`royalty-oracle benchmarks load`, or POST /benchmarks); then the
  oracle signs the evidence with two of its keys and the review opens, read back through
  GET /licences/{id}/reviews. Again, or a new oracle on the same outbox, sends nothing; an oracle
  with one key of the three serves nothing of it; a refusal is logged with the contract's error;
- volume: cumulative net sales of the settled reports reach the threshold;
- a crash after the evidence was broadcast: the restart sends nothing twice;
- date: the keeper (`royalty-oracle keep --once`) fires the review once the chain's clock reaches
  the date (on a chain of its own, whose clock the test moves).

The session chain holds other tests' clauses: each test names its own benchmark and reads only
its own licences.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from oracle_world import USDX, chain_now, day, fund, register, write_feed
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from api.app import create_app
from api.services import build_services
from api.settings import ApiSettings
from intake.benchmarks import parse_benchmarks
from oracle import benchmarks_cli, cli
from oracle.keeper import Keeper
from oracle.reviews import ReviewFirer, evidence_digest
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import deploy, start_anvil
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.reviews import Evidence, ReviewClause, ReviewStatus, Trigger
from royalty_chain.terms import DAY, Schedule

ROOT = Path(__file__).resolve().parents[3]
CRASHING_ORACLE = Path(__file__).resolve().with_name("crashing_oracle.py")
SIGNERS = ("oracle1", "oracle2", "oracle3")
OPERATOR = {"Authorization": "Bearer operator", "Content-Type": "text/csv"}


def _printed(console: Console) -> str:
    text = console.export_text(clear=True)
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼":
        text = text.replace(rule, " ")
    return " ".join(text.split())


def _attach(chain: Chain, licence_id: int, clause: ReviewClause) -> None:
    deadline = chain_now(chain) + DAY
    digest = chain.reviews.attach_digest(licence_id, clause, deadline)
    licensor, licensee = (sign_digest(digest, role(r).key) for r in ("licensor_brand", "licensee_apparel"))
    chain.reviews.attach(licence_id, clause, deadline, licensor, licensee, role("relayer"))


def _licence(chain: Chain, clause: ReviewClause, start_days_ago: int = 1, **terms: object) -> int:
    start = chain_now(chain) - start_days_ago * DAY
    licence_id = int(register(chain, start, **terms))  # type: ignore[arg-type]
    _attach(chain, licence_id, clause)
    return licence_id


def _service(chain: Chain, outbox: Path, signers: tuple[str, ...] = SIGNERS) -> OracleService:
    return OracleService(chain, Outbox(outbox), [role(r) for r in signers], role("oracle_sender"), nil_reports=False)


def _today(chain: Chain) -> str:
    return day(chain_now(chain))


@pytest.fixture(scope="module")
def wall_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """A chain of this module's own whose clock nobody moves, for the tests loading a value dated
    today: the session chain's clock may be days ahead of the wall clock (other tests move it),
    and a benchmark value dated after the wall clock's today is refused as from the future."""
    local = start_anvil()
    try:
        yield Chain(local.url, deploy(local.url, tmp_path_factory.mktemp("wall") / "deployment.json"))
    finally:
        local.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chain: Chain) -> tuple[CliRunner, Console, Path]:
    return _env(tmp_path, monkeypatch, chain)


@pytest.fixture
def wall_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wall_chain: Chain) -> tuple[CliRunner, Console, Path]:
    return _env(tmp_path, monkeypatch, wall_chain)


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chain: Chain) -> tuple[CliRunner, Console, Path]:
    outbox = tmp_path / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox))
    monkeypatch.setenv("ORACLE_RPC_URL", chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    console = Console(width=300, record=True)
    monkeypatch.setattr(cli, "console", console)
    monkeypatch.setattr(benchmarks_cli, "console", console)
    return CliRunner(), console, outbox


def _load(runner: CliRunner, path: Path, text: str) -> None:
    path.write_text("date,benchmark,value\n" + text)
    result = runner.invoke(cli.app, ["benchmarks", "load", str(path)])
    assert result.exit_code == 0, result.output


def _ours(logs: list[dict[str, object]], event: str, licences: set[int]) -> list[dict[str, object]]:
    return [e for e in logs if e["event"] == event and e["licence"] in licences]


def test_a_benchmark_review_waits_for_a_value_beyond_the_move_then_fires_once(
    wall_chain: Chain, wall_env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    chain = wall_chain
    runner, console, outbox_path = wall_env
    assert _today(chain) == datetime.now(UTC).date().isoformat()  # its clock is the wall clock's
    # Two licences on one benchmark: A reviews beyond a 10.00% move, B beyond 15.00%; rate 500 bps.
    name = f"XB-{chain.registry.licence_count() + 1}"
    moves = {"A": 1_000, "B": 1_500}
    a, b = (
        _licence(chain, ReviewClause(benchmark=name, benchmark_at_signing=4_000_000, move_bps=moves[k]),
                 schedule=Schedule(rate_bps=500))
        for k in ("A", "B")
    )  # fmt: skip
    ours = {a, b}
    service = _service(chain, outbox_path)

    # No value loaded: nothing is sent, both are held, one log line each says what they wait for.
    block = chain.w3.eth.block_number
    with structlog.testing.capture_logs() as logs:
        reviews = service.fire_reviews()
    assert sorted((w.licence_id, w.trigger, w.waits_for) for w in reviews.waiting if w.licence_id in ours) == [
        (a, "benchmark", f"{name} more than 10.00% either way from 4.00"),
        (b, "benchmark", f"{name} more than 15.00% either way from 4.00"),
    ]
    waits = _ours(logs, "review_waits_for_benchmark", ours)
    assert [(e["licence"], e["reason"], e["latest_value"]) for e in waits] == [
        (a, f"no value of {name} is loaded (`royalty-oracle benchmarks load FILE`)", None),
        (b, f"no value of {name} is loaded (`royalty-oracle benchmarks load FILE`)", None),
    ]
    assert chain.w3.eth.block_number == block
    # Said once, not every round.
    with structlog.testing.capture_logs() as logs:
        service.fire_reviews()
    assert _ours(logs, "review_waits_for_benchmark", ours) == []

    # A value of yesterday (before the clauses were attached today) is no evidence, however far it moved.
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    _load(runner, tmp_path / "old.csv", f"{yesterday},{name},9.00\n")
    with structlog.testing.capture_logs() as logs:
        service.fire_reviews()
    (old,) = _ours(logs, "review_waits_for_benchmark", {a})
    assert old["reason"] == (
        f"the latest value, {name} 9.00 for {yesterday}, is dated before the clause was attached ({_today(chain)})"
    )
    assert chain.w3.eth.block_number == block

    # `status` shows the waiting triggers.
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert "Review triggers waiting:" in shown
    assert f"{a} benchmark {name} more than 10.00% either way from 4.00" in shown

    # Today's 4.60 through the API: |4.60 - 4.00| / 4.00 = 15.00%, more than A's 10.00% (fires),
    # not more than B's 15.00% (waits). A's review: rate 500 bps x 4.60 / 4.00 = 575 bps.
    chain.manifest.save(tmp_path / "manifest.json")
    services = build_services(
        ApiSettings(
            rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
            manifest=tmp_path / "manifest.json",
            database_url=str(tmp_path / "index.sqlite"),
            data_dir=tmp_path,
            run_indexer=False,
            oracle_outbox=outbox_path,
            operator_token=SecretStr("operator"),
        )
    )
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            today = f"date,benchmark,value\n{_today(chain)},{name},4.60\n"
            loaded = client.post("/benchmarks", params={"file_name": "today.csv"}, content=today, headers=OPERATOR)
            assert loaded.status_code == 200, loaded.text
            assert (loaded.json()["loaded"], loaded.json()["rejected"]) == (1, 0)

            with structlog.testing.capture_logs() as logs:
                reviews = service.fire_reviews()
            (opened,) = [o for o in reviews.opened if o.licence_id in ours]
            assert (opened.licence_id, opened.trigger, opened.observed, opened.reference) == (
                a, "benchmark", 4_600_000, 4_000_000
            )  # fmt: skip
            (line,) = _ours(logs, "review_opened", ours)
            assert {k: line[k] for k in ("licence", "review", "trigger", "observed", "reference")} == {
                "licence": a, "review": opened.review_id, "trigger": "benchmark",
                "observed": "4.60", "reference": "4.00",
            }  # fmt: skip
            assert (line["current_rate_bps"], line["suggested_rate_bps"], line["signers"]) == (500, 575, 2)
            (within,) = _ours(logs, "review_waits_for_benchmark", ours)
            assert (within["licence"], within["reason"]) == (
                b, f"the latest value, {name} 4.60 for {_today(chain)}, is within 15.00% of 4.00"
            )  # fmt: skip
            assert chain.reviews.fired(a, Trigger.BENCHMARK) and not chain.reviews.fired(b, Trigger.BENCHMARK)
            review = chain.reviews.review_of(opened.review_id)
            assert review is not None
            assert (review.observed, review.reference_value, review.numerator, review.denominator) == (
                4_600_000, 4_000_000, 4_600_000, 4_000_000
            )  # fmt: skip
            # As of the chain's time when signed: after the clause, not after the review opened.
            (attached,) = chain.reviews.events("ReviewClauseAttached", licenceId=a)
            assert attached.block_timestamp is not None
            assert attached.block_timestamp <= review.as_of <= review.opened_at
            services.indexer.sync()
            body = client.get(f"/licences/{a}/reviews").json()
            (shown_review,) = body["reviews"]
            assert (shown_review["review_id"], shown_review["status"], shown_review["suggested_rate_bps"]) == (
                opened.review_id, "open", 575
            )  # fmt: skip
            assert shown_review["justification"] == (
                f"benchmark {name} 4.00 -> 4.60 (+15.00%, more than the clause's 10.00%): rate 500 bps x 4.60 / 4.00 "
                "= 575 bps"
            )
            assert client.get(f"/licences/{b}/reviews").json()["reviews"] == []
    finally:
        services.close()
    with service.outbox.connect() as conn:
        assert [(h.licence_id, h.trigger) for h in service.outbox.review_holds(conn) if h.licence_id in ours] == [
            (b, "benchmark")
        ]

    # Again, from a new oracle on the same outbox (a restart): nothing more is sent.
    block = chain.w3.eth.block_number
    assert [o for o in service.fire_reviews().opened if o.licence_id in ours] == []
    assert [o for o in _service(chain, outbox_path).fire_reviews().opened if o.licence_id in ours] == []
    assert chain.w3.eth.block_number == block
    assert len(chain.reviews.events("ReviewOpened", licenceId=a)) == 1

    # An oracle holding one key of the three cannot sign 2 of 3: it serves neither licence.
    lone = _service(chain, tmp_path / "lone.sqlite", ("oracle1",))
    far = parse_benchmarks([b"date,benchmark,value\n", f"{_today(chain)},{name},9\n".encode()])
    lone.outbox.store_benchmarks(lone.conn, far, "far.csv")
    round_ = lone.fire_reviews()
    assert [w for w in round_.waiting if w.licence_id in ours] == [] and round_.opened == []
    assert chain.w3.eth.block_number == block

    # The same evidence signed again is refused by the chain: the trigger has fired.
    now = chain_now(chain)
    replay = Evidence(a, Trigger.BENCHMARK, 4_600_000, now, now + DAY)
    digest = evidence_digest(chain, replay)
    assert digest == chain.reviews.evidence_digest(replay)  # the digest the oracle signs is the contract's own
    signers = sorted((role(r) for r in SIGNERS[:2]), key=lambda x: int(x.address, 16))
    with pytest.raises(Exception, match="TriggerAlreadyFired"):
        chain.reviews.fire(replay, [sign_digest(digest, s.key) for s in signers], role("oracle_sender"))


def test_a_volume_review_fires_once_settled_net_sales_reach_the_threshold(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    """Threshold 1,000.00 USDX, agreed rate 600 bps (the licence's is 1,000 bps); 30-day periods
    from 65 days ago, so periods 0 and 1 have ended."""
    _, _, outbox_path = env
    clause = ReviewClause(volume_threshold=1_000 * USDX, volume_rate_bps=600)
    licence_id = _licence(chain, clause, start_days_ago=65)
    fund(chain, licence_id, 10_000 * USDX)
    start = chain.registry.period_bounds(licence_id, 0)[0]
    service = _service(chain, outbox_path)

    # Period 0: gross 600.00 less deductions 50.00 is 550.00 USDX net, below 1,000.00: it waits.
    service.ingest(
        write_feed(tmp_path / "p0.csv", [f"V-1,{licence_id},{day(start + DAY)},US,apparel,retail,2,600.00,50.00,USD"])
    )
    service.build_reports()
    assert len(service.send().settled) == 1
    block = chain.w3.eth.block_number
    with structlog.testing.capture_logs() as logs:
        reviews = service.fire_reviews()
    (waits,) = _ours(logs, "review_waits_for_volume", {licence_id})
    assert (waits["waits_for"], waits["reason"], waits["net"]) == (
        "cumulative net sales of 1000000000 token units",
        "cumulative net sales are 550000000 token units over 1 settled report(s), below 1000000000",
        550_000_000,
    )
    assert [w.trigger for w in reviews.waiting if w.licence_id == licence_id] == ["volume"]
    assert chain.w3.eth.block_number == block

    # Period 1: 500.00 more, none deducted: 550.00 + 500.00 = 1,050.00 USDX, at or above 1,000.00.
    service.ingest(
        write_feed(tmp_path / "p1.csv", [f"V-2,{licence_id},{day(start + 31 * DAY)},US,apparel,retail,1,500.00,0,USD"])
    )
    service.build_reports()
    assert len(service.send().settled) == 1
    with structlog.testing.capture_logs() as logs:
        reviews = service.fire_reviews()
    (opened,) = [o for o in reviews.opened if o.licence_id == licence_id]
    (line,) = _ours(logs, "review_opened", {licence_id})
    assert (line["trigger"], line["observed"], line["reference"]) == ("volume", "1050000000", "1000000000")
    review = chain.reviews.review_of(opened.review_id)
    assert review is not None
    assert (review.kind, review.status, review.observed, review.reference_value) == (
        Trigger.VOLUME, ReviewStatus.OPEN, 1_050_000_000, 1_000_000_000
    )  # fmt: skip
    assert (review.current_rate_bps, review.suggested_rate_bps) == (1000, 600)  # the agreed rate
    with service.outbox.connect() as conn:
        assert [h for h in service.outbox.review_holds(conn) if h.licence_id == licence_id] == []
    block = chain.w3.eth.block_number
    assert [o for o in _service(chain, outbox_path).fire_reviews().opened if o.licence_id == licence_id] == []
    assert chain.w3.eth.block_number == block


def test_a_refused_trigger_is_logged_with_the_contracts_error_and_held(
    chain: Chain, env: tuple[CliRunner, Console, Path], tmp_path: Path
) -> None:
    """Evidence past its deadline when sent (an oracle whose evidence lives -60 seconds): the
    reviews contract refuses it, EvidenceExpired; the refusal is held and logged once."""
    runner, console, outbox_path = env
    name = f"XR-{chain.registry.licence_count() + 1}"
    licence_id = _licence(chain, ReviewClause(benchmark=name, benchmark_at_signing=4_000_000, move_bps=1_000))
    service = _service(chain, outbox_path)
    service.outbox.store_benchmarks(
        service.conn, parse_benchmarks([b"date,benchmark,value\n", f"{_today(chain)},{name},3.50\n".encode()],
                                       today=datetime.fromtimestamp(chain_now(chain), UTC).date()), "x.csv",
    )  # fmt: skip
    expired = ReviewFirer(chain, service.outbox, service.conn, service.builder.signers_of, role("oracle_sender"),
                          ttl_seconds=-60)  # fmt: skip
    block = chain.w3.eth.block_number
    with structlog.testing.capture_logs() as logs:
        result = expired.round()
    (refused,) = _ours(logs, "review_refused", {licence_id})
    assert (refused["trigger"], refused["error"], refused["log_level"]) == ("benchmark", "EvidenceExpired", "warning")
    assert str(refused["reason"]).startswith("the reviews contract refuses the benchmark trigger: EvidenceExpired(")
    assert [(w.trigger, w.error, w.waits_for) for w in result.waiting if w.licence_id == licence_id] == [
        ("benchmark", "EvidenceExpired", f"{name} more than 10.00% either way from 4.00")
    ]
    assert chain.w3.eth.block_number == block and not chain.reviews.fired(licence_id, Trigger.BENCHMARK)
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert f"{licence_id} benchmark" in shown and "EvidenceExpired" in shown
    # 3.50 is -12.50% from 4.00, beyond 10.00% either way: an oracle with a live deadline fires it.
    (opened,) = [o for o in service.fire_reviews().opened if o.licence_id == licence_id]
    assert (opened.observed, opened.current_rate_bps, opened.suggested_rate_bps) == (3_500_000, 1000, 875)
    # 1,000 bps x 3.50 / 4.00 = 875 bps exactly


def test_killed_after_sending_the_evidence_the_restart_sends_nothing_twice(wall_chain: Chain, tmp_path: Path) -> None:
    chain = wall_chain  # today's value is loaded: a clock nobody moved
    name = f"XC-{chain.registry.licence_count() + 1}"
    licence_id = _licence(chain, ReviewClause(benchmark=name, benchmark_at_signing=4_000_000, move_bps=1_000))
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    values = tmp_path / "values.csv"
    values.write_text(f"date,benchmark,value\n{_today(chain)},{name},4.60\n")
    env = dict(os.environ)
    env.update(
        ORACLE_RPC_URL=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        ORACLE_MANIFEST=str(manifest),
        ORACLE_OUTBOX=str(tmp_path / "outbox.sqlite"),
        ORACLE_NIL_REPORTS="false",
        ORACLE_LEASE_SECONDS="6",
        ORACLE_LEASE_RENEW_SECONDS="1",
    )

    def run(*args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(CRASHING_ORACLE), fault] if fault else [sys.executable, "-m", "oracle.cli"]
        return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)

    assert run("benchmarks", "load", str(values)).returncode == 0
    crashed = run("send", fault="after_review_send")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert "fault_injected point=after_review_send" in crashed.stderr
    block = chain.w3.eth.block_number
    for _ in range(2):  # the restart, and once more
        recovered = run("send")
        assert recovered.returncode == 0, recovered.stderr[-2000:] + recovered.stdout[-2000:]
    assert chain.w3.eth.block_number == block  # the review had opened: nothing sent again
    assert len(chain.reviews.events("ReviewOpened", licenceId=licence_id)) == 1
    assert chain.reviews.fired(licence_id, Trigger.BENCHMARK)


@pytest.fixture(scope="module")
def own_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """A chain of this module's own, for the date review: the test moves its clock."""
    local = start_anvil()
    try:
        yield Chain(local.url, deploy(local.url, tmp_path_factory.mktemp("reviews") / "deployment.json"))
    finally:
        local.stop()


def test_the_keeper_fires_a_date_review_once_the_date_has_come(own_chain: Chain, tmp_path: Path) -> None:
    chain = own_chain
    review_at = chain_now(chain) + 10 * DAY
    licence_id = _licence(chain, ReviewClause(review_at=review_at), schedule=Schedule(rate_bps=700))
    service = _service(chain, tmp_path / "outbox.sqlite")
    # The oracle signs nothing for a date: it holds it, so that status shows it.
    (waiting,) = [w for w in service.fire_reviews().waiting if w.licence_id == licence_id]
    assert (waiting.trigger, waiting.waits_for, waiting.reason) == (
        "date", f"the review date {day(review_at)}",
        f"the review date {day(review_at)} has not come; the keeper fires it then (`royalty-oracle keep`)",
    )  # fmt: skip
    keeper = Keeper(chain, role("keeper"))
    block = chain.w3.eth.block_number
    assert keeper.round().reviews == []  # not yet
    assert chain.w3.eth.block_number == block

    chain.transport.call("evm_setNextBlockTimestamp", review_at)
    chain.transport.call("evm_mine")
    # `royalty-oracle keep --once`, as an operator runs it.
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    env = {
        **os.environ,
        "KEEPER_RPC_URL": chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        "KEEPER_MANIFEST": str(manifest),
    }
    kept = subprocess.run(
        [sys.executable, "-m", "oracle.cli", "keep", "--once"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert "1 date review(s) opened" in kept.stdout
    (opened,) = chain.reviews.events("ReviewOpened", licenceId=licence_id)
    review_id = int(opened.args["reviewId"])
    (line,) = [entry for entry in kept.stderr.splitlines() if "event='review_opened'" in entry]
    assert f"licence={licence_id} review={review_id} trigger='date'" in line
    assert "current_rate_bps=700 suggested_rate_bps=700" in line
    assert chain.w3.eth.get_transaction(opened.tx_hash)["from"] == role("keeper").address
    review = chain.reviews.review_of(review_id)
    assert review is not None
    # The clock is the evidence; a review meeting at the rate in force: 700 bps x 1 / 1.
    assert (review.kind, review.reference_value, review.current_rate_bps, review.suggested_rate_bps) == (
        Trigger.DATE, review_at, 700, 700
    )  # fmt: skip
    assert (review.numerator, review.denominator) == (1, 1)
    assert review.observed >= review_at
    # Again, and a new keeper (a restart): nothing more.
    block = chain.w3.eth.block_number
    assert keeper.round().reviews == [] and Keeper(chain, role("keeper")).round().reviews == []
    assert chain.w3.eth.block_number == block
    # The oracle sees it fired: the hold is gone.
    assert [w for w in service.fire_reviews().waiting if w.licence_id == licence_id] == []
    with service.outbox.connect() as conn:
        assert service.outbox.review_holds(conn) == []
