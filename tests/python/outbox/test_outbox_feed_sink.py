"""The API's sink over the outbox: exact "stored" counts, connections released after each upload."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from oracle_testkit import line_leaf
from sqlalchemy import event

from intake.validate import ValidLine
from outbox import Outbox
from outbox.linestore import OutboxFeedSink

LICENSEE = "0x00000000000000000000000000000000000000aa"


def _line(line_id: str, number: int) -> ValidLine:
    leaf = line_leaf(line_id, 3, 2, 1_700_000_000, 232, 10, 1, 1, 100, 0)
    return ValidLine(number, line_id, 3, 2, 1, 1_700_000_000, 232, 10, 1, 1, 100, 0, leaf, True)


def _oracle_made(tmp_path: Path) -> Path:
    path = tmp_path / "outbox.sqlite"
    oracle = Outbox(path)
    with oracle.connect() as conn:
        oracle.store_lines(conn, {3: LICENSEE}, [_line("KNOWN-1", 1)], source="feed.csv")
        conn.commit()
    oracle.close()
    return path


def test_stored_counts_only_what_this_upload_added_while_the_oracle_commits_lines(tmp_path: Path) -> None:
    path = _oracle_made(tmp_path)
    outbox = Outbox.existing(path)
    sink = OutboxFeedSink(outbox, lambda _licence: LICENSEE.upper().replace("0X", "0x"))

    @event.listens_for(outbox.engine, "before_cursor_execute")
    def _oracle_commits_meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT OR IGNORE INTO lines"):  # the oracle's ingest, between the API's reads
            other = Outbox(path)
            with other.connect() as conn:
                other.store_lines(conn, {3: LICENSEE}, [_line("ORACLE-1", 7), _line("ORACLE-2", 8)], "feed2.csv")
                conn.commit()
            other.close()

    summary = sink.accept([_line("NEW-1", 1), _line("KNOWN-1", 2)])
    assert (summary["stored"], summary["already_known"]) == (1, 1)
    db = sqlite3.connect(path)
    assert sorted(r[0] for r in db.execute("SELECT line_id FROM lines")) == ["KNOWN-1", "NEW-1", "ORACLE-1", "ORACLE-2"]
    db.close()
    outbox.close()


def test_an_uploads_views_of_the_outbox_release_their_connections(tmp_path: Path) -> None:
    outbox = Outbox.existing(_oracle_made(tmp_path))
    sink = OutboxFeedSink(outbox, lambda _licence: LICENSEE)
    kept = []  # held on to, as a request may hold them: release must not wait for the garbage collector
    for upload in range(5):
        with sink.seen_lines() as seen, sink.reported_periods() as reported:
            assert outbox.engine.pool.checkedout() == 2  # type: ignore[attr-defined]
            assert seen.claim(LICENSEE, "KNOWN-1", b"\x00" * 32) == _line("KNOWN-1", 1).leaf
            assert seen.claim(LICENSEE, f"UP-{upload}", b"\x01" * 32) is None
            assert reported.report_of(3, 2) is None  # licence 3, period 2: not reported yet
            kept.append((seen, reported))
        assert outbox.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    outbox.close()
