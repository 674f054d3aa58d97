"""The outbox's schema is versioned: an outbox made by main before Alembic is recognised, stamped,
upgraded and keeps working; the API's open path checks and never creates."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from oracle_testkit import line_leaf
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from intake.validate import ValidLine
from outbox import Outbox, OutboxMissing, OutboxSchemaError, ReportState
from outbox.migrate import head
from outbox.reports import StoredReport
from outbox.schema import metadata

LEGACY_SENT_REASON = (
    "legacy report: signed for the ledger before contract years (buckets without a year); "
    "the calendar ledger cannot settle it and it is not sent again; whether its transaction "
    "settled is for the old deployment to say"
)

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
                # Sent to the ledger before contract years, which the new one cannot settle: kept
                # as history (revision 0002), never sent or reconciled again.
                state=ReportState.REJECTED,
                tx_hash="0x" + "ab" * 32,
                settlement_id=None,
                royalty=None,
                error=LEGACY_SENT_REASON,
                attempts=1,
            )
        ]
        assert outbox.all_reports(conn)[0].legacy
        assert outbox.reports_in(conn, "signed", "sent") == []  # nothing for the sender
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
            # revision 0003: every stored line is the first version of a sale
            "revision": 0,
            "kind": 0,
            "returns_line_id": None,
            # revision 0007: every stored line is in its licence's currency (token units)
            "currency": None,
            "minor_units": None,
        }
        assert outbox.waiting_periods(conn) == [(3, 3, 1)]
        assert outbox.is_closed(conn, 3, 2)
        assert outbox.counts(conn) == {"lines_reported": 2, "lines_waiting": 1, "reports_rejected": 1}
        assert outbox.known_leaf(conn, LICENSEE, "INV-2") == line_leaf(
            "INV-2", 3, 2, 1_700_086_400, 82, 10, 2, 1, 1000, 0
        )
        # The oracle keeps working on it: a new line is stored, a new report has contract years.
        leaf = line_leaf("INV-4", 3, 3, 1_702_000_100, 232, 10, 1, 1, 7, 0)
        new = ValidLine(5, "INV-4", 3, 3, 0, 1_702_000_100, 232, 10, 1, 1, 7, 0, leaf, True)
        assert outbox.store_lines(conn, {3: LICENSEE}, [new], source="feeds/q2.csv") == 1
        conn.commit()
        assert outbox.waiting_periods(conn) == [(3, 3, 2)]
        report_id = outbox.add_report(
            conn,
            licence_id=3,
            period=3,
            sequence=2,
            deadline=1_800_000_000,
            lines_root=bytes(32),
            line_count=2,
            buckets=[[0, 232, 10, 1, 3, 507, 50]],
            signatures=[b"\x03" * 65],
        )
        assert outbox.get_report(conn, report_id).buckets == [[0, 232, 10, 1, 3, 507, 50]]
        assert not outbox.get_report(conn, report_id).legacy
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
    assert sorted(shape(declared)) == [
        "benchmark_values", "closed_periods", "escalation_holds", "files", "fx_rates", "index_values", "lines",
        "rate_holds", "rejections", "reports", "review_holds", "sender_lease",
    ]  # fmt: skip
    migrated_engine.dispose()
    declared.dispose()


def test_the_upgrade_keeps_the_wal_and_full_sync_settings(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    outbox.close()


def test_legacy_reports_signed_but_never_sent_are_rebuilt_and_final_ones_kept_as_history(tmp_path: Path) -> None:
    """Revision 0002: a report of six-int buckets (no contract year) still waiting to be sent is
    dropped and its lines wait again, to be reported with years; settled and rejected ones stay."""
    path = _main_outbox(tmp_path / "outbox.sqlite")
    db = sqlite3.connect(path)
    # Report 1 (licence 3 period 2, lines INV-1 and INV-2) signed but not sent yet; a settled
    # report 2 of period 1 and a rejected report 3 of period 0, with lines of their own.
    db.execute("UPDATE reports SET state = 'signed', tx_hash = NULL WHERE id = 1")
    for report_id, period, state, settlement in ((2, 1, "settled", 7), (3, 0, "rejected", None)):
        db.execute(
            "INSERT INTO reports (id, licence_id, period, sequence, deadline, lines_root, line_count, buckets, "
            "signatures, state, settlement_id, royalty, error, attempts, created_at, updated_at) "
            "VALUES (?, 3, ?, ?, 1800000000, ?, 1, '[[232, 10, 1, 1, 100, 0]]', '[]', ?, ?, ?, ?, 1, 1, 1)",
            (report_id, period, report_id + 5, bytes(32), state, settlement, "10" if settlement else None,
             None if settlement else "InvalidSignature(...)"),
        )  # fmt: skip
        db.execute(
            "INSERT INTO lines VALUES (?, ?, 3, ?, 1699000000, 232, 10, 1, '1', '100', '0', ?, 1, 'old.csv', 1, "
            "'reported', ?)",
            (LICENSEE, f"OLD-{report_id}", period, bytes([report_id]) * 32, report_id),
        )
    db.commit()
    db.close()

    outbox = Outbox(path)
    with outbox.connect() as conn:
        # The signed one is gone and its lines wait again: the next round rebuilds period 2.
        assert [(r.id, r.period, r.state, r.legacy) for r in outbox.all_reports(conn)] == [
            (2, 1, ReportState.SETTLED, True),
            (3, 0, ReportState.REJECTED, True),
        ]
        assert outbox.report_for(conn, 3, 2) is None
        assert outbox.waiting_periods(conn) == [(3, 2, 2), (3, 3, 1)]
        assert [(line["line_id"], line["state"], line["report_id"]) for line in outbox.waiting_lines(conn, 3, 2)] == [
            ("INV-1", "waiting", None),
            ("INV-2", "waiting", None),
        ]
        # The final ones keep their six-int buckets, settlement and lines, exactly.
        settled = outbox.get_report(conn, 2)
        assert (settled.buckets, settled.settlement_id, settled.royalty) == ([[232, 10, 1, 1, 100, 0]], 7, 10)
        assert outbox.get_report(conn, 3).error == "InvalidSignature(...)"
        assert [(r["state"], r["report_id"]) for r in outbox.find_line(conn, "OLD-2")] == [("reported", 2)]
        # The period can be reported again (one report per period still holds).
        outbox.add_report(
            conn,
            licence_id=3,
            period=2,
            sequence=9,
            deadline=1_800_000_000,
            lines_root=bytes(32),
            line_count=2,
            buckets=[[0, 232, 10, 1, 5, 2**127, 17], [0, 82, 10, 2, 1, 1000, 0]],
            signatures=[b"\x04" * 65],
        )
        assert [line["state"] for line in outbox.find_line(conn, "INV-1")] == ["reported"]
    outbox.close()


def test_revision_0003_gives_lines_versions_and_periods_adjustments(tmp_path: Path) -> None:
    """Revision 0003: every stored line is revision 0 of a sale, a late line waits again (for an
    adjustment), every report is its period's original, and a period takes numbered adjustments."""
    path = _main_outbox(tmp_path / "outbox.sqlite")
    db = sqlite3.connect(path)
    db.execute("UPDATE lines SET state = 'late' WHERE line_id = 'INV-3'")
    db.commit()
    db.close()

    outbox = Outbox(path)
    with outbox.connect() as conn:
        (late,) = outbox.find_line(conn, "INV-3")
        assert (late["state"], late["revision"], late["kind"]) == ("waiting", 0, 0)
        (report,) = outbox.all_reports(conn)
        assert (report.kind, report.adjustment, report.corrects, report.returned) == ("original", 0, 0, [])
        # A new version of INV-1 is a row of its own; its first version keeps its leaf and report.
        leaf = line_leaf("INV-1", 3, 2, 1_700_000_000, 232, 10, 1, 5, 2**127, 17)
        cancel = ValidLine(9, "INV-1", 3, 2, 0, 1_700_000_000, 232, 10, 1, 5, 2**127, 17, b"\x09" * 32, True, 2, 1)
        assert outbox.store_lines(conn, {3: LICENSEE}, [cancel], source="cancel.csv") == 1
        assert outbox.store_lines(conn, {3: LICENSEE}, [cancel], source="cancel.csv") == 0  # the same version
        assert [(r["revision"], r["state"], r["report_id"]) for r in outbox.find_line(conn, "INV-1")] == [
            (0, "reported", 1),
            (1, "waiting", None),
        ]
        assert outbox.known_leaf(conn, LICENSEE, "INV-1") == leaf
        assert outbox.latest_line(conn, LICENSEE, "INV-1") == cancel._replace(line_number=9, year=-1)
        adjustment = outbox.add_report(
            conn,
            licence_id=3,
            period=2,
            sequence=2,
            deadline=1_800_000_000,
            lines_root=b"\x09" * 32,
            line_count=1,
            buckets=[],
            returned=[[0, 232, 10, 1, 5, 2**127, 17]],
            signatures=[b"\x03" * 65],
            adjustment=1,
            corrects=7,
        )
        stored = outbox.get_report(conn, adjustment)
        assert (stored.kind, stored.corrects, stored.returned) == ("adjustment", 7, [[0, 232, 10, 1, 5, 2**127, 17]])
        assert [r["report_id"] for r in outbox.find_line(conn, "INV-1")] == [1, adjustment]
        assert [r.adjustment for r in outbox.period_reports(conn, 3, 2)] == [0, 1]
        with pytest.raises(IntegrityError):  # one report per period and adjustment number
            outbox.add_report(
                conn,
                licence_id=3,
                period=2,
                sequence=3,
                deadline=1_800_000_000,
                lines_root=bytes(32),
                line_count=0,
                buckets=[],
                signatures=[],
                adjustment=1,
            )
    outbox.close()


