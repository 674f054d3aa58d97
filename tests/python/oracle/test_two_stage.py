"""Parsing on two cores gives item for item what parsing in one process gives, counts included."""

from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path

import pytest
from oracle_testkit import TODAY, csv_feed, csv_line, jsonl_line, licence

from bench.disk_seen import DiskSeenLines
from intake import twostage
from intake.feed import parse_feed
from intake.twostage import ParseProcessError, validate_two_stage
from intake.validate import InMemorySeenLines, Validator, validate


def mixed_lines(count: int, seed: int) -> list[str]:
    """Good lines, every kind of bad one, repeats of earlier lines and ids with other content."""
    rng = random.Random(seed)
    bad = [
        {"units": "-1"},
        {"gross": "12.3456789"},
        {"currency": "EUR"},
        {"licence_id": "7"},
        {"sale_date": "2031-01-01"},
        {"sale_date": "2024-12-31"},
        {"territory": "XX"},
        {"line_id": " padded"},
        {"deductions": "abc"},
    ]
    lines: list[str] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.1 and lines:
            lines.append(rng.choice(lines))  # the same line again: a duplicate (or the same rejection)
        elif roll < 0.15:
            lines.append(csv_line(line_id=f"INV-{rng.randrange(max(n, 1))}", gross="1.00"))  # maybe a conflict
        elif roll < 0.3:
            lines.append(csv_line(**{"line_id": f"BAD-{n}", **rng.choice(bad)}))
        elif roll < 0.32:
            lines.append("only,three,fields")
        else:
            territory = rng.choice(["US", "GB", "JP", "BR"])  # BR is out of scope
            lines.append(csv_line(line_id=f"INV-{n}", territory=territory, units=str(rng.randint(1, 9))))
    return lines


@pytest.mark.parametrize("batch", [1, 7, 2_000])
def test_two_stage_equals_one_process_with_the_same_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(twostage, "BATCH", batch)  # the forked process sees it
    feed = tmp_path / "feed.csv"
    feed.write_bytes(csv_feed(*mixed_lines(600, seed=batch)))
    one = Validator({1: licence()}, InMemorySeenLines())
    expected = list(validate(parse_feed(feed, today=TODAY, decimals=6), one))
    two = Validator({1: licence()}, InMemorySeenLines())

    got = list(validate_two_stage(feed, two, today=TODAY, decimals=6))

    assert got == expected
    assert two.stats == one.stats
    assert one.stats.duplicates > 0 and one.stats.out_of_scope > 0 and one.stats.rejected > 50  # all kinds met
    assert {type(x).__name__ for x in got} == {"ValidLine", "Rejection"}


def test_two_stage_over_jsonl_with_the_disk_seen_store(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    rows = [jsonl_line(line_id=f"J-{n}") for n in range(50)] + [jsonl_line(line_id="J-3"), "{not json"]
    feed.write_text("\n".join(rows) + "\n")
    one = Validator({1: licence()}, InMemorySeenLines())
    expected = list(validate(parse_feed(feed, today=TODAY), one))
    with DiskSeenLines() as seen:
        two = Validator({1: licence()}, seen)
        got = list(validate_two_stage(feed, two, today=TODAY))
    assert got == expected and two.stats == one.stats
    assert (one.stats.valid, one.stats.duplicates, one.stats.rejected) == (50, 1, 1)
    assert json.loads(rows[0])["line_id"] == "J-0"


def test_a_failure_in_the_parsing_process_is_raised_here(tmp_path: Path) -> None:
    validator = Validator({1: licence()}, InMemorySeenLines())
    with pytest.raises(ParseProcessError, match="FileNotFoundError"):
        list(validate_two_stage(tmp_path / "missing.csv", validator, today=TODAY))
    assert multiprocessing.active_children() == []


def test_stopping_early_ends_the_parsing_process(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(csv_feed(*(csv_line(line_id=f"INV-{n}") for n in range(20_000))))
    validator = Validator({1: licence()}, InMemorySeenLines())
    items = validate_two_stage(feed, validator, today=TODAY, decimals=6)
    first = next(items)
    assert first.line_id == "INV-0"  # type: ignore[union-attr]
    items.close()
    assert multiprocessing.active_children() == []
