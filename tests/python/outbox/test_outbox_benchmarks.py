"""Benchmark values in the outbox (revision 0009, outbox.benchmarks), on SQLite and on PostgreSQL:
each (benchmark, day) stored once as published, a file loaded again is harmless, a stored value
is never overwritten (the line that tries is rejected naming the stored one), the latest value is
the latest day's, the holds of review triggers say something new only when what they wait for
changes, and the settled net sales sum settled reports only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from intake.benchmarks import BenchmarkFile, parse_benchmarks
from intake.feed import Rejection
from outbox import Outbox
from outbox.benchmarks import BenchmarksStored
from outbox.schema import reports_table

TODAY = date(2026, 12, 4)


def _file(*lines: str) -> BenchmarkFile:
    text = "date,benchmark,value\n" + "".join(f"{line}\n" for line in lines)
    return parse_benchmarks(text.encode().splitlines(keepends=True), today=TODAY)


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Outbox:
    location: Path | str = (
        tmp_path / "outbox.sqlite" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    box = Outbox(location)
    request.addfinalizer(box.close)
    return box


def test_values_are_stored_once_and_a_different_value_is_a_rejection_naming_the_stored_one(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        first = outbox.store_benchmarks(
            conn, _file("2026-11-30,DATA-LIC-RATE,4.20", "2026-12-01,DATA-LIC-RATE,4.60"), "a.csv"
        )
        assert first == BenchmarksStored(loaded=2, known=0, rejections=[])
        # Again, one value with a trailing zero (the same value), one changed, one new.
        again = _file("2026-11-30,DATA-LIC-RATE,4.200", "2026-12-01,DATA-LIC-RATE,4.7", "2026-12-01,OTHER,1")
        second = outbox.store_benchmarks(conn, again, "b.csv")
        assert (second.loaded, second.known) == (1, 1)
        assert second.rejections == [
            Rejection(
                3,
                "value",
                "4.7",
                "differs from the value stored for DATA-LIC-RATE 2026-12-01: 4.60, loaded from a.csv; "
                "the stored value stays",
            )
        ]
        assert [v.line_number for v in second.kept(again)] == [2, 4]
        assert [r.line_number for r in second.all_rejections(again)] == [3]
        stored = [(s.benchmark, s.day, s.value, s.text, s.file_name) for s in outbox.stored_benchmarks(conn)]
        assert stored == [
            ("DATA-LIC-RATE", date(2026, 11, 30), 4_200_000, "4.20", "a.csv"),
            ("DATA-LIC-RATE", date(2026, 12, 1), 4_600_000, "4.60", "a.csv"),
            ("OTHER", date(2026, 12, 1), 1_000_000, "1", "b.csv"),
        ]
        latest = outbox.latest_benchmark(conn, "DATA-LIC-RATE")
        assert latest is not None and (latest.day, latest.value) == (date(2026, 12, 1), 4_600_000)
        assert outbox.latest_benchmark(conn, "NONE") is None
        assert [s.benchmark for s in outbox.stored_benchmarks(conn, benchmarks=["OTHER"])] == ["OTHER"]


def test_a_review_hold_is_news_only_when_it_changes(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        assert outbox.hold_review(conn, 7, "benchmark", "X more than 10.00%", "no value of X is loaded") is True
        assert outbox.hold_review(conn, 7, "benchmark", "X more than 10.00%", "no value of X is loaded") is False
        assert outbox.hold_review(conn, 7, "volume", "100 token units", "0 over 0") is True
        assert outbox.hold_review(conn, 7, "benchmark", "X more than 10.00%", "within", "") is True
        assert outbox.hold_review(conn, 7, "benchmark", "X more than 10.00%", "within", "BenchmarkMoveWithin") is True
        conn.commit()
        holds = outbox.review_holds(conn)
        assert [(h.licence_id, h.trigger, h.reason, h.error) for h in holds] == [
            (7, "benchmark", "within", "BenchmarkMoveWithin"),
            (7, "volume", "0 over 0", ""),
        ]
        outbox.release_review_hold(conn, 7, "benchmark")
        conn.commit()
        assert [h.trigger for h in outbox.review_holds(conn)] == ["volume"]


def test_settled_net_sales_sum_settled_reports_less_their_returns(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        # buckets: year, territory, field, channel, units, gross, deductions
        def report(period: int, sequence: int, buckets: list[list[int]], **more: object) -> int:
            return outbox.add_report(
                conn, licence_id=5, period=period, sequence=sequence, deadline=2_000_000_000, lines_root=b"\x01" * 32,
                line_count=len(buckets), buckets=buckets, signatures=[b"\x02" * 65], **more,  # type: ignore[arg-type]
            )  # fmt: skip

        original = report(0, 1, [[0, 1, 0, 0, 3, 1_000_000, 100_000], [0, 2, 1, 0, 1, 500, 0]])
        correction = report(
            0, 2, [[0, 1, 0, 0, 1, 200_000, 0]], returned=[[0, 1, 0, 0, 1, 300_000, 50_000]], adjustment=1, corrects=1
        )
        unsettled = report(1, 3, [[0, 1, 0, 0, 1, 7, 0]])
        conn.commit()
        assert outbox.settled_net_sales(conn, 5) == (0, 0)
        for report_id in (original, correction):
            conn.execute(update(reports_table).where(reports_table.c.id == report_id).values(state="settled"))
        conn.commit()
        # (1,000,000 - 100,000) + (500 - 0) + (200,000 - 0) - (300,000 - 50,000)
        #   = 900,000 + 500 + 200,000 - 250,000 = 850,500; report 3 is not settled
        assert outbox.settled_net_sales(conn, 5) == (850_500, 2)
        assert outbox.get_report(conn, unsettled).state == "signed"
        assert outbox.settled_net_sales(conn, 6) == (0, 0)