def _upgrade_to(path: Path, revision: str) -> None:
    """The fixture taken to ``revision`` as the oracle of that release left it."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", "outbox:migrations")
            config.attributes["connection"] = conn
            command.stamp(config, "0001")
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def test_revision_0004_gives_reports_an_audit_flag_cost_and_reference(tmp_path: Path) -> None:
    """Revision 0004: every report so far is no audit (flag false, cost 0, no reference) and
    reads back as before; an audit finding keeps its flag, its cost (a uint128, beyond SQLite's
    integers) and its reference."""
    path = _main_outbox(tmp_path / "outbox.sqlite")
    _upgrade_to(path, "0003")
    db = sqlite3.connect(path)
    # An adjustment signed at revision 0003: report 2, the first adjustment of report 1's period.
    db.execute(
        "INSERT INTO reports (id, licence_id, period, sequence, deadline, lines_root, line_count, buckets, returned, "
        "adjustment, corrects, signatures, state, settlement_id, royalty, attempts, created_at, updated_at) "
        "VALUES (2, 3, 2, 2, 1800000000, ?, 1, '[[0, 232, 10, 1, 1, 500, 0]]', '[]', 1, 7, '[]', 'settled', 8, "
        "'50', 1, 1, 1)",
        (bytes(32),),
    )
    db.commit()
    db.close()

    outbox = Outbox(path)
    assert _revision(path) == [head()]
    with outbox.connect() as conn:
        before = outbox.all_reports(conn)
        assert [(r.id, r.kind, r.audit, r.audit_cost, r.finding_ref) for r in before] == [
            (1, "original", False, 0, None),
            (2, "adjustment", False, 0, None),
        ]
        assert (before[1].corrects, before[1].settlement_id, before[1].royalty) == (7, 8, 50)
        stored = conn.exec_driver_sql("SELECT id, audit, audit_cost, finding_ref FROM reports ORDER BY id").all()
        assert [tuple(row) for row in stored] == [(1, 0, "0", None), (2, 0, "0", None)]
        audit = outbox.add_report(
            conn,
            licence_id=3,
            period=2,
            sequence=3,
            deadline=1_800_000_000,
            lines_root=b"\x05" * 32,
            line_count=1,
            buckets=[[0, 232, 10, 1, 2, 900, 0]],
            signatures=[b"\x06" * 65],
            adjustment=2,
            corrects=8,
            audit=True,
            audit_cost=2**128 - 1,
            finding_ref="AUD-2026-07",
        )
        found = outbox.get_report(conn, audit)
        assert (found.kind, found.adjustment, found.corrects) == ("audit", 2, 8)
        assert (found.audit, found.audit_cost, found.finding_ref) == (True, 2**128 - 1, "AUD-2026-07")
        assert outbox.audit_with_reference(conn, 3, "AUD-2026-07") == found
        assert outbox.audit_with_reference(conn, 4, "AUD-2026-07") is None  # references are per licence
        assert outbox.audit_with_reference(conn, 3, "AUD-2026-08") is None
    outbox.close()
    Outbox.existing(path).close()  # the API's check accepts the upgraded outbox


def test_revision_0007_gives_reports_their_signed_conversions(tmp_path: Path) -> None:
    """Revision 0007: every report so far converted nothing (``fx`` is ``[]``) and is sent with
    an empty Conversion[] (what it was signed with: the SalesReport then had no fx); a report's
    conversions are stored and read back exactly (a rate of 10^27 is beyond SQLite's integers)."""
    from dataclasses import asdict

    from oracle.sender import as_report
    from royalty_chain.terms import Conversion

    path = _main_outbox(tmp_path / "outbox.sqlite")
    _upgrade_to(path, "0006")
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO reports (id, licence_id, period, sequence, deadline, lines_root, line_count, buckets, returned, "
        "adjustment, corrects, signatures, state, attempts, created_at, updated_at) "
        "VALUES (2, 3, 3, 2, 1800000000, ?, 1, '[[0, 232, 10, 1, 1, 500, 0]]', '[]', 0, 0, '[]', 'signed', 0, 1, 1)",
        (bytes(32),),
    )
    db.commit()
    db.close()

    outbox = Outbox(path)
    assert _revision(path) == [head()]
    with outbox.connect() as conn:
        signed = outbox.get_report(conn, 2)
        assert signed.fx == []
        assert as_report(signed).fx == ()
        stored = conn.exec_driver_sql("SELECT id, fx FROM reports ORDER BY id").all()
        assert [tuple(row) for row in stored] == [(1, "[]"), (2, "[]")]
        conversions = [
            Conversion(0, "EUR", 2, 1_798_761_600, 1_085_600_000_000_000_000, 123_456, 789),
            Conversion(0, "JPY", 0, 1_798_848_000, 10**27, 2**128 - 1, 0),
        ]
        report_id = outbox.add_report(
            conn,
            licence_id=3,
            period=4,
            sequence=3,
            deadline=1_800_000_000,
            lines_root=b"\x05" * 32,
            line_count=2,
            buckets=[[0, 232, 10, 1, 2, 900, 0]],
            signatures=[b"\x06" * 65],
            fx=[asdict(c) for c in conversions],
        )
        found = outbox.get_report(conn, report_id)
        names = ("bucket", "currency", "minor_units", "rate_day", "rate", "gross", "deductions")
        assert found.fx == [
            dict(zip(names, (0, "EUR", 2, 1_798_761_600, 1_085_600_000_000_000_000, 123_456, 789), strict=True)),
            dict(zip(names, (0, "JPY", 0, 1_798_848_000, 10**27, 2**128 - 1, 0), strict=True)),
        ]
        assert as_report(found).fx == tuple(conversions)
        assert as_report(found).as_abi()[-1] == [
            (0, b"EUR", 2, 1_798_761_600, 1_085_600_000_000_000_000, 123_456, 789),
            (0, b"JPY", 0, 1_798_848_000, 10**27, 2**128 - 1, 0),
        ]
    outbox.close()
