"""`royalty-oracle rates load|show` through typer's CliRunner, on a SQLite outbox named by
ORACLE_OUTBOX as the other commands find it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from oracle import rates_cli
from oracle.cli import app
from outbox import Outbox

RATES = (
    "date,currency,rate\n"
    "2025-01-02,USD,1.0856\n"  # 2
    "2025-01-02,JPY,162.25\n"  # 3
    "2025-01-02,usd,1.0856\n"  # 4: lowercase
    "2025-01-03,USD,1.0856\n"  # 5
    "2025-01-03,JPY,160.01\n"  # 6
    "2025-01-03,GBP,0\n"  # 7: zero
)
REJECTS_HEADER = "line_number,field,value,reason\n"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Console, Path]:
    """The runner, the commands' console (wide and recorded) and the outbox file they use."""
    outbox = tmp_path / "oracle" / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox))
    console = Console(width=250, record=True)
    monkeypatch.setattr(rates_cli, "console", console)
    return CliRunner(), console, outbox


def _printed(console: Console) -> str:
    """What the command printed, with the tables' rules dropped and whitespace collapsed."""
    text = console.export_text()
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼":
        text = text.replace(rule, " ")
    return " ".join(text.split())


def _load(runner: CliRunner, path: Path, *extra: str) -> int:
    result = runner.invoke(app, ["rates", "load", str(path), "--source", "ECB", "--base", "EUR", *extra])
    return result.exit_code


