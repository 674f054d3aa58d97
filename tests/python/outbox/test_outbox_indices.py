"""Index values in the outbox (revision 0008, outbox.indices), on SQLite and on PostgreSQL: each
(index, month) stored once as published, a file loaded again is harmless, a stored value is
never overwritten (the line that tries is rejected naming the stored value), and the holds of
licences waiting for values say something new only when what they wait for changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.feed import Rejection
from intake.indices import IndexFile, parse_indices
from outbox import Outbox
from outbox.indices import IndicesStored

TODAY = date(2025, 12, 31)


def _file(*lines: str) -> IndexFile:
    text = "index,month,value\n" + "".join(f"{line}\n" for line in lines)
    return parse_indices(text.encode().splitlines(keepends=True), today=TODAY)


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
        first = outbox.store_indices(conn, _file("US-CPI-U,2024-09,315.301", "US-CPI-U,2025-09,324.800"), "a.csv")
        assert first == IndicesStored(loaded=2, known=0, rejections=[])
        # Again, with one value written with a trailing zero (the same value) and one changed.
        again = _file("US-CPI-U,2024-09,315.3010", "US-CPI-U,2025-09,324.9", "EU-HICP,2025-09,128.1")
        second = outbox.store_indices(conn, again, "b.csv")
        assert (second.loaded, second.known) == (1, 1)
        assert second.rejections == [
            Rejection(
                3,
                "value",
                "324.9",
                "differs from the value stored for US-CPI-U 2025-09: 324.800, loaded from a.csv; "
                "the stored value stays",
            )
        ]
        assert [v.line_number for v in second.kept(again)] == [2, 4]
        stored = [(s.index, s.month, s.value, s.text, s.file_name) for s in outbox.stored_indices(conn)]
        assert stored == [
            ("EU-HICP", 202509, 128_100_000, "128.1", "b.csv"),
            ("US-CPI-U", 202409, 315_301_000, "315.301", "a.csv"),
            ("US-CPI-U", 202509, 324_800_000, "324.800", "a.csv"),
        ]
        assert outbox.index_values_of(conn, "US-CPI-U", [202409, 202509, 202609]) == {
            202409: 315_301_000,
            202509: 324_800_000,
        }


def test_a_hold_is_news_only_when_what_it_waits_for_changes(outbox: Outbox) -> None:
    missing = [{"index": "US-CPI-U", "months": ["2025-09"]}]
    with outbox.connect() as conn:
        assert outbox.hold_for_index(conn, 7, 1, missing, "no value of US-CPI-U for 2025-09") is True
        assert outbox.hold_for_index(conn, 7, 1, missing, "no value of US-CPI-U for 2025-09") is False
        other = [{"index": "US-CPI-U", "months": ["2024-09", "2025-09"]}]
        assert outbox.hold_for_index(conn, 7, 1, other, "no values of US-CPI-U for 2024-09, 2025-09") is True
        conn.commit()
        (hold,) = outbox.escalation_holds(conn)
        assert (hold.licence_id, hold.step, hold.missing) == (7, 1, other)
        outbox.release_index_hold(conn, 7)
        conn.commit()
        assert outbox.escalation_holds(conn) == []
