"""Lines stored in the outbox read back exactly as validated (the API serves them with proofs)."""

from __future__ import annotations

from pathlib import Path

from oracle_testkit import line_leaf

from intake.validate import ValidLine
from outbox import Outbox

LICENSEE = "0x00000000000000000000000000000000000000aa"


def test_stored_lines_read_back_with_every_column_and_duplicates_ignored(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    leaf = line_leaf("INV-7", 3, 2, 1_700_000_000, 232, 10, 1, 5, 2**127, 17)
    line = ValidLine(42, "INV-7", 3, 2, 1, 1_700_000_000, 232, 10, 1, 5, 2**127, 17, leaf, False)
    with outbox.connect() as conn:
        assert outbox.store_lines(conn, {3: LICENSEE}, [line], source="feed.csv") == 1
        again = line._replace(line_number=99)  # the same id again: the first row stays
        outbox.store_lines(conn, {3: LICENSEE}, [again], source="other.csv")
        conn.commit()
        (row,) = outbox.find_line(conn, "INV-7")
    assert row == {
        "licensee": LICENSEE,
        "line_id": "INV-7",
        "licence_id": 3,
        "period": 2,
        "sale_day": 1_700_000_000,
        "territory": 232,
        "field": 10,
        "channel": 1,
        "units": "5",
        "gross": str(2**127),  # beyond SQLite's 64-bit integers: stored as text, exactly
        "deductions": "17",
        "leaf": leaf,
        "in_scope": False,
        "source": "feed.csv",
        "line_number": 42,
        "state": "waiting",
        "report_id": None,
        "revision": 0,
        "kind": 0,
        "returns_line_id": None,
        "currency": None,  # the licence's currency: amounts in token units
        "minor_units": None,
    }
    with outbox.connect() as conn:
        assert outbox.waiting_periods(conn) == [(3, 2, 1)]