def test_load_stores_the_good_lines_writes_the_rejects_and_prints_a_summary(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = cli
    path = tmp_path / "ecb-2025-01.csv"
    path.write_text(RATES)

    assert _load(runner, path) == 0

    assert (tmp_path / "ecb-2025-01.csv.rejects.csv").read_text() == (
        REJECTS_HEADER
        + "4,currency,usd,is not an ISO 4217 code (codes are uppercase: 'USD')\n"
        + "7,rate,0,is zero; a rate is at least 0.000000001 (MIN_RATE)\n"
    )
    printed = _printed(console)
    assert "Rates ecb-2025-01.csv (ECB, base EUR)" in printed
    assert "loaded already known rejected days currencies rejects file" in printed
    assert f"4 0 2 2: 2025-01-02 to 2025-01-03 2: JPY, USD {path}.rejects.csv" in printed
    assert "ecb-2025-01.csv line 4: currency 'usd' is not an ISO 4217 code" in printed
    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        stored = outbox.stored_rates(conn, "ECB", "EUR")
    outbox.close()
    assert [(s.day.isoformat(), s.currency, s.text, s.file_name) for s in stored] == [
        ("2025-01-02", "JPY", "162.25", "ecb-2025-01.csv"),
        ("2025-01-02", "USD", "1.0856", "ecb-2025-01.csv"),
        ("2025-01-03", "JPY", "160.01", "ecb-2025-01.csv"),
        ("2025-01-03", "USD", "1.0856", "ecb-2025-01.csv"),
    ]


def test_loading_again_finds_everything_known_and_a_contradiction_is_rejected(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, _ = cli
    path = tmp_path / "ecb.csv"
    path.write_text(RATES)
    assert _load(runner, path) == 0
    assert _load(runner, path) == 0
    assert f"0 4 2 2: 2025-01-02 to 2025-01-03 2: JPY, USD {path}.rejects.csv" in _printed(console)

    revised = tmp_path / "ecb-revised.csv"
    revised.write_text("date,currency,rate\n2025-01-03,JPY,160.10\n2025-01-06,JPY,158.5\n2025-01-06,JPY,158.50\n")
    assert _load(runner, revised) == 0

    assert (tmp_path / "ecb-revised.csv.rejects.csv").read_text() == (
        REJECTS_HEADER + '2,rate,160.10,"differs from the rate stored for JPY on 2025-01-03 (ECB, base EUR): '
        '160.01, loaded from ecb.csv; the stored rate stays"\n'
    )
    printed = _printed(console)
    # The line that contradicts the outbox is neither loaded nor counted among the days covered.
    assert f"1 0 1 1: 2025-01-06 to 2025-01-06 1: JPY {revised}.rejects.csv" in printed
    assert "1 line(s) repeated a quote of the file with the same rate: counted once" in printed


def test_a_file_with_a_bad_header_is_refused_whole_and_the_outbox_is_not_touched(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = cli
    path = tmp_path / "wide.csv"
    path.write_text("date,USD,JPY\n2025-01-02,1.0856,162.25\n")

    assert _load(runner, path) == 1

    assert (
        f"rate file not loaded: {path}: line 1: the header is 'date,USD,JPY'; expected date,currency,rate"
        in _printed(console)
    )
    assert (tmp_path / "wide.csv.rejects.csv").read_text() == (
        REJECTS_HEADER + '1,header,"date,USD,JPY","is not date,currency,rate, the header a rate file starts with"\n'
    )
    assert not outbox_path.exists()


def test_a_file_that_cannot_be_read_exits_1_without_a_rejects_file(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, _ = cli
    assert _load(runner, tmp_path / "missing.csv") == 1
    assert f"rate file not loaded: {tmp_path / 'missing.csv'}: cannot read it: No such file or directory" in (
        _printed(console)
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--source", "ECB", "--base", "eur"], "'eur' is not an active ISO 4217 currency code"),
        (["--source", "", "--base", "EUR"], "'' is empty"),
        (["--source", "E C B", "--base", "EUR"], "must be printable ASCII without spaces"),
        (["--source", "X" * 17, "--base", "EUR"], "is longer than 16 characters"),
        (["--base", "EUR"], "Missing option '--source'"),
    ],
)
def test_bad_options_are_usage_errors(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path], options: list[str], message: str
) -> None:
    runner, _, outbox_path = cli
    path = tmp_path / "ecb.csv"
    path.write_text(RATES)
    result = runner.invoke(app, ["rates", "load", str(path), *options])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not outbox_path.exists() and not (tmp_path / "ecb.csv.rejects.csv").exists()


def test_show_lists_the_stored_quotes_and_their_inverse_day_by_day(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, _ = cli
    path = tmp_path / "ecb.csv"
    path.write_text(RATES)
    assert _load(runner, path) == 0
    console.export_text()  # forget the load's output

    result = runner.invoke(app, ["rates", "show", "--source", "ECB", "--base", "EUR", "--currency", "JPY"])

    assert result.exit_code == 0
    printed = _printed(console)
    assert "ECB rates of JPY, base EUR day JPY per 1 EUR 1 JPY in EUR file" in printed
    # 1 / 162.25 = 0.006163328197226502|3112...; 1 / 160.01 = 0.006249609399412536|7164...
    assert "2025-01-02 162.25 0.006163328197226502 ecb.csv 2025-01-03 160.01 0.006249609399412536 ecb.csv" in printed

    result = runner.invoke(
        app, ["rates", "show", "--source", "ECB", "--base", "EUR", "--currency", "USD", "--from", "2025-01-03"]
    )
    assert result.exit_code == 0
    printed = _printed(console)
    # 1 / 1.0856 = 0.921149594694178334|5615...
    assert "ECB rates of USD, base EUR from 2025-01-03 to the last" in printed
    assert "2025-01-03 1.0856 0.921149594694178334 ecb.csv" in printed
    assert "2025-01-02" not in printed


def test_show_says_when_nothing_is_stored_and_refuses_the_base(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = cli
    path = tmp_path / "ecb.csv"
    path.write_text(RATES)
    assert _load(runner, path) == 0
    console.export_text()

    show = ["rates", "show", "--source", "ECB", "--base", "EUR"]
    result = runner.invoke(app, [*show, "--currency", "JPY", "--from", "2025-02-01", "--to", "2025-02-28"])
    assert result.exit_code == 1
    assert f"no ECB rates of JPY (base EUR) in {outbox_path} from 2025-02-01 to 2025-02-28" in _printed(console)
    assert runner.invoke(app, [*show, "--currency", "CHF"]).exit_code == 1
    result = runner.invoke(app, [*show, "--currency", "EUR"])
    assert result.exit_code == 2 and "EUR is the base: its rate is 1 by definition" in result.output
    result = runner.invoke(app, [*show, "--currency", "JPY", "--to", "2025-02-30"])
    assert result.exit_code == 2 and "2025-02-30" in result.output
