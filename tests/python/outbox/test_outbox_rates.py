"""Exchange rates in the outbox (revision 0006, outbox.rates), on SQLite and on PostgreSQL: each
(source, base, day, currency) stored once as published, a file loaded again is harmless, a
stored rate is never overwritten, and what is read back gives the rules their rates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from intake.feed import Rejection
from intake.fx import RateFile, parse_rates, rate_for
from outbox import Outbox
from outbox.migrate import head
from outbox.rates import RatesStored

TODAY = date(2025, 3, 31)


def _rates(*lines: str, base: str = "EUR") -> RateFile:
    text = "date,currency,rate\n" + "".join(f"{line}\n" for line in lines)
    return parse_rates(text.encode().splitlines(keepends=True), base=base, today=TODAY)


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


def test_revision_0006_adds_fx_rates_to_an_outbox_at_0005(location: Path | str) -> None:
    url = location if isinstance(location, str) else f"sqlite:///{location}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "0005")  # the outbox as the previous release left it
        assert "fx_rates" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    box = Outbox(location)  # the oracle's open path upgrades it
    try:
        inspector = inspect(box.engine)
        columns = {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns("fx_rates")}
        assert columns == {
            "source": ("TEXT", False),
            "base": ("TEXT", False),
            "day": ("DATE", False),
            "currency": ("TEXT", False),
            "rate": ("TEXT", False),
            "file_name": ("TEXT", False),
            "loaded_at": ("INTEGER", False),
        }
        assert inspector.get_pk_constraint("fx_rates")["constrained_columns"] == ["source", "base", "day", "currency"]
        with box.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head()
    finally:
        box.close()
    Outbox.existing(location).close()  # the API's check accepts it


def test_a_file_is_stored_as_published_and_reads_back_by_day_and_currency(outbox: Outbox) -> None:
    rates = _rates("2025-01-02,USD,1.0856", "2025-01-02,JPY,162.25", "2025-01-03,USD,1.08560", "2025-01-03,JPY,160.01")
    with outbox.connect() as conn:
        assert outbox.store_rates(conn, "ECB", rates, "eurofxref-2025-01.csv") == RatesStored(4, 0, [])
        stored = outbox.stored_rates(conn, "ECB", "EUR")

    assert [(s.day, s.currency, s.rate, s.text, s.file_name) for s in stored] == [
        (date(2025, 1, 2), "JPY", 162_250_000_000_000_000_000, "162.25", "eurofxref-2025-01.csv"),
        (date(2025, 1, 2), "USD", 1_085_600_000_000_000_000, "1.0856", "eurofxref-2025-01.csv"),
        (date(2025, 1, 3), "JPY", 160_010_000_000_000_000_000, "160.01", "eurofxref-2025-01.csv"),
        (date(2025, 1, 3), "USD", 1_085_600_000_000_000_000, "1.08560", "eurofxref-2025-01.csv"),  # as published
    ]
    assert all(s.source == "ECB" and s.base == "EUR" and s.loaded_at > 1_700_000_000 for s in stored)


def test_loading_again_is_idempotent_and_a_stored_rate_is_never_overwritten(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        outbox.store_rates(conn, "ECB", _rates("2025-01-02,USD,1.0856", "2025-01-02,JPY,162.25"), "first.csv")
        again = outbox.store_rates(conn, "ECB", _rates("2025-01-02,USD,1.0856", "2025-01-02,JPY,162.25"), "first.csv")
        assert again == RatesStored(loaded=0, known=2, rejections=[])

        # A corrected file: USD the same value written otherwise (known), JPY another rate
        # (rejected, the stored one stays), a new day (loaded).
        corrected = _rates("2025-01-02,USD,1.08560", "2025-01-02,JPY,162.5", "2025-01-03,JPY,160.01")
        assert outbox.store_rates(conn, "ECB", corrected, "second.csv") == RatesStored(
            loaded=1,
            known=1,
            rejections=[
                Rejection(
                    3,
                    "rate",
                    "162.5",
                    "differs from the rate stored for JPY on 2025-01-02 (ECB, base EUR): 162.25, loaded from "
                    "first.csv; the stored rate stays",
                )
            ],
        )
        assert [(s.day, s.currency, s.text, s.file_name) for s in outbox.stored_rates(conn, "ECB", "EUR")] == [
            (date(2025, 1, 2), "JPY", "162.25", "first.csv"),
            (date(2025, 1, 2), "USD", "1.0856", "first.csv"),
            (date(2025, 1, 3), "JPY", "160.01", "second.csv"),
        ]


def test_sources_and_bases_are_kept_apart(outbox: Outbox) -> None:
    with outbox.connect() as conn:
        outbox.store_rates(conn, "ECB", _rates("2025-01-02,USD,1.0856"), "ecb.csv")
        # The same day and currency from another publisher, or under another base, is another quote.
        assert outbox.store_rates(conn, "oracle", _rates("2025-01-02,USD,1.09"), "ours.csv").loaded == 1
        assert outbox.store_rates(conn, "ECB", _rates("2025-01-02,EUR,0.9211", base="USD"), "usd.csv").loaded == 1
        assert [s.text for s in outbox.stored_rates(conn, "ECB", "EUR")] == ["1.0856"]
        assert [s.text for s in outbox.stored_rates(conn, "oracle", "EUR")] == ["1.09"]
        assert [(s.currency, s.text) for s in outbox.stored_rates(conn, "ECB", "USD")] == [("EUR", "0.9211")]
        assert outbox.stored_rates(conn, "Fed", "EUR") == []


def test_quotes_are_read_over_a_day_range_and_give_the_rules_their_rates(outbox: Outbox) -> None:
    rates = _rates(
        "2024-12-31,USD,1.0389", "2024-12-31,JPY,163.06",
        "2025-01-02,USD,1.0856", "2025-01-02,JPY,162.25",
        "2025-01-03,USD,1.0856", "2025-01-03,JPY,160.01",
        "2025-02-03,USD,1.0250", "2025-02-03,JPY,160.34",
    )  # fmt: skip
    january = (date(2025, 1, 1), date(2025, 2, 1))
    with outbox.connect() as conn:
        outbox.store_rates(conn, "ECB", rates, "rates.csv")
        in_january = outbox.stored_rates(conn, "ECB", "EUR", *january, currencies=["JPY"])
        assert [(s.day, s.text) for s in in_january] == [(date(2025, 1, 2), "162.25"), (date(2025, 1, 3), "160.01")]
        assert [s.day for s in outbox.stored_rates(conn, "ECB", "EUR", date(2025, 1, 3), date(2025, 2, 3))] == [
            date(2025, 1, 3),
            date(2025, 1, 3),
        ]  # [start, end): 3 February is outside
        assert len(outbox.stored_rates(conn, "ECB", "EUR", date(2025, 1, 3), date(2025, 2, 3), inclusive=True)) == 4
        book = outbox.rate_book(conn, "ECB", "EUR", *january)

    # The stored quotes give the rates of tests/python/oracle/test_fx_rates_derived.py:
    # JPY -> USD on 2 January = 1.0856 / 162.25 = 0.006690909090909090|90... and on 3 January
    # 1.0856 / 160.01 = 0.006784575964002249|85...; their exact mean 0.006737742527455670|38...
    assert rate_for("period-average", book, "ECB", "EUR", "JPY", "USD", *january) == (
        6_737_742_527_455_670,
        date(2025, 1, 3),
    )
    assert rate_for("period-end", book, "ECB", "EUR", "JPY", "USD", *january) == (
        6_784_575_964_002_249,
        date(2025, 1, 3),
    )
    assert rate_for("sale-date", book, "ECB", "EUR", "JPY", "USD", *january, sale_day=date(2025, 1, 2)) == (
        6_690_909_090_909_090,
        date(2025, 1, 2),
    )


def test_a_large_file_is_stored_in_one_call(outbox: Outbox) -> None:
    # 3 years of 28 days x 12 months x 10 currencies = 10,080 rows of 7 values: more than the
    # 32,766 parameters one SQLite statement takes, so SQLAlchemy sends them in pages.
    currencies = ("USD", "JPY", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF")
    lines = [
        f"{year}-{month:02d}-{day:02d},{currency},{1 + index / 1000:.3f}"
        for year in (2022, 2023, 2024)
        for month in range(1, 13)
        for day in range(1, 29)
        for index, currency in enumerate(currencies)
    ]
    with outbox.connect() as conn:
        assert outbox.store_rates(conn, "ECB", _rates(*lines), "history.csv") == RatesStored(10_080, 0, [])
        assert outbox.store_rates(conn, "ECB", _rates(*lines), "history.csv") == RatesStored(0, 10_080, [])
        last_day = outbox.stored_rates(conn, "ECB", "EUR", date(2024, 12, 28))
    assert [(s.currency, s.text) for s in last_day] == [
        ("CHF", "1.003"), ("CZK", "1.008"), ("DKK", "1.006"), ("GBP", "1.002"), ("HUF", "1.009"),
        ("JPY", "1.001"), ("NOK", "1.005"), ("PLN", "1.007"), ("SEK", "1.004"), ("USD", "1.000"),
    ]  # fmt: skip
