"""The outbox's schema is versioned: an outbox made by main before Alembic is recognised, stamped,
upgraded and keeps working; the API's open path checks and never creates."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from oracle_testkit import line_leaf
from sqlalchemy import Engine, create_engine, inspect, text

from intake.validate import ValidLine
from outbox import Outbox, OutboxMissing, OutboxSchemaError, ReportState
from outbox.migrate import head
from outbox.reports import StoredReport
from outbox.schema import metadata

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "outbox-main-45b1a33.sql"
LICENSEE = "0x00000000000000000000000000000000000000aa"


def _main_outbox(path: Path) -> Path:
    """The fixture (a dump of an outbox made by main at 45b1a33) loaded into a file."""
    db = sqlite3.connect(path)
    db.executescript(FIXTURE.read_text())
    db.close()
    return path


def _revision(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
    finally:
        db.close()


def test_an_outbox_made_by_main_is_stamped_upgraded_and_read_back_exactly(tmp_path: Path) -> None:
    path = _main_outbox(tmp_path / "outbox.sqlite")
    outbox = Outbox(path)
    assert _revision(path) == [head()]
    with outbox.connect() as conn:
        assert outbox.all_reports(conn) == [
            StoredReport(
                id=1,
                licence_id=3,
                period=2,
                sequence=1,
                deadline=1_800_000_000,
                lines_root=bytes(range(32)),
                line_count=2,
                buckets=[[232, 10, 1, 5, 2**127, 17], [82, 10, 2, 1, 1000, 0]],
                signatures=(b"\x01" * 65, b"\x02" * 65),
                state=ReportState.SENT,
                tx_hash="0x" + "ab" * 32,
                settlement_id=None,
                royalty=None,
                error=None,
                attempts=1,
            )
        ]
        (first,) = outbox.find_line(conn, "INV-1")
        assert first == {
            "licensee": LICENSEE,
            "line_id": "INV-1",
            "licence_id": 3,
            "period": 2,
            "sale_day": 1_700_000_000,
            "territory": 232,
            "field": 10,
            "channel": 1,
            "units": "5",
            "gross": str(2**127),
            "deductions": "17",
            "leaf": line_leaf("INV-1", 3, 2, 1_700_000_000, 232, 10, 1, 5, 2**127, 17),
            "in_scope": True,
            "source": "feeds/q1.csv",
            "line_number": 1,
            "state": "reported",
            "report_id": 1,
        }
        assert outbox.waiting_periods(conn) == [(3, 3, 1)]
        assert outbox.is_closed(conn, 3, 2)
        assert outbox.counts(conn) == {"lines_reported": 2, "lines_waiting": 1, "reports_sent": 1}
        assert outbox.known_leaf(conn, LICENSEE, "INV-2") == line_leaf(
            "INV-2", 3, 2, 1_700_086_400, 82, 10, 2, 1, 1000, 0
        )
        # The oracle keeps working on it: a new line is stored, the sent report settles.
        leaf = line_leaf("INV-4", 3, 3, 1_702_000_100, 232, 10, 1, 1, 7, 0)
        new = ValidLine(5, "INV-4", 3, 3, 1_702_000_100, 232, 10, 1, 1, 7, 0, leaf, True)
        assert outbox.store_lines(conn, {3: LICENSEE}, [new], source="feeds/q2.csv") == 1
        conn.commit()
        outbox.mark_settled(conn, 1, settlement_id=9, royalty=80, paid=80, tx_hash=None)
        assert outbox.waiting_periods(conn) == [(3, 3, 2)]
        settled = outbox.get_report(conn, 1)
        assert (settled.state, settled.settlement_id, settled.royalty, settled.tx_hash) == (
            ReportState.SETTLED,
            9,
            80,
            "0x" + "ab" * 32,
        )
    outbox.close()
    # Opening it again (the upgrade runs at every start) changes nothing.
    before = _dump(path)
    again = Outbox(path)
    again.close()
    assert _dump(path) == before
    assert _revision(path) == [head()]
    Outbox.existing(path).close()  # and the API's check accepts it


def _dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_a_new_outbox_gets_the_same_schema_as_an_upgraded_one(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite"
    Outbox(fresh).close()
    upgraded = _main_outbox(tmp_path / "main.sqlite")
    Outbox(upgraded).close()

    def schema(path: Path) -> list[tuple[str, str]]:
        db = sqlite3.connect(path)
        try:
            rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            return [(name, " ".join(sql.split())) for name, sql in rows]
        finally:
            db.close()

    assert schema(fresh) == schema(upgraded)
    assert _revision(fresh) == _revision(upgraded) == [head()]


def test_the_api_open_path_creates_nothing_for_a_mistyped_path(tmp_path: Path) -> None:
    missing = tmp_path / "oracel" / "outbox.sqlite"
    with pytest.raises(OutboxMissing, match=r"there is no outbox at .*oracel/outbox\.sqlite"):
        Outbox.existing(missing)
    assert not missing.parent.exists()
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(OutboxSchemaError, match=r"is not an oracle outbox \(tables: none\)"):
        Outbox.existing(empty)
    assert empty.stat().st_size == 0  # not even a table was made


def test_the_api_open_path_refuses_an_outbox_not_yet_upgraded_or_from_newer_code(tmp_path: Path) -> None:
    path = _main_outbox(tmp_path / "outbox.sqlite")
    before = _dump(path)
    with pytest.raises(OutboxSchemaError, match="made before the outbox had schema versions: start the oracle"):
        Outbox.existing(path)
    assert _dump(path) == before
    Outbox(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.commit()
    db.close()
    with pytest.raises(OutboxSchemaError, match="at schema revision 9999, which this code does not know"):
        Outbox.existing(path)
    with pytest.raises(OutboxSchemaError, match="at schema revision 9999, which this code does not know"):
        Outbox(path)


def test_a_database_that_is_not_an_outbox_is_refused_not_stamped(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE lines (licensee TEXT, line_id TEXT)")  # a table of the same name, other columns
    db.commit()
    db.close()
    with pytest.raises(OutboxSchemaError, match="no schema version, and they are not an outbox's"):
        Outbox(path)
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    db.close()
    assert tables == ["lines"]


def test_the_migrations_make_exactly_the_tables_of_outbox_schema(tmp_path: Path) -> None:
    """A change to outbox/schema.py without a migration (or the reverse) fails here."""
    migrated = tmp_path / "migrated.sqlite"
    Outbox(migrated).close()
    declared = create_engine(f"sqlite:///{tmp_path / 'declared.sqlite'}")
    metadata.create_all(declared)

    def shape(engine: Engine) -> dict[str, Any]:
        inspector = inspect(engine)
        return {
            name: (
                sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)),
                inspector.get_pk_constraint(name)["constrained_columns"],
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(name)),
                sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            )
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }

    migrated_engine = create_engine(f"sqlite:///{migrated}")
    assert shape(migrated_engine) == shape(declared)
    assert sorted(shape(declared)) == ["closed_periods", "files", "lines", "rejections", "reports"]
    migrated_engine.dispose()
    declared.dispose()


def test_the_upgrade_keeps_the_wal_and_full_sync_settings(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    outbox.close()
