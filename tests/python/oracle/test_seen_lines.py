"""The outbox's SeenLines and the Bloom filter in front of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from oracle_testkit import LICENSEE, TERM_START, line_leaf

from intake.bloom import LineIdBloom
from intake.validate import ValidLine
from outbox import Outbox, OutboxSeenLines


def leaf_of(line_id: str, version: int = 0) -> bytes:
    return line_leaf(line_id, 1, 0, TERM_START, 232, 10, 1, 1 + version, 100, 0)


@pytest.mark.parametrize("bits", [0, 63, 100])
def test_filter_size_must_be_a_power_of_two_of_at_least_64(bits: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        LineIdBloom(bits)


def stored_lines(count: int) -> list[ValidLine]:
    return [
        ValidLine(n, f"INV-{n}", 1, 0, 0, TERM_START, 232, 10, 1, 1, 100, 0, leaf_of(f"INV-{n}"), True)
        for n in range(count)
    ]


@pytest.mark.parametrize("bloom_after", [0, 2, 1000])
def test_outbox_seen_lines_find_lines_stored_in_an_earlier_run(bloom_after: int, tmp_path: Path) -> None:
    licensee = LICENSEE.lower()
    outbox = Outbox(tmp_path / "outbox.sqlite")
    lines = stored_lines(40)
    with outbox.connect() as conn:
        seen = OutboxSeenLines(outbox, conn, bloom_after=bloom_after)
        assert [seen.claim(licensee, x.line_id, x.leaf) for x in lines] == [None] * 40
        outbox.store_lines(conn, {1: licensee}, lines, source="first.csv")
        conn.commit()
        seen.flushed()

    with outbox.connect() as conn:
        seen = OutboxSeenLines(outbox, conn, bloom_after=bloom_after)
        assert seen.claim(licensee, "NEW-1", leaf_of("NEW-1")) is None
        assert seen.claim(licensee, "INV-3", leaf_of("INV-3")) == leaf_of("INV-3")  # the same line again
        assert seen.claim(licensee, "INV-4", leaf_of("INV-4", 1)) == leaf_of("INV-4")  # other content
        assert seen.claim(licensee, "NEW-1", leaf_of("NEW-1", 1)) == leaf_of("NEW-1")  # in the batch
        assert seen.claim("0xother", "INV-3", leaf_of("INV-3")) is None  # another licensee's namespace
        if bloom_after == 0:
            assert (seen.bloom_positives, seen.db_lookups) == (3, 2)  # no query for a new id


def test_outbox_seen_lines_see_lines_another_process_stored_since_the_filter_was_read(tmp_path: Path) -> None:
    """The API stores lines into the same outbox while the oracle reads a feed: after the
    oracle's next batch is stored, its filter knows them, and a conflicting repeat is caught."""
    licensee = LICENSEE.lower()
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as oracle_conn, outbox.connect() as api_conn:
        oracle = OutboxSeenLines(outbox, oracle_conn, bloom_after=0)  # the filter is read at once
        first = stored_lines(3)
        assert [oracle.claim(licensee, x.line_id, x.leaf) for x in first] == [None] * 3
        # Meanwhile the API stores a line the oracle has not seen.
        api_line = stored_lines(5)[4]
        outbox.store_lines(api_conn, {1: licensee}, [api_line], source="api upload")
        api_conn.commit()
        outbox.store_lines(oracle_conn, {1: licensee}, first, source="feed.csv")
        oracle_conn.commit()
        oracle.flushed()

        before = oracle.db_lookups
        assert oracle.claim(licensee, api_line.line_id, leaf_of(api_line.line_id, 1)) == api_line.leaf
        assert oracle.db_lookups == before + 1  # a filter positive, answered exactly from the database
