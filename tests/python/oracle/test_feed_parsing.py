"""Good feeds parse into exact SaleLines: BOM, CRLF, column order, JSON types, streaming."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from oracle_testkit import (
    TODAY,
    csv_feed,
    csv_line,
    iter_counting,
    jsonl_line,
    parse_csv_bytes,
    parse_jsonl_bytes,
)

from intake.errors import FeedFormatError
from intake.feed import COLUMNS, Rejection, SaleLine, parse_csv, parse_feed

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "feeds"

INV_1 = SaleLine(
    line_number=2,
    line_id="INV-1",
    licence_id=1,
    sale_day=1736035200,  # 2025-01-05T00:00:00Z
    territory=232,  # US
    field=10,  # software
    channel=1,  # online
    units=2,
    gross=199_980_000,
    deductions=0,
    currency="USD",
    decimals=6,
)


def test_csv_good_line_parses_to_exact_values() -> None:
    assert parse_csv_bytes(csv_feed(csv_line())) == [INV_1]
    assert INV_1.sale_date == date(2025, 1, 5)


def test_csv_with_bom_and_crlf_parses_like_plain_csv() -> None:
    plain = parse_csv_bytes(csv_feed(csv_line(), csv_line(line_id="INV-2")))
    windows = parse_csv_bytes(b"\xef\xbb\xbf" + csv_feed(csv_line(), csv_line(line_id="INV-2"), newline="\r\n"))

    assert windows == plain
    assert [x.line_number for x in windows] == [2, 3]


def test_csv_columns_may_come_in_any_order() -> None:
    order = list(reversed(COLUMNS))
    values = dict(zip(COLUMNS, csv_line().split(","), strict=True))
    data = (",".join(order) + "\n" + ",".join(values[c] for c in order) + "\n").encode()

    assert parse_csv_bytes(data) == [INV_1]


def test_csv_blank_lines_are_skipped_and_still_counted() -> None:
    data = csv_feed("", csv_line(), "", "", csv_line(line_id="INV-2"))

    assert [x.line_number for x in parse_csv_bytes(data)] == [3, 6]


def test_csv_quoted_line_id_with_a_comma_is_one_field() -> None:
    items = parse_csv_bytes(csv_feed(csv_line(line_id='"INV,1"')))

    assert isinstance(items[0], SaleLine)
    assert items[0].line_id == "INV,1"


def test_csv_amounts_keep_every_decimal_exactly() -> None:
    items = parse_csv_bytes(
        csv_feed(csv_line(gross="1234.5", deductions="0.000001"), csv_line(gross="007.100000")),
    )

    assert [(x.gross, x.deductions) for x in items if isinstance(x, SaleLine)] == [
        (1_234_500_000, 1),
        (7_100_000, 0),
    ]


def test_decimals_of_the_feed_are_recorded_on_each_line() -> None:
    items = parse_csv_bytes(csv_feed(csv_line(gross="0.0000001")), decimals=18)

    assert isinstance(items[0], SaleLine)
    assert (items[0].gross, items[0].decimals) == (100_000_000_000, 18)


def test_today_is_allowed_and_tomorrow_is_not() -> None:
    items = parse_csv_bytes(csv_feed(csv_line(sale_date="2025-06-30"), csv_line(sale_date="2025-07-01")))

    assert isinstance(items[0], SaleLine)
    assert items[1] == Rejection(3, "sale_date", "2025-07-01", "is in the future (today is 2025-06-30)")


def test_jsonl_accepts_integers_for_numeric_columns_and_strings_everywhere() -> None:
    data = "\r\n".join(
        [
            jsonl_line(),
            jsonl_line(line_id="INV-2", licence_id=1, units=2, gross=100, deductions=0),
            "",
        ]
    )
    items = parse_jsonl_bytes(b"\xef\xbb\xbf" + data.encode())

    assert items[0] == INV_1._replace(line_number=1)
    assert items[1] == INV_1._replace(line_number=2, line_id="INV-2", gross=100_000_000)


def test_parse_feed_picks_the_format_from_the_extension(tmp_path: Path) -> None:
    csv_path = tmp_path / "feed.csv"
    csv_path.write_bytes(csv_feed(csv_line()))
    jsonl_path = tmp_path / "feed.jsonl"
    jsonl_path.write_text(jsonl_line() + "\n")

    assert list(parse_feed(csv_path, today=TODAY, decimals=6)) == [INV_1]
    assert list(parse_feed(jsonl_path, today=TODAY, decimals=6)) == [INV_1._replace(line_number=1)]
    with pytest.raises(FeedFormatError, match=r"expected a \.csv, \.jsonl or \.ndjson file"):
        list(parse_feed(tmp_path / "feed.xlsx", today=TODAY))


def test_example_feeds_parse_with_the_documented_outcome() -> None:
    clean = list(parse_feed(EXAMPLES / "acme-2025q1.csv", today=TODAY, decimals=6))
    mixed = list(parse_feed(EXAMPLES / "acme-2025q1-with-errors.jsonl", today=TODAY, decimals=6))

    assert all(isinstance(x, SaleLine) for x in clean) and len(clean) == 8
    assert [(r.line_number, r.field) for r in mixed if isinstance(r, Rejection)] == [
        (3, "gross"),
        (4, "territory"),
        (5, "sale_date"),
        (6, "units"),
        (7, "gross"),
        (8, "line"),
        (9, "channel"),
        (10, "line"),
    ]


def _many_lines(count: int) -> list[bytes]:
    header = (",".join(COLUMNS) + "\n").encode()
    return [header] + [(csv_line(line_id=f"L{i}") + "\n").encode() for i in range(count)]


def test_parsing_is_lazy_it_reads_only_as_far_as_it_has_yielded() -> None:
    pulled = [0]
    items = parse_csv(iter_counting(_many_lines(10_000), pulled), today=TODAY, decimals=6)

    first = next(items)

    assert isinstance(first, SaleLine) and first.line_id == "L0"
    assert pulled[0] == 2  # the header and the first line, nothing read ahead


_PEAK_SCRIPT = """
import sys, tracemalloc
sys.path[:0] = sys.argv[3:]
from datetime import date
from oracle_testkit import csv_line
from intake.feed import COLUMNS, parse_csv
count = int(sys.argv[1])
lines = [(",".join(COLUMNS) + "\\n").encode()] + [
    (csv_line(line_id=f"L{i}") + "\\n").encode() for i in range(count)
]
tracemalloc.start()
for _ in parse_csv(iter(lines), today=date.fromisoformat(sys.argv[2]), decimals=6):
    pass
print(tracemalloc.get_traced_memory()[1])
"""


def test_memory_does_not_grow_with_the_number_of_lines() -> None:
    # Measured in a fresh interpreter: tracemalloc counts every thread's allocations, and other
    # tests leave servers running in this one.
    here = Path(__file__).resolve().parent
    paths = [str(here), str(here.parents[2])]

    def peak_while_streaming(count: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(count), TODAY.isoformat(), *paths],
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return int(done.stdout.strip())

    small, large = peak_while_streaming(1_000), peak_while_streaming(20_000)

    assert large < small + 64 * 1024, (small, large)


def test_binary_file_object_works_as_input() -> None:
    assert list(parse_csv(io.BytesIO(csv_feed(csv_line())), today=TODAY, decimals=6)) == [INV_1]
