"""Kill the oracle (SIGKILL) at each stage, start it again: every report settles exactly once.

The oracle runs as its real CLI in a subprocess; a crashing run goes through
``crashing_oracle.py``, which injects a fault hook that makes it kill itself at the named point.
After the restart, the chain must hold exactly one settlement per period, for the amounts the
lines add up to, and the outbox must account for every line.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from oracle_world import USDX, chain_now, day, fund, register, write_feed
from sqlalchemy import select

from outbox import Outbox
from outbox.schema import files_table
from royalty_chain.client import Chain
from royalty_chain.terms import DAY

ROOT = Path(__file__).resolve().parents[3]
CRASHING_ORACLE = Path(__file__).resolve().with_name("crashing_oracle.py")


def _run_cli(
    chain: Chain, tmp_path: Path, *args: str, fault: str | None = None, batch_size: int | None = None
) -> subprocess.CompletedProcess[str]:
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    env = dict(os.environ)
    env.update(
        ORACLE_RPC_URL=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        ORACLE_MANIFEST=str(manifest),
        ORACLE_OUTBOX=str(tmp_path / "outbox.sqlite"),
        # Nil reports off: the fault points must be reached by this test's reports, not by nil
        # reports for the other tests' licences on this chain.
        ORACLE_NIL_REPORTS="false",
        # A killed run keeps the sender lease until it expires: the restart waits that long for it.
        ORACLE_LEASE_SECONDS="6",
        ORACLE_LEASE_RENEW_SECONDS="1",
    )
    if batch_size is not None:
        env["ORACLE_BATCH_SIZE"] = str(batch_size)
    command = [sys.executable, str(CRASHING_ORACLE), fault] if fault else [sys.executable, "-m", "oracle.cli"]
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def _settlements(chain: Chain, licence_id: int) -> list[tuple[int, int]]:
    logs = chain.ledger.events("Settled", licenceId=licence_id)
    return sorted((int(e.args["period"]), int(e.args["royalty"])) for e in logs)


def _feed(tmp_path: Path, licence_id: int, start: int, lines: int, seed: int) -> tuple[Path, dict[int, int]]:
    """``lines`` lines over periods 0 and 1 (shuffled); returns the expected royalty per period."""
    rng = random.Random(seed)
    rows, net = [], {0: 0, 1: 0}
    for i in range(lines):
        period = i % 2
        gross = rng.randrange(1, 10_000_000)  # up to 9.999999 USDX, in units
        net[period] += gross
        rows.append(
            f"L{seed}-{i},{licence_id},{day(start + period * 30 * DAY + (i % 29) * DAY)},US,apparel,online,1,"
            f"{gross // USDX}.{gross % USDX:06d},0,USD"
        )
    rng.shuffle(rows)
    return write_feed(tmp_path / f"feed-{seed}.csv", rows), {p: n * 1000 // 10_000 for p, n in net.items()}


FAULTS = ["mid_file", "after_sign", "after_mark_sent", "after_send"]


@pytest.mark.parametrize("fault", FAULTS)
def test_killed_at_each_stage_settles_exactly_once(chain: Chain, tmp_path: Path, fault: str) -> None:
    start = (chain_now(chain) - 65 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 1_000_000 * USDX)
    feed, expected = _feed(tmp_path, licence_id, start, 12_000, seed=FAULTS.index(fault))

    crashed = _run_cli(chain, tmp_path, "submit", str(feed), fault=fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    recovered = _run_cli(chain, tmp_path, "submit", str(feed))
    assert recovered.returncode == 0, recovered.stderr[-2000:] + recovered.stdout[-2000:]
    again = _run_cli(chain, tmp_path, "submit", str(feed))  # and once more: nothing changes
    assert again.returncode == 0, again.stderr[-2000:]

    assert _settlements(chain, licence_id) == sorted(expected.items())
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        counts = outbox.counts(conn)
    assert counts == {"lines_reported": 12_000, "reports_settled": 2}


@pytest.mark.parametrize("fault", ["after_mark_sent@3", "after_send@3"])
def test_killed_with_transactions_in_flight_settles_exactly_once(chain: Chain, tmp_path: Path, fault: str) -> None:
    """One report per transaction over five licences; the sender dies at its third transaction,
    with the first two possibly still in flight: the restart settles each period exactly once."""
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licences, rows = [], []
    for n in range(5):
        licence_id = register(chain, start)
        fund(chain, licence_id, 1_000 * USDX)
        licences.append(licence_id)
        rows.append(f"F-{n},{licence_id},{day(start + DAY)},US,apparel,retail,1,{n + 1}00.00,0,USD")
    feed = write_feed(tmp_path / "five.csv", rows)

    crashed = _run_cli(chain, tmp_path, "submit", str(feed), fault=fault, batch_size=1)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    settled_before = sum(bool(_settlements(chain, lid)) for lid in licences)
    assert settled_before <= 3  # the third was at most broadcast, the fourth never signed a transaction

    recovered = _run_cli(chain, tmp_path, "submit", str(feed), batch_size=1)
    assert recovered.returncode == 0, recovered.stderr[-2000:] + recovered.stdout[-2000:]

    # 10% of (n + 1) * 100.00 USDX for licence n, once each
    assert [_settlements(chain, lid) for lid in licences] == [[(0, (n + 1) * 10 * USDX)] for n in range(5)]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        assert outbox.counts(conn) == {"lines_reported": 5, "reports_settled": 5}


def test_transaction_lost_by_the_chain_is_sent_again(chain: Chain, tmp_path: Path) -> None:
    """The chain forgets the settlement (a restart from older state, a reorg): the oracle resends."""
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 1_000 * USDX)
    feed = write_feed(tmp_path / "one.csv", [f"R-1,{licence_id},{day(start)},GB,toys,retail,1,123.456789,0,USD"])
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    crashed = _run_cli(chain, tmp_path, "submit", str(feed), fault="after_send")
    assert crashed.returncode == -signal.SIGKILL
    assert _settlements(chain, licence_id) == [(0, 12_345_678)]
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    assert _settlements(chain, licence_id) == []

    recovered = _run_cli(chain, tmp_path, "send")
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert _settlements(chain, licence_id) == [(0, 12_345_678)]


def test_settled_events_match_outbox(chain: Chain, tmp_path: Path) -> None:
    """What the outbox records as settled is what the Settled events say, to the unit."""
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 1_000 * USDX)
    feed, expected = _feed(tmp_path, licence_id, start, 50, seed=7)
    result = _run_cli(chain, tmp_path, "submit", str(feed))
    assert result.returncode == 0, result.stderr[-2000:]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        reports = outbox.all_reports(conn)
    settled = {r.period: r.royalty for r in reports if r.state == "settled"}
    assert settled == {0: expected[0]}  # period 1 has not ended yet (it ends 60 days after start)
    receipt_logs = _settlements(chain, licence_id)
    assert receipt_logs == [(0, expected[0])]


def test_watch_killed_before_moving_a_feed_resumes_it_once_and_never_reads_its_rejects(
    chain: Chain, tmp_path: Path
) -> None:
    """Finding F1: killed after ingesting a feed with rejects but before moving it, the watch
    service left ``acme.csv.rejects.csv`` in the inbox, read it as a feed on restart, and looped.
    Now the feed is resumed from ``claimed/``, settles once, and only the feed itself is read."""
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 1_000 * USDX)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [f"W-{n},{licence_id},{day(start + n * DAY)},US,apparel,online,1,10.00,0,USD" for n in range(5)]
    rows.insert(2, f"W-bad,{licence_id},{day(start)},XX,apparel,online,1,10.00,0,USD")  # line 4: no such territory
    write_feed(inbox / "acme.csv", rows)

    crashed = _run_cli(chain, tmp_path, "watch", "--once", str(inbox), fault="after_rejects")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []  # nothing the next start could take for a feed
    recovered = _run_cli(chain, tmp_path, "watch", "--once", str(inbox))
    assert recovered.returncode == 0, recovered.stderr[-2000:] + recovered.stdout[-2000:]
    [resumed] = [line for line in recovered.stderr.splitlines() if "event='feed_attempt_started'" in line]
    assert "feed='acme.csv'" in resumed and "attempt=2 resumed=True" in resumed
    idle = _run_cli(chain, tmp_path, "watch", "--once", str(inbox))  # nothing left to read
    assert idle.returncode == 0 and "event='feed_" not in idle.stderr, idle.stderr[-2000:]

    assert _settlements(chain, licence_id) == [(0, 5 * USDX)]  # 10% of 5 x 10.00, once
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        assert outbox.counts(conn) == {"lines_reported": 5, "reports_settled": 1}
        read = [row[0] for row in conn.execute(select(files_table.c.path))]
    assert read == [str(inbox / "claimed" / "acme.csv" / "acme.csv")]
    done = inbox / "processed" / "acme.csv"
    assert sorted(p.name for p in done.iterdir()) == [
        "acme.csv",
        "acme.csv.attempts.json",
        "acme.csv.receipt.json",
        "acme.csv.rejects.csv",
    ]
    assert (done / "acme.csv.rejects.csv").read_text().splitlines()[1].startswith("4,territory,XX,")
