"""A EUR/JPY licence under period-average ECB rates end to end, on Anvil and on Ganache, through
the HTTP API and the CLI: sales uploaded over HTTP, rates loaded part by part (over HTTP, then with
`royalty-oracle rates load`), the 2025-Q1 report held while the ECB has not published through the
quarter's last day (named in the log, in `royalty-oracle status` and in GET /rates/holds), then
signed and settled the round after the rates are complete, and its statement's conversions read
back from the JSON and, cell by cell, from the CSV.

The quarter's last day, 2025-03-31, has no quote here (as if it were the publisher's holiday):
the quotes reach it with the first one dated after it, 2025-04-01, which completes the quarter
without counting in its average. Every figure is worked out below with fractions, apart from the
code, and written out.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from oracle_world import USDX, fund, register
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from api.app import create_app
from api.services import Services, build_services
from api.settings import ApiSettings
from intake.fx import FxRule
from oracle import cli, rates_cli
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Calendar, Term

JAN_1_2025 = 1_735_689_600
MAR_28_2025 = 1_743_120_000  # the quarter's last published day, 00:00 UTC: the average's rateDay
QUARTERS = Term(
    start=JAN_1_2025,
    end=JAN_1_2025 + 3652 * DAY,
    sell_off_days=180,
    period_seconds=0,
    calendar=Calendar(
        period_months=3, year_month=1, year_day=1, due_days=30, fx_rule=FxRule.PERIOD_AVERAGE.number, fx_source="ECB"
    ),
)
OPERATOR = {"Authorization": "Bearer operator"}
# ECB quotes: units of USD and JPY one euro buys.
PARTIAL = (
    "date,currency,rate\n2025-01-02,USD,1.0350\n2025-01-02,JPY,162.50\n2025-02-14,USD,1.0480\n2025-02-14,JPY,157.20\n"
)
MARCH = "date,currency,rate\n2025-03-28,USD,1.0820\n2025-03-28,JPY,161.10\n"
APRIL = "date,currency,rate\n2025-04-01,USD,1.0790\n2025-04-01,JPY,161.00\n"  # after the quarter
Q1_DAYS = (("1.0350", "162.50"), ("1.0480", "157.20"), ("1.0820", "161.10"))  # (USD, JPY) of its 3 days


def _rate(value: Fraction) -> int:
    return value.numerator * 10**18 // value.denominator  # rounded down to 18 decimals, once


def _usdx(amount_minor: int, minor_units: int, rate: int) -> int:
    return amount_minor * rate * USDX // (10**minor_units * 10**18)  # the ledger's one rounding


# EUR -> USD: the mean of q(USD) = (1.0350 + 1.0480 + 1.0820) / 3 = 3.1650 / 3 = 1.055 exactly.
EUR_RATE = _rate(sum((Fraction(usd) for usd, _ in Q1_DAYS), Fraction(0)) / 3)
# JPY -> USD: the mean of q(USD) / q(JPY) = (1.0350/162.50 + 1.0480/157.20 + 1.0820/161.10) / 3
#   = (0.006369230769... + 0.006666666666... + 0.006716325263...) / 3 = 0.006584074233236244|8...
JPY_RATE = _rate(sum((Fraction(usd) / Fraction(jpy) for usd, jpy in Q1_DAYS), Fraction(0)) / 3)


def test_the_figures_worked_out_apart() -> None:
    assert EUR_RATE == 1_055_000_000_000_000_000
    # 1.0350/162.50 = 207/32500; 1.0480/157.20 = 1/150; 1.0820/161.10 = 1082/161100 = 541/80550:
    # their sum / 3, rounded down.
    assert Fraction(207, 32500) + Fraction(1, 150) + Fraction(541, 80550) == sum(
        (Fraction(usd) / Fraction(jpy) for usd, jpy in Q1_DAYS), Fraction(0)
    )
    assert JPY_RATE == 6_584_074_233_236_244


def _printed(console: Console) -> str:
    text = console.export_text(clear=True)
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼┴":
        text = text.replace(rule, " ")
    return " ".join(text.split())


@pytest.fixture(params=["anvil", "ganache"])
def node(request: pytest.FixtureRequest) -> Chain:
    chain: Chain = request.getfixturevalue("chain" if request.param == "anvil" else "ganache_chain")
    return chain


def test_a_quarter_waits_until_the_ecb_has_published_through_its_last_day_then_settles_and_its_statement_shows_the_conversions(  # noqa: E501
    node: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = node
    outbox_path = tmp_path / "oracle" / "outbox.sqlite"
    outbox_path.parent.mkdir()
    manifest = tmp_path / "deployment.json"
    chain.manifest.save(manifest)
    rpc = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox_path))
    monkeypatch.setenv("ORACLE_RPC_URL", rpc)
    monkeypatch.setenv("ORACLE_MANIFEST", str(manifest))
    console = Console(width=400, record=True)
    monkeypatch.setattr(cli, "console", console)
    monkeypatch.setattr(rates_cli, "console", console)
    runner = CliRunner()
    licence_id = register(chain, JAN_1_2025, term=QUARTERS)
    fund(chain, licence_id, 10_000 * USDX)
    service = OracleService(
        chain, Outbox(outbox_path), [role("oracle1"), role("oracle2"), role("oracle3")], role("oracle_sender"),
        nil_reports=False,
    )  # fmt: skip
    settings = ApiSettings(
        rpc_url=rpc, manifest=manifest, database_url=str(tmp_path / "index.sqlite"), data_dir=tmp_path,
        run_indexer=False, oracle_outbox=outbox_path, operator_token=SecretStr("operator"),
    )  # fmt: skip
    services = build_services(settings)
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            _run(chain, client, services, service, runner, console, licence_id, tmp_path)
    finally:
        services.close()
        service.outbox.close()


def _run(
    chain: Chain,
    client: TestClient,
    services: Services,
    service: OracleService,
    runner: CliRunner,
    console: Console,
    licence_id: int,
    tmp_path: Path,
) -> None:
    # The quarter's sales over HTTP (the API knows the licence from its index): USD, EUR (with
    # deductions) and JPY, in two buckets.
    services.indexer.sync()
    feed = (
        "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
        f"U-1,{licence_id},2025-01-15,US,apparel,retail,1,200.00,0,USD\n"
        f"E-1,{licence_id},2025-02-03,DE,apparel,retail,3,1234.56,34.56,EUR\n"
        f"J-1,{licence_id},2025-03-10,DE,apparel,retail,2,150000,0,JPY\n"
        f"E-2,{licence_id},2025-03-20,US,apparel,retail,1,99.99,0,EUR\n"
    )
    uploaded = client.post("/feeds", headers={**OPERATOR, "Content-Type": "text/csv"}, content=feed)
    assert uploaded.status_code == 200, uploaded.text
    assert (uploaded.json()["valid"], uploaded.json()["rejected"]) == (4, 0)

    # Rates through 2025-02-14 only, over HTTP: averaging them would guess the quarter's rate.
    loaded = client.post(
        "/rates", params={"source": "ECB", "base": "EUR", "file_name": "ecb-to-feb.csv"},
        headers={**OPERATOR, "Content-Type": "text/csv"}, content=PARTIAL,
    )  # fmt: skip
    assert loaded.status_code == 200, loaded.text
    assert (loaded.json()["loaded"], loaded.json()["last_day"]) == (4, "2025-02-14")
    with structlog.testing.capture_logs() as logs:
        assert service.build_reports() == []
    waits = [e for e in logs if e["event"] == "report_waits_for_rates" and e["licence"] == licence_id]
    assert [(e["period"], e["period_name"], e["currency"], e["source"], e["days"], e["reason"]) for e in waits] == [
        (0, "2025-Q1", "EUR", "ECB", ["2025-02-15..2025-03-31"],
         "ECB has published rates (base EUR) only up to 2025-02-14: the period-average rate of EUR in USD needs "
         "them through 2025-03-31"),
        (0, "2025-Q1", "JPY", "ECB", ["2025-02-15..2025-03-31"],
         "ECB has published rates (base EUR) only up to 2025-02-14: the period-average rate of JPY in USD needs "
         "them through 2025-03-31"),
    ]  # fmt: skip

    # The API's hold status names it, as `royalty-oracle status` does.
    holds = client.get("/rates/holds", headers=OPERATOR)
    assert holds.status_code == 200, holds.text
    (hold,) = [h for h in holds.json()["holds"] if h["licence_id"] == licence_id]
    assert (hold["period"], hold["period_name"], hold["source"]) == (0, "2025-Q1", "ECB")
    assert [(m["currency"], m["days"]) for m in hold["missing"]] == [
        ("EUR", ["2025-02-15..2025-03-31"]),
        ("JPY", ["2025-02-15..2025-03-31"]),
    ]
    assert hold["reason"] == (
        "waits for ECB rates (base EUR) of EUR for 2025-02-15..2025-03-31; JPY for 2025-02-15..2025-03-31: "
        "ECB has published only up to 2025-02-14"
    )
    assert runner.invoke(cli.app, ["status"]).exit_code == 0
    shown = _printed(console)
    assert "Reports waiting for rates: 1" in shown
    assert (
        f"{licence_id} 0 (2025-Q1) ECB JPY 2025-02-15..2025-03-31 " in shown
        and "ECB has published rates (base EUR) only up to 2025-02-14: the period-average rate of JPY in USD" in shown
    )

    # With the CLI: March's last quote is of Friday the 28th, the 31st has none yet: still held.
    march = tmp_path / "ecb-march.csv"
    march.write_text(MARCH)
    loaded_cli = runner.invoke(cli.app, ["rates", "load", str(march), "--source", "ECB", "--base", "EUR"])
    assert loaded_cli.exit_code == 0, loaded_cli.output
    with structlog.testing.capture_logs() as logs:
        assert service.build_reports() == []
    waits = [e for e in logs if e["event"] == "report_waits_for_rates" and e["licence"] == licence_id]
    assert [(e["currency"], e["days"]) for e in waits] == [
        ("EUR", ["2025-03-29..2025-03-31"]),
        ("JPY", ["2025-03-29..2025-03-31"]),
    ]
    assert all("only up to 2025-03-28" in e["reason"] for e in waits)

    # A quote dated after the quarter completes it: signed this round, at the quarter's own 3 days' average.
    april = march.with_name("ecb-april.csv")
    april.write_text(APRIL)
    assert runner.invoke(cli.app, ["rates", "load", str(april), "--source", "ECB", "--base", "EUR"]).exit_code == 0
    assert len(service.build_reports()) == 1
    (settled,) = [s for s in service.send().settled if s.licence_id == licence_id]

    # Buckets by (year, territory, field, channel): DE apparel retail, then US apparel retail.
    de, us = territory_index("DE"), territory_index("US")
    assert de < us
    eur_de, eur_de_ded = _usdx(123_456, 2, EUR_RATE), _usdx(3_456, 2, EUR_RATE)
    jpy_de = _usdx(150_000, 0, JPY_RATE)
    eur_us = _usdx(9_999, 2, EUR_RATE)
    # EUR 1,234.56 x 1.055 = USD 1,302.4608; EUR 34.56 x 1.055 = 36.4608; EUR 99.99 x 1.055 = 105.48945
    # -> 105.489450; JPY 150,000 x 0.006584074233236244 = USD 987.611134 98... -> 987.611134.
    assert (eur_de, eur_de_ded, eur_us, jpy_de) == (1_302_460_800, 36_460_800, 105_489_450, 987_611_134)
    apparel, retail = field_index("apparel"), channel_index("retail")
    de_gross = eur_de + jpy_de
    us_gross = 200 * USDX + eur_us
    assert settled.buckets == [
        [0, de, apparel, retail, 5, de_gross, eur_de_ded],
        [0, us, apparel, retail, 2, us_gross, 0],
    ]
    assert (de_gross, us_gross) == (2_290_071_934, 305_489_450)
    # 10% of the net: (2,290.071934 - 36.4608 + 305.489450) = 2,559.100584 USD -> 255.910058 (rounded down)
    net = de_gross - eur_de_ded + us_gross
    assert (net, settled.royalty) == (2_559_100_584, net * 1_000 // 10_000) == (2_559_100_584, 255_910_058)
    with service.outbox.connect() as conn:
        assert [h for h in service.outbox.rate_holds(conn) if h.licence_id == licence_id] == []
    assert [
        h for h in client.get("/rates/holds", headers=OPERATOR).json()["holds"] if h["licence_id"] == licence_id
    ] == []

    # The statement of 2025 shows each conversion as the ledger emitted it.
    services.indexer.sync()
    statement = client.get(f"/licences/{licence_id}/statement", params={"year": 0})
    assert statement.status_code == 200, statement.text
    sid = settled.settlement_id
    quarter = "2025-01-01..2025-03-31"
    assert [
        (c["period_name"], c["settlement_id"], c["kind"], c["returned"], c["currency"], c["minor_units"], c["gross"],
         c["deductions"], c["rate"], c["rate_source"], c["rate_rule"], c["rate_date"], c["rate_dates"],
         c["converted_gross"], c["converted_deductions"])
        for c in statement.json()["conversions"]
    ] == [
        ("2025-Q1", sid, "report", False, "EUR", 2, "123456", "3456", "1.055", "ECB", "period-average", "2025-03-28",
         quarter, str(eur_de), str(eur_de_ded)),
        ("2025-Q1", sid, "report", False, "JPY", 0, "150000", "0", "0.006584074233236244", "ECB", "period-average",
         "2025-03-28", quarter, str(jpy_de), "0"),
        ("2025-Q1", sid, "report", False, "EUR", 2, "9999", "0", "1.055", "ECB", "period-average", "2025-03-28",
         quarter, str(eur_us), "0"),
    ]  # fmt: skip
    converted = [
        (e.args["rateDay"], e.args["convertedGross"], e.args["convertedDeductions"])
        for e in chain.ledger.events("CurrencyConverted", settlementId=sid)
    ]
    assert converted == [(MAR_28_2025, eur_de, eur_de_ded), (MAR_28_2025, jpy_de, 0), (MAR_28_2025, eur_us, 0)]

    # The CSV: its table first (one row per quarter of 2025 and the total, as for any licence),
    # then a blank line and the conversions' section, checked cell by cell.
    answer = client.get(f"/licences/{licence_id}/statement", params={"year": 0, "format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    blank = rows.index([])
    table, section = rows[:blank], rows[blank + 1 :]
    assert table[0][:3] == ["period", "period_name", "period_start"]
    q1 = next(r for r in table[1:] if r[1] == "2025-Q1")
    assert dict(zip(table[0], q1, strict=True))["gross"] == str(de_gross + us_gross)
    assert table[-1][1] == "total"
    assert section == [
        ["section", "period", "period_name", "settlement_id", "kind", "returned", "currency", "minor_units", "gross",
         "deductions", "gross_minor_units", "deductions_minor_units", "rate", "rate_source", "rate_rule", "rate_date",
         "rate_dates", "converted_gross", "converted_deductions", "rate_table", "rate_table_agreed"],
        ["conversion", "0", "2025-Q1", str(sid), "report", "no", "EUR", "2", "1234.56", "34.56", "123456", "3456",
         "1.055", "ECB", "period-average", "2025-03-28", quarter, "1302460800", "36460800", "", ""],
        ["conversion", "0", "2025-Q1", str(sid), "report", "no", "JPY", "0", "150000", "0", "150000", "0",
         "0.006584074233236244", "ECB", "period-average", "2025-03-28", quarter, "987611134", "0", "", ""],
        ["conversion", "0", "2025-Q1", str(sid), "report", "no", "EUR", "2", "99.99", "0.00", "9999", "0",
         "1.055", "ECB", "period-average", "2025-03-28", quarter, "105489450", "0", "", ""],
        # EUR: 1,234.56 + 99.99 = 1,334.55; converted 1,302.460800 + 105.489450 = 1,407.950250
        ["currency_total", "", "total", "", "", "no", "EUR", "2", "1334.55", "34.56", "133455", "3456", "", "", "",
         "", "", "1407950250", "36460800", "", ""],
        ["currency_total", "", "total", "", "", "no", "JPY", "0", "150000", "0", "150000", "0", "", "", "", "", "",
         "987611134", "0", "", ""],
    ]  # fmt: skip
