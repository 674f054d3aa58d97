"""Lines in other currencies and reports that wait for rates in the outbox (revision 0007), on
SQLite and on PostgreSQL: an outbox of 0006 upgrades with every line and report as it was, a
foreign line keeps its currency and amounts as given, a report its conversions, and a held period
is released by its report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from oracle_testkit import line_leaf
from sqlalchemy import column, create_engine, insert, inspect, table

from intake.fx import parse_rates
from intake.merkle import LINE_SALE, NO_REF, leaf_foreign, merkle_root, verify
from intake.validate import ValidLine
from outbox import Outbox
from outbox.linestore import OutboxLineStore
from outbox.migrate import head

LICENSEE = "0x00000000000000000000000000000000000000aa"
LINE_COLUMNS_0006 = (
    "licensee", "line_id", "revision", "licence_id", "period", "sale_day", "territory", "field", "channel", "kind",
    "units", "gross", "deductions", "leaf", "in_scope", "source", "line_number", "state",
)  # fmt: skip
REPORT_COLUMNS_0006 = (
    "licence_id", "period", "sequence", "deadline", "lines_root", "line_count", "buckets", "returned", "adjustment",
    "corrects", "audit", "audit_cost", "signatures", "state", "attempts", "created_at", "updated_at",
)  # fmt: skip
CONVERSION = {
    "bucket": 0, "currency": "JPY", "minor_units": 0, "rate_day": 1_735_862_400,
    "rate": 7_906_250_000_000_000, "gross": 12_345, "deductions": 0,
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "outbox.sqlite"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def outbox(location: Path | str, request: pytest.FixtureRequest) -> Outbox:
    box = Outbox(location)
    request.addfinalizer(box.close)
    return box


def _config(conn: object) -> Config:
    config = Config()
    config.set_main_option("script_location", "outbox:migrations")
    config.attributes["connection"] = conn
    return config


def _usd_line() -> ValidLine:
    leaf = line_leaf("INV-1", 3, 2, 1_700_000_000, 232, 10, 1, 5, 2**127, 17)
    return ValidLine(1, "INV-1", 3, 2, 0, 1_700_000_000, 232, 10, 1, 5, 2**127, 17, leaf, True)


def _jpy_line() -> ValidLine:
    leaf = leaf_foreign(
        LINE_SALE, "JP-1", (3).to_bytes(32, "big"), 2, 1_700_000_000, 232, 10, 1, 3, 12_345, 45, NO_REF, "JPY", 0
    )
    return ValidLine(2, "JP-1", 3, 2, 0, 1_700_000_000, 232, 10, 1, 3, 12_345, 45, leaf, True, 0, 0, "", None, "JPY", 0)


def test_revision_0007_upgrades_an_outbox_of_0006_keeping_every_line_and_report(location: Path | str) -> None:
    url = location if isinstance(location, str) else f"sqlite:///{location}"
    engine = create_engine(url)
    line = _usd_line()
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "0006")  # the outbox as the previous release left it
            # A line and a report as the oracle of 0006 wrote them: the columns of that revision only.
            lines = table("lines", *map(column, LINE_COLUMNS_0006))
            conn.execute(
                insert(lines).values(
                    licensee=LICENSEE, line_id="INV-1", revision=0, licence_id=3, period=2, sale_day=1_700_000_000,
                    territory=232, field=10, channel=1, kind=0, units="5", gross=str(2**127), deductions="17",
                    leaf=line.leaf, in_scope=True, source="q1.csv", line_number=1, state="waiting",
                )
            )  # fmt: skip
            reports = table("reports", *map(column, REPORT_COLUMNS_0006))
            conn.execute(
                insert(reports).values(
                    licence_id=3, period=1, sequence=1, deadline=1_800_000_000, lines_root=bytes(32), line_count=0,
                    buckets="[]", returned="[]", adjustment=0, corrects=0, audit=False, audit_cost="0",
                    signatures="[]", state="settled", attempts=1, created_at=1, updated_at=1,
                )
            )  # fmt: skip
        assert "rate_holds" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    box = Outbox(location)  # the oracle's open path upgrades it
    try:
        inspector = inspect(box.engine)
        lines = {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns("lines")}
        assert (lines["currency"], lines["minor_units"]) == (("VARCHAR", True), ("INTEGER", True))
        reports = {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns("reports")}
        assert reports["fx"] == ("TEXT", False)
        assert inspector.get_pk_constraint("rate_holds")["constrained_columns"] == ["licence_id", "period"]
        with box.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head()
            (row,) = box.find_line(conn, "INV-1")
            assert (row["currency"], row["minor_units"], row["gross"]) == (None, None, str(2**127))
            # read back as it was validated: a line in the licence's currency, its leaf unchanged
            assert box.latest_line(conn, LICENSEE, "INV-1") == line._replace(year=-1)
            (report,) = box.all_reports(conn)
            assert (report.period, report.fx) == (1, [])
            assert box.rate_holds(conn) == []
    finally:
        box.close()
    Outbox.existing(location).close()  # the API's check accepts it


def test_a_foreign_line_keeps_its_currency_and_its_amounts_as_given(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        assert outbox.store_lines(conn, {3: LICENSEE}, [_usd_line(), _jpy_line()], source="q1.csv") == 2
        conn.commit()
        (jpy,) = outbox.find_line(conn, "JP-1")
        assert (jpy["units"], jpy["gross"], jpy["deductions"], jpy["currency"], jpy["minor_units"]) == (
            "3", "12345", "45", "JPY", 0,
        )  # fmt: skip
        assert outbox.latest_line(conn, LICENSEE, "JP-1") == _jpy_line()._replace(year=-1)
        assert outbox.latest_line(conn, LICENSEE, "INV-1") == _usd_line()._replace(year=-1)


def test_a_report_keeps_its_conversions_and_its_signing_releases_the_periods_hold(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        outbox.store_lines(conn, {3: LICENSEE}, [_jpy_line()], source="q1.csv")
        missing = [
            {"currency": "JPY", "days": ["2025-01-03"], "reason": "no ECB rate of JPY (base EUR) for 2025-01-03"}
        ]
        assert outbox.hold_for_rates(conn, 3, 2, "ECB", missing, "waits for ECB rates (base EUR) of JPY for 2025-01-03")
        # The same hold again is no news (the builder logs only news); another missing day is.
        assert not outbox.hold_for_rates(
            conn, 3, 2, "ECB", missing, "waits for ECB rates (base EUR) of JPY for 2025-01-03"
        )
        assert outbox.hold_for_rates(conn, 3, 2, "ECB", [{**missing[0], "days": ["2025-01-04"]}], "another day")
        outbox.hold_for_rates(conn, 4, 0, "ECB", [], "the source ECB has quotes under 2 bases, EUR and USD")
        conn.commit()
        (first, second) = outbox.rate_holds(conn)
        assert (first.licence_id, first.period, first.source, first.missing[0]["days"], first.reason) == (
            3, 2, "ECB", ["2025-01-04"], "another day",
        )  # fmt: skip
        assert first.held_since <= first.checked_at
        assert (second.licence_id, second.missing) == (4, [])

        report_id = outbox.add_report(
            conn, licence_id=3, period=2, sequence=1, deadline=1_800_000_000, lines_root=b"\x01" * 32, line_count=1,
            buckets=[[0, 232, 10, 1, 3, 97_602_656, 0]], signatures=[b"\x02" * 65], fx=[CONVERSION],
        )  # fmt: skip
        assert outbox.get_report(conn, report_id).fx == [CONVERSION]
        assert [h.licence_id for h in outbox.rate_holds(conn)] == [4]  # period 3/2 is signed: no longer held
        outbox.release_hold(conn, 4, 0)
        conn.commit()
        assert outbox.rate_holds(conn) == []


def test_a_sources_bases_are_the_bases_of_its_stored_quotes(outbox: Outbox) -> None:
    def rates(base: str) -> object:
        text = "date,currency,rate\n2025-01-02,JPY,162.25\n"
        return parse_rates(text.encode().splitlines(keepends=True), base=base, today=date(2025, 3, 31))

    with outbox.connect() as conn:
        assert outbox.source_bases(conn, "ECB") == []
        outbox.store_rates(conn, "ECB", rates("EUR"), "ecb.csv")  # type: ignore[arg-type]
        outbox.store_rates(conn, "oracle", rates("USD"), "own.csv")  # type: ignore[arg-type]
        assert outbox.source_bases(conn, "ECB") == ["EUR"]
        outbox.store_rates(conn, "ECB", rates("USD"), "ecb-usd.csv")  # type: ignore[arg-type]
        assert outbox.source_bases(conn, "ECB") == ["EUR", "USD"]


def test_the_api_serves_a_foreign_lines_currency_with_its_proof(outbox: Outbox) -> None:
    usd, jpy = _usd_line(), _jpy_line()
    with outbox.connect() as conn:
        outbox.store_lines(conn, {3: LICENSEE}, [usd, jpy], source="q1.csv")
        root = merkle_root([usd.leaf, jpy.leaf])
        outbox.add_report(
            conn, licence_id=3, period=2, sequence=1, deadline=1_800_000_000, lines_root=root, line_count=2,
            buckets=[[0, 232, 10, 1, 8, 2**127 + 97_602_656, 17]], signatures=[b"\x02" * 65], fx=[CONVERSION],
        )  # fmt: skip
    store = OutboxLineStore(outbox)
    found = store.get_line(3, 2, "JP-1")
    assert found is not None
    line, leaf, proof = found
    assert (line["gross"], line["currency"], line["minor_units"]) == ("12345", "JPY", 0)
    assert leaf == jpy.leaf and verify(proof, root, leaf)
    found = store.get_line(3, 2, "INV-1")
    assert found is not None and "currency" not in found[0]  # a line in the licence's currency: as before
