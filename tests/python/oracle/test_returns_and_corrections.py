"""Returns, cancels and replaces: their feed columns, leaves and verdicts, without a chain.

Licence 1 of the testkit: USD with 6 decimals, 90-day periods from 2025-01-01.
"""

from __future__ import annotations

from pathlib import Path

from eth_abi import encode as abi_encode
from oracle_testkit import TERM_START, csv_feed, licence, line_leaf, parse_csv_bytes

from intake.feed import Rejection, SaleLine, parse_feed
from intake.judge import judge
from intake.merkle import LINE_CANCEL, LINE_REPLACE, LINE_RETURN, NO_REF, keccak256, leaf_entry
from intake.validate import InMemorySeenLines, PendingLines, Validator, ValidLine, validate
from oracle.aggregate import Aggregator
from royalty_chain.codes import channel_index, field_index, territory_index

HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,action,returns_line_id"
US, SOFTWARE, ONLINE = territory_index("US"), field_index("software"), channel_index("online")
DAY = 86400
JAN_5 = TERM_START + 4 * DAY
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "feeds"


def _feed(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _row(line_id: str, units: str, gross: str, deductions: str = "0", action: str = "", ref: str = "") -> str:
    return f"{line_id},1,2025-01-05,US,software,online,{units},{gross},{deductions},USD,{action},{ref}"


def _judge(data: bytes) -> list[ValidLine | Rejection]:
    verdicts, _ = judge(("csv", data), {1: licence()}, InMemorySeenLines(), None, chain_time=TERM_START + 100 * DAY)
    return list(verdicts)


def _why(items: list[ValidLine | Rejection]) -> list[tuple[int, str, str]]:
    return [(r.line_number, r.field, r.reason) for r in items if isinstance(r, Rejection)]


def test_an_entry_leaf_is_the_documented_encoding_and_never_a_sales_leaf() -> None:
    ref = keccak256(b"S-1")
    leaf = leaf_entry(LINE_RETURN, "R-1", (1).to_bytes(32, "big"), 0, JAN_5, US, SOFTWARE, ONLINE, -2, -200, -5, ref)
    encoded = abi_encode(
        [*("uint8", "bytes32", "uint256", "uint32", "uint64", "uint8", "uint8", "uint8"), *["int256"] * 3, "bytes32"],
        [LINE_RETURN, keccak256(b"R-1"), 1, 0, JAN_5, US, SOFTWARE, ONLINE, -2, -200, -5, ref],
    )
    assert len(encoded) == 12 * 32  # a sale's leaf hashes 10 words: the preimages cannot be equal
    assert leaf == keccak256(keccak256(encoded))
    # The same values as a sale, a cancel and a replace: four different leaves.
    sale = line_leaf("R-1", 1, 0, JAN_5, US, SOFTWARE, ONLINE, 2, 200, 5)
    cancel = leaf_entry(LINE_CANCEL, "R-1", (1).to_bytes(32, "big"), 0, JAN_5, US, SOFTWARE, ONLINE, 2, 200, 5, sale)
    replace = leaf_entry(LINE_REPLACE, "R-1", (1).to_bytes(32, "big"), 0, JAN_5, US, SOFTWARE, ONLINE, 2, 200, 5, sale)
    assert len({leaf, sale, cancel, replace}) == 4


def test_the_corrections_example_parses_to_a_return_a_cancel_and_a_replace() -> None:
    items = list(parse_feed(EXAMPLES / "acme-2025q1-corrections.csv", decimals=6))
    assert [(i.line_id, i.kind, i.units, i.gross, i.deductions, i.ref) for i in items if isinstance(i, SaleLine)] == [
        ("CN-2025-0001", LINE_RETURN, -2, -199_980_000, -9_990_000, "INV-2025-0001"),
        ("INV-2025-0002", LINE_CANCEL, 0, 0, 0, ""),
        ("INV-2025-0003", LINE_REPLACE, 38, 3_420_000_000, 171_000_000, ""),
    ]


def test_an_old_feed_without_the_optional_columns_reads_exactly_as_before() -> None:
    (line,) = parse_csv_bytes(csv_feed("INV-1,1,2025-01-05,US,software,online,2,199.98,0,USD"))
    assert line == SaleLine(2, "INV-1", 1, JAN_5, US, SOFTWARE, ONLINE, 2, 199_980_000, 0, "USD", 6)


def test_a_return_takes_back_at_most_what_the_sale_it_names_sold() -> None:
    items = _judge(
        _feed(
            _row("S-1", "10", "1000"),
            _row("R-1", "-4", "-400", "-10", ref="S-1"),  # fine
            _row("R-2", "-12", "-100", ref="S-1"),
            _row("R-3", "-1", "-1000.50", ref="S-1"),
            _row("R-4", "-1", "-5", ref="NOT-SEEN"),  # a credit note
            _row("R-5", "-1", "-5", ref="R-1"),
        )
    )
    assert _why(items) == [
        (4, "units", "returns 12 units of line S-1, which sold 10"),
        (5, "gross", "returns 1000.5 of gross of line S-1, which sold 1000"),
        (7, "returns_line_id", "is line R-1, which is itself a return"),
    ]
    returns = [(i.line_id, i.kind, i.units, i.gross) for i in items if isinstance(i, ValidLine) and i.kind]
    assert returns == [("R-1", LINE_RETURN, -4, -400_000_000), ("R-4", LINE_RETURN, -1, -5_000_000)]


def test_cancels_and_replaces_judged_against_the_lines_latest_version() -> None:
    items = _judge(
        _feed(
            _row("S-1", "1", "100"),
            _row("S-1", "2", "200", action="replace"),
            _row("S-1", "2", "200", action="replace"),  # the values it has: a duplicate
            "S-1,1,,,,,,,,,cancel,",
            "S-1,1,,,,,,,,,cancel,",
            "S-1,1,2025-01-05,US,software,online,3,300,0,USD,replace,",
            "X-1,1,,,,,,,,,cancel,",
            "X-2,1,2025-01-05,US,software,online,1,1,0,USD,replace,",
            _row("S-2", "1", "100"),
            "S-2,1,2025-06-05,US,software,online,1,100,0,USD,replace,",
        )
    )
    assert _why(items) == [
        (6, "line_id", "cancels line S-1, which was already cancelled"),
        (7, "line_id", "replaces line S-1, which was already cancelled"),
        (8, "line_id", "cancels line X-1, which this oracle never accepted"),
        (9, "line_id", "replaces line X-2, which this oracle never accepted"),
        (11, "sale_date", "moves line S-2 from period 0 to period 1: cancel it and add a new line instead"),
    ]
    valid = [i for i in items if isinstance(i, ValidLine)]
    assert [(v.line_id, v.kind, v.revision, v.units, v.previous) for v in valid] == [
        ("S-1", 0, 0, 1, None),
        # the version it replaces, with its sale day and its currency ("": the licence's)
        ("S-1", LINE_REPLACE, 1, 2, (0, US, SOFTWARE, ONLINE, 1, 100_000_000, 0, JAN_5, "", 0)),
        ("S-1", LINE_CANCEL, 2, 2, None),  # a cancel carries the values it takes away
        ("S-2", 0, 0, 1, None),
    ]
    # Each version's leaf names the one it removes.
    assert valid[2].leaf == leaf_entry(
        LINE_CANCEL, "S-1", (1).to_bytes(32, "big"), 0, JAN_5, US, SOFTWARE, ONLINE, 2, 200_000_000, 0, valid[1].leaf
    )


def test_a_cancel_of_a_line_of_an_earlier_run_asks_the_seen_store() -> None:
    seen = InMemorySeenLines()
    validator = Validator({1: licence()}, seen, pending=PendingLines())
    first = list(validate(parse_csv_bytes(_feed(_row("S-1", "1", "100"))), validator))
    assert [type(i) for i in first] == [ValidLine]

    # InMemorySeenLines keeps leaves only: without the run's lines, the cancel finds nothing.
    again = Validator({1: licence()}, seen)
    (refused,) = validate(parse_csv_bytes(_feed("S-1,1,,,,,,,,,cancel,")), again)
    assert isinstance(refused, Rejection)
    assert refused.reason == "cancels line S-1, which this oracle never accepted"


def test_aggregated_returns_cancels_and_replaces_land_in_sales_and_returned_buckets() -> None:
    items = _judge(
        _feed(
            _row("S-1", "10", "1000"),
            _row("S-2", "1", "100"),
            _row("R-1", "-2", "-200", "-20", ref="S-1"),
            "S-2,1,,,,,,,,,cancel,",
        )
    )
    aggregator = Aggregator()
    for item in items:
        assert isinstance(item, ValidLine)
        aggregator.add(item)
    (totals,) = aggregator.finish()
    assert totals.line_count == 4
    # S-1 and S-2 sold; R-1 and S-2's cancel take away (the builder nets a cancel against a
    # version in the same report instead: see oracle.reports).
    assert [(b.units, b.gross, b.deductions) for b in totals.buckets] == [(11, 1_100_000_000, 0)]
    assert [(b.units, b.gross, b.deductions) for b in totals.returned] == [(3, 300_000_000, 20_000_000)]
    assert bytes(32) == NO_REF
