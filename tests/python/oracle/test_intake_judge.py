"""intake.judge: lines of reported periods are valid (adjustments), and one UTC rule for "in the future"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from oracle_testkit import TERM_START, csv_feed, csv_line, licence

from intake.feed import Rejection
from intake.judge import judge, last_sale_date
from intake.validate import InMemorySeenLines, LicenceInfo, ValidationStats, ValidLine

DAY = 86400


class Reported:
    """Period 0 of licence 1 is in report 7; counts the questions asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    def report_of(self, licence_id: int, period: int) -> int | None:
        self.asked.append((licence_id, period))
        return 7 if (licence_id, period) == (1, 0) else None


def _judge(*lines: str) -> tuple[list[ValidLine | Rejection], ValidationStats, Reported]:
    reported = Reported()
    verdicts, stats = judge(
        ("csv", csv_feed(*lines)), {1: licence()}, InMemorySeenLines(), reported, chain_time=TERM_START + 200 * DAY
    )
    return list(verdicts), stats, reported


def test_a_line_of_a_reported_period_is_valid_it_goes_into_an_adjustment() -> None:
    verdicts, stats, reported = _judge(
        csv_line(line_id="L-1", sale_date="2025-01-05", territory="BR"),  # period 0 (reported), out of scope
        csv_line(line_id="L-1", sale_date="2025-01-05", territory="BR"),  # the same again: a duplicate
        csv_line(line_id="L-2", sale_date="2025-04-05"),  # period 1
    )

    assert [(v.line_number, v.line_id, v.period, v.in_scope) for v in verdicts if isinstance(v, ValidLine)] == [
        (2, "L-1", 0, False),
        (4, "L-2", 1, True),
    ]
    assert (stats.valid, stats.rejected, stats.duplicates, stats.out_of_scope) == (2, 0, 1, 1)
    assert reported.asked == []  # the report builder, not the validator, decides what is an adjustment


def test_a_line_accepted_before_its_period_was_reported_is_still_a_duplicate() -> None:
    seen = InMemorySeenLines()
    line = csv_line(line_id="D-1", sale_date="2025-01-05")
    first, _ = judge(("csv", csv_feed(line)), {1: licence()}, seen, None, chain_time=TERM_START)
    assert [type(v) for v in first] == [ValidLine]

    again, stats = judge(("csv", csv_feed(line)), {1: licence()}, seen, Reported(), chain_time=TERM_START)

    assert list(again) == []
    assert (stats.valid, stats.rejected, stats.duplicates) == (0, 0, 1)


@pytest.fixture
def far_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in UTC+14, where the local date is a day ahead of UTC's from 10:00 UTC."""
    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_today_is_the_utc_date_of_the_later_clock_wherever_the_process_runs(far_east: None) -> None:
    evening = datetime(2025, 6, 30, 23, 30, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(evening).date() == date(2025, 7, 1)  # the local date is tomorrow

    assert last_sale_date(int(evening) - 3 * DAY, now=evening) == date(2025, 6, 30)
    assert last_sale_date(int(evening) + DAY, now=evening) == date(2025, 7, 1)  # a chain ahead counts


def test_a_sale_dated_tomorrow_in_utc_is_in_the_future_east_of_utc(far_east: None) -> None:
    evening = datetime(2025, 6, 30, 23, 30, tzinfo=UTC).timestamp()
    verdicts, stats = judge(
        ("csv", csv_feed(csv_line(sale_date="2025-06-30"), csv_line(line_id="INV-2", sale_date="2025-07-01"))),
        {1: licence()},
        InMemorySeenLines(),
        None,
        chain_time=int(evening) - 60,
        now=evening,
    )

    assert list(verdicts)[1:] == [Rejection(3, "sale_date", "2025-07-01", "is in the future (today is 2025-06-30)")]
    assert (stats.valid, stats.rejected) == (1, 1)


def test_an_upload_asks_for_the_licences_its_lines_name_once() -> None:
    asked: list[set[int]] = []

    def licences_of(ids: set[int]) -> dict[int, LicenceInfo]:
        asked.append(ids)
        return {1: licence()}

    feed = csv_feed(csv_line(), csv_line(line_id="INV-2", licence_id="5"), csv_line(line_id="INV-3", units="x"))
    verdicts, stats = judge(("csv", feed), licences_of, InMemorySeenLines(), None, chain_time=TERM_START)

    assert [(v.line_number, v.field) for v in verdicts if isinstance(v, Rejection)] == [(3, "licence_id"), (4, "units")]
    assert asked == [{1, 5}]
    assert (stats.valid, stats.rejected) == (1, 2)


def test_a_feed_file_needs_every_licence_not_a_function(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="pass them as a mapping"):
        judge(tmp_path / "feed.csv", lambda ids: {}, InMemorySeenLines(), None, chain_time=TERM_START)
