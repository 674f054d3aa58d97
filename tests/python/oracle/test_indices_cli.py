"""`royalty-oracle indices load|show` through typer's CliRunner, on a SQLite outbox named by
ORACLE_OUTBOX as the other commands find it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from oracle import indices_cli
from oracle.cli import app
from outbox import Outbox

INDICES = (
    "index,month,value\n"
    "US-CPI-U,2023-09,307.789\n"  # 2
    "US-CPI-U,2024-09,315.301\n"  # 3
    "US-CPI-U,2024-13,316\n"  # 4: no such month
    "EU-HICP,2024-09,127.9\n"  # 5
    "EU-HICP,2024-10,0\n"  # 6: zero
)
REJECTS_HEADER = "line_number,field,value,reason\n"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Console, Path]:
    outbox = tmp_path / "oracle" / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox))
    console = Console(width=250, record=True)
    monkeypatch.setattr(indices_cli, "console", console)
    return CliRunner(), console, outbox


def _printed(console: Console) -> str:
    text = console.export_text(clear=True)
    for rule in "│┃━─┏┓┗┛┡┩└┘╇┳┻╋┼":
        text = text.replace(rule, " ")
    return " ".join(text.split())


def test_load_stores_the_good_lines_writes_the_rejects_and_show_lists_them(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = cli
    path = tmp_path / "cpi.csv"
    path.write_text(INDICES)

    assert runner.invoke(app, ["indices", "load", str(path)]).exit_code == 0

    assert (tmp_path / "cpi.csv.rejects.csv").read_text() == (
        REJECTS_HEADER
        + '4,month,2024-13,"is not a month: months run 01 to 12, years 1900 to 9999"\n'
        + "6,value,0,is zero; an index value is positive\n"
    )
    printed = _printed(console)
    assert "Index values cpi.csv" in printed
    assert "loaded already known rejected indices months rejects file" in printed
    assert f"3 0 2 2: EU-HICP, US-CPI-U 2: 2023-09 to 2024-09 {path}.rejects.csv" in printed
    assert "cpi.csv line 4: month '2024-13' is not a month" in printed

    # Again, with one value changed: the stored value stays and the line is rejected naming it.
    again = tmp_path / "cpi-revised.csv"
    again.write_text("index,month,value\nUS-CPI-U,2023-09,307.789\nUS-CPI-U,2024-09,315.4\n")
    assert runner.invoke(app, ["indices", "load", str(again)]).exit_code == 0
    printed = _printed(console)
    assert f"0 1 1 1: US-CPI-U 1: 2023-09 to 2023-09 {again}.rejects.csv" in printed
    assert (
        "cpi-revised.csv line 3: value '315.4' differs from the value stored for US-CPI-U 2024-09: 315.301, "
        "loaded from cpi.csv; the stored value stays"
    ) in printed

    assert runner.invoke(app, ["indices", "show", "--index", "US-CPI-U"]).exit_code == 0
    printed = _printed(console)
    assert "Index values of US-CPI-U" in printed
    assert "index month value file US-CPI-U 2023-09 307.789 cpi.csv US-CPI-U 2024-09 315.301 cpi.csv" in printed
    assert "EU-HICP" not in printed
    assert runner.invoke(app, ["indices", "show"]).exit_code == 0
    assert "EU-HICP 2024-09 127.9 cpi.csv US-CPI-U 2023-09" in _printed(console)

    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        assert outbox.index_values_of(conn, "US-CPI-U", [202309, 202409]) == {202309: 307_789_000, 202409: 315_301_000}
    outbox.close()


def test_show_of_an_index_without_values_and_a_wrong_header_exit_1(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, _ = cli
    assert runner.invoke(app, ["indices", "show", "--index", "UK-RPI"]).exit_code == 1
    assert "no index values of UK-RPI in" in _printed(console)
    bad = tmp_path / "bad.csv"
    bad.write_text("index,date,value\nUS-CPI-U,2024-09,315.301\n")
    assert runner.invoke(app, ["indices", "load", str(bad)]).exit_code == 1
    printed = _printed(console)
    assert "index file not loaded:" in printed
    assert "the header is 'index,date,value'; expected index,month,value" in printed
    result = runner.invoke(app, ["indices", "show", "--index", "US CPI"])
    assert result.exit_code == 2
