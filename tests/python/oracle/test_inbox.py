"""The watch service's inbox (oracle.inbox): every feed read once, whatever kills the watcher.

The crash tests run a round in a subprocess (``inbox_worker.py``: the real ingest into a real
outbox, no chain) that SIGKILLs itself at a step of a feed's life, then run it again; the outbox
must hold every good line exactly once, the feed must end in ``processed/`` with its rejects file
and receipt, and nothing named like a rejects file may ever be read as a feed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from oracle_testkit import csv_feed, csv_line, licence
from sqlalchemy import select

from oracle.inbox import STOPPED_DURING_ATTEMPT, FeedInbox
from oracle.ingest import IngestResult, ingest
from outbox import Outbox
from outbox.schema import files_table, lines_table, rejections_table

ROOT = Path(__file__).resolve().parents[3]
WORKER = Path(__file__).resolve().with_name("inbox_worker.py")
CHAIN_TIME = 1735689600 + 200 * 86_400
# Line numbers (the header is line 1) of the three bad lines of every feed written here.
BAD_LINES = {2: "territory", 5: "units", 9: "sale_date"}


def write_feed(path: Path, prefix: str, good: int) -> list[str]:
    """``good`` valid lines of licence 1 and the three BAD_LINES; returns the good line ids."""
    lines, ids, n = [], [], 0
    while len(ids) < good or len(lines) < max(BAD_LINES) - 1:
        number = len(lines) + 2
        if number == 2:
            lines.append(csv_line(line_id=f"{prefix}-bad-2", territory="XX"))
        elif number == 5:
            lines.append(csv_line(line_id=f"{prefix}-bad-5", units="-1"))
        elif number == 9:
            lines.append(csv_line(line_id=f"{prefix}-bad-9", sale_date="2025-02-30"))
        else:
            n += 1
            ids.append(f"{prefix}-{n}")
            lines.append(csv_line(line_id=ids[-1], sale_date=f"2025-0{1 + n % 6}-{1 + n % 28:02d}"))
    path.write_bytes(csv_feed(*lines))
    return ids


def run_worker(inbox: Path, outbox: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, str(WORKER), str(inbox), str(outbox), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def stored(outbox_path: Path) -> tuple[list[str], list[str], list[tuple[str, int]]]:
    """Line ids stored (one per row), the paths of the files read, and (path, line) of each rejection."""
    outbox = Outbox(outbox_path)
    try:
        with outbox.connect() as conn:
            ids = [row[0] for row in conn.execute(select(lines_table.c.line_id))]
            paths = [row[0] for row in conn.execute(select(files_table.c.path))]
            rejections = [
                (row[0], row[1])
                for row in conn.execute(
                    select(files_table.c.path, rejections_table.c.line_number).join(
                        files_table, files_table.c.id == rejections_table.c.file_id
                    )
                )
            ]
    finally:
        outbox.close()
    return ids, paths, rejections


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("point", ["after_claim", "mid_file", "after_ingest", "after_rejects", "before_move"])
def test_killed_at_each_step_of_a_feed_every_good_line_is_stored_exactly_once(tmp_path: Path, point: str) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox.sqlite"
    inbox.mkdir()
    count = 6_000 if point == "mid_file" else 50  # mid_file is reached after each batch of 5,000 lines
    good = write_feed(inbox / "acme.csv", "A", count)

    crashed = run_worker(inbox, outbox, "--kill", point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert files_in(inbox) == sorted(  # claimed, not finished; nothing written at the top of the inbox
        ["claimed/acme.csv/acme.csv", "claimed/acme.csv/acme.csv.attempts.json"]
        + (["claimed/acme.csv/acme.csv.rejects.csv.tmp"] if point in ("mid_file", "after_ingest") else [])
        + (["claimed/acme.csv/acme.csv.rejects.csv"] if point in ("after_rejects", "before_move") else [])
        + (["claimed/acme.csv/acme.csv.receipt.json"] if point == "before_move" else [])
    )

    resumed = run_worker(inbox, outbox)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout == '{"feed": "acme.csv", "state": "processed", "attempt": 2}\n'
    if point == "before_move":  # the latest moment: one more round finds nothing to do
        assert run_worker(inbox, outbox).stdout == ""

    ids, paths, rejections = stored(outbox)
    assert sorted(ids) == sorted(good)  # each good line once
    claimed = str(inbox / "claimed" / "acme.csv" / "acme.csv")
    assert paths == [claimed]  # one reading on record, of the feed itself: never of a rejects file
    assert sorted(rejections) == [(claimed, n) for n in sorted(BAD_LINES)]  # each rejection once
    done = inbox / "processed" / "acme.csv"
    assert files_in(inbox) == [
        f"processed/acme.csv/acme.csv{suffix}" for suffix in ("", ".attempts.json", ".receipt.json", ".rejects.csv")
    ]
    rejects = (done / "acme.csv.rejects.csv").read_text().splitlines()
    assert [line.split(",")[:2] for line in rejects] == [["line_number", "field"]] + [
        [str(n), field] for n, field in sorted(BAD_LINES.items())
    ]
    receipt = json.loads((done / "acme.csv.receipt.json").read_text())
    assert receipt["attempt"] == 2
    assert receipt["valid"] + receipt["duplicates"] == count
    assert (receipt["rejected"], receipt["lines_read"], receipt["rejects_file"]) == (
        3,
        count + 3,
        "acme.csv.rejects.csv",
    )
    attempts = json.loads((done / "acme.csv.attempts.json").read_text())["attempts"]
    assert [a.get("outcome") for a in attempts] == [STOPPED_DURING_ATTEMPT, None]


def _round(inbox: FeedInbox, outbox: Outbox, poison: str | None = None, error: BaseException | None = None) -> list:
    """One round in this process; reading the feed named ``poison`` raises ``error``."""
    conn = outbox.connect()
    licences = {1: licence()}

    def read(path: Path) -> IngestResult:
        if path.name == poison and error is not None:
            raise error
        return ingest(path, outbox, conn, licences, chain_time=CHAIN_TIME, resume=True)

    try:
        return inbox.run_round(read)
    finally:
        conn.close()


def test_rejects_files_and_other_names_in_the_inbox_are_never_read(tmp_path: Path) -> None:
    """Finding F1: an older oracle left ``X.csv.rejects.csv`` files at the top of the inbox."""
    root = tmp_path / "inbox"
    root.mkdir()
    good = write_feed(root / "acme.csv", "A", 5)
    leftovers = ["acme.csv.rejects.csv", "old.csv.rejects.csv.rejects.csv", ".partial.csv", "big.csv.part", "notes.txt"]
    for name in leftovers:
        (root / name).write_text("line_number,field,value,reason\n2,territory,XX,is not a published code\n")
    inbox, outbox = FeedInbox(root), Outbox(tmp_path / "outbox.sqlite")
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            _round(inbox, outbox)

    ids, paths, _ = stored(tmp_path / "outbox.sqlite")
    assert sorted(ids) == sorted(good)
    assert paths == [str(root / "claimed" / "acme.csv" / "acme.csv")]
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == sorted(leftovers)  # left as they were
    assert files_in(root / "processed") == [
        f"acme.csv/acme.csv{suffix}" for suffix in ("", ".attempts.json", ".receipt.json", ".rejects.csv")
    ]
    ignored = [entry for entry in logs if entry["event"] == "inbox_file_ignored"]
    logged = ["acme.csv.rejects.csv", "notes.txt", "old.csv.rejects.csv.rejects.csv"]  # not files being written
    assert sorted(Path(e["file"]).name for e in ignored) == logged
    assert {e["log_level"] for e in ignored} == {"warning"}  # once each over three rounds


def test_a_feed_that_kills_the_watcher_is_quarantined_after_three_attempts_and_the_others_go_through(
    tmp_path: Path,
) -> None:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox.sqlite"
    inbox.mkdir()
    write_feed(inbox / "0-poison.csv", "P", 20)
    good = write_feed(inbox / "1-good.csv", "G", 20)
    kill = ("--kill", "after_claim", "--only", "0-poison.csv")

    for attempt in (1, 2, 3):  # the attempts are counted on disk, across processes
        crashed = run_worker(inbox, outbox, *kill)
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
        record = json.loads((inbox / "claimed" / "0-poison.csv" / "0-poison.csv.attempts.json").read_text())
        assert [a["attempt"] for a in record["attempts"]] == list(range(1, attempt + 1))

    survived = run_worker(inbox, outbox, *kill)
    assert survived.returncode == 0, survived.stderr[-2000:]
    assert [json.loads(line) for line in survived.stdout.splitlines()] == [
        {"feed": "0-poison.csv", "state": "quarantined", "attempt": 3},
        {"feed": "1-good.csv", "state": "processed", "attempt": 1},
    ]
    ids, _, _ = stored(outbox)
    assert sorted(ids) == sorted(good)
    quarantined = inbox / "quarantine" / "0-poison.csv"
    assert sorted(p.name for p in quarantined.iterdir()) == [
        "0-poison.csv",
        "0-poison.csv.attempts.json",
        "0-poison.csv.reason.txt",
    ]
    reason = (quarantined / "0-poison.csv.reason.txt").read_text()
    assert "after 3 attempt(s)" in reason
    assert reason.count(STOPPED_DURING_ATTEMPT) == 3
    assert "move 0-poison.csv back to the top of the inbox" in reason
    assert files_in(inbox / "claimed") == []
    assert run_worker(inbox, outbox, *kill).stdout == ""  # quarantined for good: never read again


def test_a_feed_whose_reading_fails_is_retried_then_quarantined_while_the_others_go_through(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    write_feed(root / "0-poison.csv", "P", 5)
    good = write_feed(root / "1-good.csv", "G", 5)
    inbox, outbox = FeedInbox(root, max_attempts=3), Outbox(tmp_path / "outbox.sqlite")
    error = RuntimeError("the parsing process ended without finishing it")

    with structlog.testing.capture_logs() as logs:
        outcomes = [_round(inbox, outbox, "0-poison.csv", error) for _ in range(4)]
    rounds = [[(o.feed, o.state, o.attempt) for o in outcome] for outcome in outcomes]

    assert rounds == [
        [("0-poison.csv", "retrying", 1), ("1-good.csv", "processed", 1)],
        [("0-poison.csv", "retrying", 2)],
        [("0-poison.csv", "quarantined", 3)],
        [],
    ]
    assert sorted(stored(tmp_path / "outbox.sqlite")[0]) == sorted(good)
    events = [(e["event"], e.get("feed"), e.get("attempt", e.get("attempts"))) for e in logs]
    assert [e for e in events if e[0] in ("feed_failed", "feed_quarantined", "feed_processed")] == [
        ("feed_failed", "0-poison.csv", 1),
        ("feed_processed", "1-good.csv", 1),
        ("feed_failed", "0-poison.csv", 2),
        ("feed_failed", "0-poison.csv", 3),
        ("feed_quarantined", "0-poison.csv", 3),
    ]
    reason = (root / "quarantine" / "0-poison.csv" / "0-poison.csv.reason.txt").read_text()
    assert reason.count("RuntimeError: the parsing process ended without finishing it") == 3


def test_an_interrupted_attempt_does_not_count_against_the_feed(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    good = write_feed(root / "acme.csv", "A", 5)
    inbox, outbox = FeedInbox(root, max_attempts=1), Outbox(tmp_path / "outbox.sqlite")
    for _ in range(2):  # Ctrl-C / SIGTERM twice during the only attempt allowed
        with pytest.raises(KeyboardInterrupt):
            _round(inbox, outbox, "acme.csv", KeyboardInterrupt())
    record = json.loads((root / "claimed" / "acme.csv" / "acme.csv.attempts.json").read_text())
    assert record["attempts"] == []

    assert [(o.state, o.attempt) for o in _round(inbox, outbox)] == [("processed", 1)]
    assert sorted(stored(tmp_path / "outbox.sqlite")[0]) == sorted(good)


def test_a_feed_dropped_again_under_the_same_name_gets_its_own_bundle(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    inbox, outbox = FeedInbox(root), Outbox(tmp_path / "outbox.sqlite")
    first = write_feed(root / "acme.csv", "A", 5)
    _round(inbox, outbox)
    second = write_feed(root / "acme.csv", "B", 5)
    [outcome] = _round(inbox, outbox)
    assert outcome.bundle == root / "processed" / "acme.csv~2"
    assert outcome.result is not None and outcome.result.path == str(root / "processed" / "acme.csv~2" / "acme.csv")
    assert sorted(stored(tmp_path / "outbox.sqlite")[0]) == sorted(first + second)
    assert sorted(p.name for p in (root / "processed").iterdir()) == ["acme.csv", "acme.csv~2"]


def test_a_bundle_left_empty_by_a_crash_during_the_claim_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / "claimed" / "acme.csv").mkdir(parents=True)  # made, the feed not renamed into it yet
    good = write_feed(root / "acme.csv", "A", 5)
    inbox, outbox = FeedInbox(root), Outbox(tmp_path / "outbox.sqlite")
    [outcome] = _round(inbox, outbox)
    assert (outcome.state, outcome.bundle) == ("processed", root / "processed" / "acme.csv")
    assert list((root / "claimed").iterdir()) == []
    assert sorted(stored(tmp_path / "outbox.sqlite")[0]) == sorted(good)
