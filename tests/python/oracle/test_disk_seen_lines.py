"""The bench's DiskSeenLines (bench/disk_seen.py) answers exactly like InMemorySeenLines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from oracle_testkit import TERM_START, TODAY, licence, line_leaf

from bench.disk_seen import DiskSeenLines
from intake.feed import Rejection, parse_feed
from intake.validate import InMemorySeenLines, SeenLines, Validator, ValidLine, validate

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "feeds"
Claim = tuple[str, str, bytes]


def leaf_of(line_id: str, version: int = 0) -> bytes:
    return line_leaf(line_id, 1, 0, TERM_START, 232, 10, 1, 1 + version, 100, 0)


def claims(count: int, seed: int, ascending: bool) -> list[Claim]:
    """New ids for two licensees (ascending like invoice numbers, or shuffled), with about one
    claim in five repeating an earlier id: mostly the same line again, sometimes other content."""
    rng = random.Random(seed)
    ids = [f"INV-{n}" for n in range(count)] + ["Ä-1", "x", "INV-0\x00"]  # lengths 1..8, non-ASCII, NUL
    if not ascending:
        rng.shuffle(ids)
    made: list[Claim] = []
    for line_id in ids:
        made.append((rng.choice(["0xaa", "0xbb"]), line_id, leaf_of(line_id)))
        if rng.random() < 0.2:
            licensee, earlier, _ = rng.choice(made)
            if rng.random() < 0.1:  # the other licensee's id space: new there
                licensee = "0xbb" if licensee == "0xaa" else "0xaa"
            made.append((licensee, earlier, leaf_of(earlier, version=rng.choice([0, 0, 1]))))
    return made


def answers(seen: SeenLines, sequence: list[Claim]) -> list[bytes | None]:
    return [seen.claim(*claim) for claim in sequence]


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("bloom_from_start", [False, True])
@pytest.mark.parametrize("bloom_bits", [64, 1 << 12, 1 << 26])
def test_disk_store_answers_exactly_like_the_dict(
    ascending: bool, bloom_from_start: bool, bloom_bits: int, tmp_path: Path
) -> None:
    sequence = claims(400, seed=bloom_bits + ascending, ascending=ascending)
    expected = answers(InMemorySeenLines(), sequence)

    with DiskSeenLines(
        tmp_path / "seen.sqlite", bloom_bits=bloom_bits, batch_size=7, bloom_from_start=bloom_from_start
    ) as seen:
        got = answers(seen, sequence)

    assert got == expected
    assert sum(x is not None for x in got) > 50  # repeats were found, in batches and on disk
    stats = seen.stats
    assert stats.flushes > 50
    assert stats.ids_in_runs + stats.ids_out_of_order == expected.count(None)
    if bloom_bits == 64:  # one word for ~400 ids: nearly every new id is a false positive
        assert stats.false_positives > 100
    if not ascending:
        assert stats.ids_out_of_order > 0


def test_ids_found_after_reopening_the_same_file(tmp_path: Path) -> None:
    sequence = claims(300, seed=3, ascending=True) + claims(300, seed=4, ascending=False)
    expected = answers(InMemorySeenLines(), sequence)
    got: list[bytes | None] = []

    for start in range(0, len(sequence), 150):
        with DiskSeenLines(tmp_path / "seen.sqlite", bloom_bits=1 << 10, batch_size=11) as seen:
            got += answers(seen, sequence[start : start + 150])

    assert got == expected


def test_ascending_ids_need_no_filter_until_one_comes_out_of_order(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite"
    with DiskSeenLines(path, batch_size=4) as seen:
        assert answers(seen, [("0xaa", f"INV-{n}", leaf_of(f"INV-{n}")) for n in (8, 9, 10, 11, 100)]) == [None] * 5
        assert seen.stats.filter_loaded is None
        assert seen.stats.ids_in_runs == 4  # one batch written, one id pending

    with DiskSeenLines(path, batch_size=4) as seen:
        assert seen.claim("0xaa", "INV-101", leaf_of("INV-101")) is None
        assert seen.claim("0xaa", "INV-9", leaf_of("INV-9", 1)) == leaf_of("INV-9")  # below: the filter starts
        assert seen.claim("0xaa", "INV-12", leaf_of("INV-12")) is None
        assert seen.stats.filter_loaded == 5  # read from the file; INV-101 was pending
        assert seen.stats.bloom_positives == 1


def test_temporary_store_is_deleted_on_close() -> None:
    seen = DiskSeenLines()
    assert seen.claim("0xaa", "INV-1", leaf_of("INV-1")) is None
    assert seen.claim("0xaa", "INV-1", leaf_of("INV-1")) == leaf_of("INV-1")

    seen.close()

    assert not seen.path.exists()
    assert not seen.path.parent.exists()


def test_validator_with_the_disk_store_gives_the_same_results_as_with_the_dict() -> None:
    feed = EXAMPLES / "acme-2025q1-with-errors.jsonl"

    def twice(seen: SeenLines) -> tuple[list[ValidLine | Rejection], Validator]:
        validator = Validator({1: licence()}, seen)
        items = list(validate(parse_feed(feed, today=TODAY), validator))
        items += validate(parse_feed(feed, today=TODAY), validator)  # the feed sent again
        return items, validator

    with DiskSeenLines(batch_size=2) as seen:
        items, with_disk = twice(seen)
    expected, with_dict = twice(InMemorySeenLines())

    assert items == expected
    assert with_disk.stats == with_dict.stats
    assert with_dict.stats.duplicates > with_dict.stats.valid > 0


@pytest.mark.parametrize("bits", [0, 63, 100])
def test_filter_size_must_be_a_power_of_two_of_at_least_64(bits: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        DiskSeenLines(bloom_bits=bits)
