"""Sales in other currencies end to end on a real Anvil: a report waits while a rate it needs is
missing, says so in the log and in `royalty-oracle status`, and is signed and settled once
`royalty-oracle rates load` stored the rates, at exactly the converted amounts.

The licence's signed calendar states the conversion clause (period-average rates of the ECB). The
report carries its conversions, signed with it; the ledger checks each one against the bucket and
emits what it converted to, which is checked here against the arithmetic by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from oracle_world import USDX, fund, register, write_feed
from rich.console import Console
from typer.testing import CliRunner

from intake.fx import FxRule
from oracle import cli, rates_cli
from oracle.conversion import ConversionRecord, records_of
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Calendar, Term

# Calendar quarters from 2025-02-10: period 0 is 2025-02-10..2025-03-31 ("2025-Q1", cut at the start).
FEB_10_2025 = 1_739_145_600
MAR_31_2025 = 1_743_379_200
QUARTERS = Term(
    start=FEB_10_2025,
    end=FEB_10_2025 + 3652 * DAY,
    sell_off_days=180,
    period_seconds=0,
    calendar=Calendar(
        period_months=3, year_month=1, year_day=1, due_days=30, fx_rule=FxRule.PERIOD_AVERAGE.number, fx_source="ECB"
    ),
)
US, APPAREL, RETAIL = territory_index("US"), field_index("apparel"), channel_index("retail")


def _printed(console: Console) -> str:
    text = console.export_text()
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼":
        text = text.replace(rule, " ")
    return " ".join(text.split())


def test_a_missing_rate_holds_the_report_and_loading_the_rates_releases_it(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox_path = tmp_path / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox_path))
    monkeypatch.setenv("ORACLE_RPC_URL", chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    console = Console(width=250, record=True)
    monkeypatch.setattr(cli, "console", console)
    monkeypatch.setattr(rates_cli, "console", console)
    runner = CliRunner()
    licence_id = register(chain, FEB_10_2025, term=QUARTERS)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            f"U-1,{licence_id},2025-02-10,US,apparel,retail,1,100.00,0,USD",
            f"E-1,{licence_id},2025-02-11,US,apparel,retail,1,123.45,0,EUR",
            f"J-1,{licence_id},2025-03-03,US,apparel,retail,2,12345,0,JPY",
            f"B-1,{licence_id},2025-03-03,US,apparel,retail,1,12345.5,0,JPY",  # bad: yen have no decimals
            f"B-2,{licence_id},2025-03-03,US,apparel,retail,1,1,0,XYZ",  # bad: no such currency
        ],
    )
    service = OracleService(
        chain, Outbox(outbox_path), [role("oracle1"), role("oracle2"), role("oracle3")], role("oracle_sender"),
        nil_reports=False,
    )  # fmt: skip

    # No rate stored at all: nothing is signed, the lines wait, one log line per currency.
    with structlog.testing.capture_logs() as logs:
        ingested = service.ingest(feed)
        assert service.build_reports() == []
    assert (ingested.valid, ingested.rejected) == (3, 2)
    assert [(r.line_number, r.field, r.reason) for r in ingested.rejections] == [
        (5, "gross", "has 1 decimal; at most 0 allowed in JPY (its ISO 4217 minor unit is 0)"),
        (6, "currency", "is not an active ISO 4217 currency code"),
    ]
    waits = [e for e in logs if e["event"] == "report_waits_for_rates"]
    assert [(e["licence"], e["period"], e["period_name"], e["currency"], e["source"], e["days"]) for e in waits] == [
        (licence_id, 0, "2025-Q1", "EUR", "ECB", ["2025-02-10..2025-03-31"]),
        (licence_id, 0, "2025-Q1", "JPY", "ECB", ["2025-02-10..2025-03-31"]),
    ]
    assert all(e["log_level"] == "warning" for e in waits)
    with service.outbox.connect() as conn:
        assert service.outbox.counts(conn) == {"lines_waiting": 3}
        (hold,) = service.outbox.rate_holds(conn)
        assert (hold.licence_id, hold.period, hold.source) == (licence_id, 0, "ECB")

    # `status` shows the report as waiting for rates.
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert "Reports waiting for rates: 1" in shown
    # (period names need the deployment manifest, which this test's settings do not name)
    assert f"{licence_id} 0 ECB EUR 2025-02-10..2025-03-31" in shown
    assert f"{licence_id} 0 ECB JPY 2025-02-10..2025-03-31" in shown

    # The next round says nothing new: the hold is known.
    with structlog.testing.capture_logs() as logs:
        assert service.build_reports() == []
    assert [e for e in logs if e["event"] == "report_waits_for_rates"] == []

    # A file with the dollar but not the yen: EUR (the base) converts now, JPY still waits, for that day.
    usd = tmp_path / "ecb-usd.csv"
    usd.write_text("date,currency,rate\n2025-03-31,USD,1.25\n")
    assert runner.invoke(cli.app, ["rates", "load", str(usd), "--source", "ECB", "--base", "EUR"]).exit_code == 0
    with structlog.testing.capture_logs() as logs:
        assert service.build_reports() == []
    waits = [e for e in logs if e["event"] == "report_waits_for_rates"]
    assert [(e["currency"], e["days"], e["reason"]) for e in waits] == [
        ("JPY", ["2025-03-31"], "no ECB rate of JPY (base EUR) for 2025-03-31")
    ]

    # The yen loaded: the next round signs the report, which settles at the converted amounts.
    jpy = tmp_path / "ecb-jpy.csv"
    jpy.write_text("date,currency,rate\n2025-03-31,JPY,160\n")
    assert runner.invoke(cli.app, ["rates", "load", str(jpy), "--source", "ECB", "--base", "EUR"]).exit_code == 0
    built = service.build_reports()
    assert len(built) == 1
    sent = service.send()
    (settled,) = sent.settled
    # One published day (2025-03-31), so the average is that day's rate:
    #   EUR: q(USD) = 1.25;  123.45 EUR = 12,345 cents * 1.25 = 154.3125 USD = 154,312,500 units
    #   JPY: 1.25 / 160 = 0.0078125;  12,345 yen * 0.0078125 = 96.4453125 USD -> 96,445,312 (rounded down)
    #   bucket: 100,000,000 (USD) + 154,312,500 + 96,445,312 = 350,757,812
    assert settled.buckets == [[0, US, APPAREL, RETAIL, 4, 350_757_812, 0]]
    assert records_of(settled) == [
        ConversionRecord(0, "EUR", 2, MAR_31_2025, 1_250_000_000_000_000_000, 12_345, 0),
        ConversionRecord(0, "JPY", 0, MAR_31_2025, 7_812_500_000_000_000, 12_345, 0),
    ]
    assert settled.royalty == 35_075_781  # 10% of 350.757812, rounded down to the unit
    converted = [
        dict(e.args) for e in chain.ledger.events("CurrencyConverted", from_block=0)
        if int(e.args["settlementId"]) == settled.settlement_id
    ]  # fmt: skip
    assert [
        (e["currency"], e["rateDay"], e["rate"], e["gross"], e["convertedGross"], e["convertedDeductions"])
        for e in converted
    ] == [
        ("0x" + b"EUR".hex(), MAR_31_2025, 1_250_000_000_000_000_000, 12_345, 154_312_500, 0),
        ("0x" + b"JPY".hex(), MAR_31_2025, 7_812_500_000_000_000, 12_345, 96_445_312, 0),
    ]
    with service.outbox.connect() as conn:
        assert service.outbox.rate_holds(conn) == []  # released by the signing
        assert service.outbox.counts(conn) == {"lines_reported": 3, "reports_settled": 1}

    # Nothing double-counted: another round builds nothing, and status no longer shows a wait.
    assert service.build_reports() == []
    console.export_text(clear=True)
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    assert "waiting for rates" not in _printed(console)
