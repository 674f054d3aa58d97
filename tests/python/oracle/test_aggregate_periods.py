"""Totals per licence, period and bucket: exact, ordered, independent of the line order."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
from oracle_testkit import TERM_START, csv_feed, csv_line, licence, line_leaf, parse_csv_bytes

from intake.feed import parse_feed
from intake.merkle import merkle_root
from intake.money import UINT128_MAX
from intake.validate import InMemorySeenLines, Validator, ValidLine, validate
from oracle.aggregate import Aggregator, BucketOverflowError, BucketSums, PeriodTotals

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "feeds"
DAY = 86400

LINES = [
    csv_line(line_id="A", territory="US", units="2", gross="10.50", deductions="0.50"),
    csv_line(line_id="B", territory="GB", units="1", gross="5", deductions="0"),
    csv_line(line_id="C", territory="US", units="3", gross="0.000001", deductions="0"),
    csv_line(line_id="D", territory="US", channel="retail", units="1", gross="7", deductions="1"),
    csv_line(line_id="E", territory="IT", units="4", gross="40", deductions="0"),  # out of scope
    csv_line(line_id="F", sale_date="2025-04-02", units="9", gross="90", deductions="9"),
    csv_line(line_id="A", territory="US", units="2", gross="10.50", deductions="0.50"),  # dup
]


def add_all(aggregator: Aggregator, lines: Iterable[ValidLine]) -> None:
    """Add every line (the oracle adds the lines of one period as it reads them back)."""
    for line in lines:
        aggregator.add(line)


def aggregate(lines: Iterable[ValidLine]) -> list[PeriodTotals]:
    aggregator = Aggregator()
    add_all(aggregator, lines)
    return aggregator.finish()


def run(lines: list[str]) -> list[PeriodTotals]:
    validator = Validator({1: licence()}, InMemorySeenLines())
    valid = [x for x in validate(parse_csv_bytes(csv_feed(*lines)), validator) if isinstance(x, ValidLine)]
    return aggregate(valid)


def test_buckets_hold_exact_sums_sorted_by_territory_field_channel() -> None:
    first, second = run(LINES)

    # Contract year 0 (2025); US=232, GB=76, IT=109; software=10; online=1, retail=0
    assert first.buckets == (
        BucketSums(0, 76, 10, 1, units=1, gross=5_000_000, deductions=0, in_scope=True),
        BucketSums(0, 109, 10, 1, units=4, gross=40_000_000, deductions=0, in_scope=False),
        BucketSums(0, 232, 10, 0, units=1, gross=7_000_000, deductions=1_000_000, in_scope=True),
        BucketSums(0, 232, 10, 1, units=5, gross=10_500_001, deductions=500_000, in_scope=True),
    )
    assert (first.licence_id, first.period, first.line_count) == (1, 0, 5)
    assert (second.licence_id, second.period, second.line_count) == (1, 1, 1)
    assert second.buckets == (BucketSums(0, 232, 10, 1, 9, 90_000_000, 9_000_000, True),)


def test_a_period_across_a_contract_year_end_has_buckets_of_each_year_listed_by_year() -> None:
    # 90-day periods from 2025-01-01, contract years from the start: period 4 runs from day 360
    # (2025-12-27) to day 450 (2026-03-27) and holds the anniversary 2026-01-01 (day 365).
    lines = [
        csv_line(line_id="Y1", sale_date="2026-01-01", territory="GB", gross="50"),  # year 1
        csv_line(line_id="Y0", sale_date="2025-12-31", territory="US", gross="20"),  # year 0
        csv_line(line_id="Y1b", sale_date="2026-03-26", territory="US", gross="5"),  # year 1, last day
    ]
    validator = Validator({1: licence(term_end=TERM_START + 730 * DAY)}, InMemorySeenLines())
    valid = [x for x in validate(parse_csv_bytes(csv_feed(*lines), today=date(2026, 6, 30)), validator)]
    assert [(x.line_id, x.period, x.year) for x in valid] == [("Y1", 4, 1), ("Y0", 4, 0), ("Y1b", 4, 1)]

    (period,) = aggregate(x for x in valid if isinstance(x, ValidLine))

    # Sorted by (year, territory, field, channel): year 0's US bucket before year 1's GB and US.
    assert period.buckets == (
        BucketSums(0, 232, 10, 1, units=2, gross=20_000_000, deductions=0, in_scope=True),
        BucketSums(1, 76, 10, 1, units=2, gross=50_000_000, deductions=0, in_scope=True),
        BucketSums(1, 232, 10, 1, units=2, gross=5_000_000, deductions=0, in_scope=True),
    )


def test_root_commits_to_exactly_the_period_lines() -> None:
    first, second = run(LINES)
    jan_5, apr_2 = TERM_START + 4 * DAY, TERM_START + 91 * DAY

    assert first.lines_root == merkle_root(
        [
            line_leaf("A", 1, 0, jan_5, 232, 10, 1, 2, 10_500_000, 500_000),
            line_leaf("B", 1, 0, jan_5, 76, 10, 1, 1, 5_000_000, 0),
            line_leaf("C", 1, 0, jan_5, 232, 10, 1, 3, 1, 0),
            line_leaf("D", 1, 0, jan_5, 232, 10, 0, 1, 7_000_000, 1_000_000),
            line_leaf("E", 1, 0, jan_5, 109, 10, 1, 4, 40_000_000, 0),
        ]
    )
    assert second.lines_root == line_leaf("F", 1, 1, apr_2, 232, 10, 1, 9, 90_000_000, 9_000_000)


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_lines_give_the_same_totals_and_root(seed: int) -> None:
    shuffled = LINES[:]
    random.Random(seed).shuffle(shuffled)

    ordered, mixed = run(LINES), run(shuffled)

    assert [(p.buckets, p.lines_root, p.line_count) for p in mixed] == [
        (p.buckets, p.lines_root, p.line_count) for p in ordered
    ]


def test_periods_are_sorted_by_licence_then_period() -> None:
    lines = [
        ValidLine(1, "x", 2, 1, 0, TERM_START, 0, 0, 0, 1, 1, 0, bytes([1]) * 32, True),
        ValidLine(2, "y", 1, 3, 0, TERM_START, 0, 0, 0, 1, 1, 0, bytes([2]) * 32, True),
        ValidLine(3, "z", 1, 0, 0, TERM_START, 0, 0, 0, 1, 1, 0, bytes([3]) * 32, True),
    ]

    assert [(p.licence_id, p.period) for p in aggregate(lines)] == [(1, 0), (1, 3), (2, 1)]


def test_bucket_total_beyond_uint128_is_an_error_naming_the_bucket() -> None:
    half = UINT128_MAX // 2 + 1
    aggregator = Aggregator()
    for i in range(2):
        aggregator.add(ValidLine(i, f"L{i}", 1, 0, 2, 0, 3, 4, 5, 1, half, 0, bytes([i]) * 32, True))

    with pytest.raises(BucketOverflowError) as caught:
        aggregator.finish()

    assert (caught.value.licence_id, caught.value.period, caught.value.bucket) == (1, 0, (2, 3, 4, 5))
    assert caught.value.column == "gross"
    assert caught.value.total == 2 * half


def test_nothing_to_aggregate_gives_no_periods() -> None:
    assert aggregate([]) == []


def test_example_csv_feed_aggregates_to_known_totals() -> None:
    validator = Validator({1: licence()}, InMemorySeenLines())
    items = validate(parse_feed(EXAMPLES / "acme-2025q1.csv", today=date(2025, 6, 30)), validator)
    [period] = aggregate(x for x in items if isinstance(x, ValidLine))

    assert period.line_count == 8
    assert sum(b.gross for b in period.buckets) == 59_024_100_001  # 59,024.100001 USD
    assert sum(b.deductions for b in period.buckets) == 300_460_000
    assert sum(b.units for b in period.buckets) == 1093
    assert [b.in_scope for b in period.buckets].count(False) == 0


def many_lines(count: int, seed: int) -> list[ValidLine]:
    """Lines over 3 licences x 5 periods, some sharing one leaf (the sort must keep them all)."""
    rng = random.Random(seed)
    repeated = rng.randbytes(32)
    lines = []
    for n in range(count):
        territory = rng.randint(0, 3)
        line = ValidLine(
            line_number=n,
            line_id=f"L{n}",
            licence_id=rng.randint(1, 3),
            period=rng.randint(0, 4),
            year=rng.randint(0, 1),
            sale_day=TERM_START,
            territory=territory,
            field=10,
            channel=rng.randint(0, 1),
            units=rng.randint(1, 9),
            gross=rng.randint(1, 10**9),
            deductions=rng.randint(0, 10**6),
            leaf=repeated if n % 50 == 0 else rng.randbytes(32),
            in_scope=territory != 3,  # scope is a property of the bucket
        )
        lines.append(line)
    return lines


def in_memory_totals(lines: list[ValidLine]) -> list[PeriodTotals]:
    aggregator = Aggregator(max_leaves_in_memory=10**9)
    add_all(aggregator, lines)
    totals = aggregator.finish()
    assert aggregator.spilled_leaves == 0
    return totals


@pytest.mark.parametrize("cap", [1, 7, 100, 1000])
def test_a_small_memory_cap_spills_to_disk_and_gives_the_same_totals(cap: int, tmp_path: Path) -> None:
    lines = many_lines(1500, seed=cap)
    shuffled = lines[:]
    random.Random(cap).shuffle(shuffled)
    aggregator = Aggregator(max_leaves_in_memory=cap, spill_dir=tmp_path)

    add_all(aggregator, shuffled[:700])
    for line in shuffled[700:]:
        aggregator.add(line)
    totals = aggregator.finish()

    assert totals == in_memory_totals(lines)
    assert [(p.licence_id, p.period) for p in totals] == [(a, b) for a in (1, 2, 3) for b in range(5)]
    assert aggregator.spilled_leaves > 0
    assert 0 < aggregator.peak_leaves_in_memory <= cap
    assert list(tmp_path.iterdir()) == []  # every spill and partition file deleted


@pytest.mark.parametrize("cap", [1, 7])
def test_periods_bigger_than_the_cap_are_sorted_in_partitions(cap: int, tmp_path: Path) -> None:
    # Leaves that share 248 leading bits, and many copies of one leaf: the partitions must
    # split on the bits where the leaves differ, and stop splitting equal ones.
    close = [bytes(31) + bytes([i]) for i in range(200)]
    lines = [
        ValidLine(n, f"L{n}", 1, 0, 0, TERM_START, 0, 0, 0, 1, 1, 0, leaf, True) for n, leaf in enumerate(close * 3)
    ]
    aggregator = Aggregator(max_leaves_in_memory=cap, spill_dir=tmp_path)

    add_all(aggregator, reversed(lines))
    [totals] = aggregator.finish()

    assert totals == PeriodTotals(1, 0, 600, (BucketSums(0, 0, 0, 0, 600, 600, 0, True),), merkle_root(close * 3))
    assert aggregator.partitioned_leaves >= 600
    assert aggregator.peak_leaves_in_memory <= cap
    assert list(tmp_path.iterdir()) == []


def test_an_error_in_finish_still_deletes_the_spill_files(tmp_path: Path) -> None:
    half = UINT128_MAX // 2 + 1
    aggregator = Aggregator(max_leaves_in_memory=2, spill_dir=tmp_path)
    for i in range(5):
        aggregator.add(ValidLine(i, f"L{i}", 1, 0, 2, 0, 3, 4, 5, 1, half, 0, bytes([i]) * 32, True))
    assert list(tmp_path.iterdir()) != []

    with pytest.raises(BucketOverflowError):
        aggregator.finish()

    assert list(tmp_path.iterdir()) == []


def test_leaving_a_with_block_deletes_the_spill_files(tmp_path: Path) -> None:
    with Aggregator(max_leaves_in_memory=3, spill_dir=tmp_path) as aggregator:
        add_all(aggregator, many_lines(20, seed=1))
        assert aggregator.spilled_leaves > 0

    assert list(tmp_path.iterdir()) == []
    assert aggregator.finish() == []  # nothing left to report


def test_finish_empties_the_aggregator_for_the_next_feed() -> None:
    lines = many_lines(30, seed=2)
    aggregator = Aggregator(max_leaves_in_memory=4)

    add_all(aggregator, lines)
    first = aggregator.finish()
    add_all(aggregator, lines)
    second = aggregator.finish()

    assert first == second == in_memory_totals(lines)
    assert aggregator.leaves_in_memory == 0


def test_memory_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Aggregator(max_leaves_in_memory=0)
