"""`royalty-oracle benchmarks load|show` through typer's CliRunner, on a SQLite outbox named by
ORACLE_OUTBOX as the other commands find it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from oracle import benchmarks_cli
from oracle.cli import app
from outbox import Outbox

BENCHMARKS = (
    "date,benchmark,value\n"
    "2026-06-30,DATA-LIC-RATE,4.20\n"  # 2
    "2026-11-30,DATA-LIC-RATE,4.60\n"  # 3
    "2026-11-31,DATA-LIC-RATE,4.61\n"  # 4: no such day
    "2026-11-30,LES-MEDDEV-RATE,5.1\n"  # 5
    "2026-11-29,LES-MEDDEV-RATE,0\n"  # 6: zero
)
REJECTS_HEADER = "line_number,field,value,reason\n"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Console, Path]:
    outbox = tmp_path / "oracle" / "outbox.sqlite"
    monkeypatch.setenv("ORACLE_OUTBOX", str(outbox))
    console = Console(width=250, record=True)
    monkeypatch.setattr(benchmarks_cli, "console", console)
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
    path = tmp_path / "bench.csv"
    path.write_text(BENCHMARKS)

    assert runner.invoke(app, ["benchmarks", "load", str(path)]).exit_code == 0

    assert (tmp_path / "bench.csv.rejects.csv").read_text() == (
        REJECTS_HEADER
        + "4,date,2026-11-31,is not a date: no such day in the calendar\n"
        + "6,value,0,is zero; a benchmark value is positive (the reviews contract refuses 0: BenchmarkValueZero)\n"
    )
    printed = _printed(console)
    assert "Benchmark values bench.csv" in printed
    assert "loaded already known rejected benchmarks days rejects file" in printed
    assert f"3 0 2 2: DATA-LIC-RATE, LES-MEDDEV-RATE 2: 2026-06-30 to 2026-11-30 {path}.rejects.csv" in printed
    assert "bench.csv line 4: date '2026-11-31' is not a date: no such day in the calendar" in printed

    # Again, with one value changed: the stored value stays and the line is rejected naming it.
    again = tmp_path / "bench-revised.csv"
    again.write_text("date,benchmark,value\n2026-06-30,DATA-LIC-RATE,4.2\n2026-11-30,DATA-LIC-RATE,4.7\n")
    assert runner.invoke(app, ["benchmarks", "load", str(again)]).exit_code == 0
    printed = _printed(console)
    assert f"0 1 1 1: DATA-LIC-RATE 1: 2026-06-30 to 2026-06-30 {again}.rejects.csv" in printed
    assert (
        "bench-revised.csv line 3: value '4.7' differs from the value stored for DATA-LIC-RATE 2026-11-30: 4.60, "
        "loaded from bench.csv; the stored value stays"
    ) in printed

    assert runner.invoke(app, ["benchmarks", "show", "--benchmark", "DATA-LIC-RATE"]).exit_code == 0
    printed = _printed(console)
    assert "Benchmark values of DATA-LIC-RATE" in printed
    assert (
        "benchmark date value file DATA-LIC-RATE 2026-06-30 4.20 bench.csv DATA-LIC-RATE 2026-11-30 4.60 bench.csv"
    ) in printed
    assert "LES-MEDDEV-RATE" not in printed
    assert runner.invoke(app, ["benchmarks", "show"]).exit_code == 0
    assert "LES-MEDDEV-RATE 2026-11-30 5.1 bench.csv" in _printed(console)

    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        latest = outbox.latest_benchmark(conn, "DATA-LIC-RATE")
        assert latest is not None and (latest.day, latest.value) == (date(2026, 11, 30), 4_600_000)
    outbox.close()


def test_show_of_a_benchmark_without_values_and_a_wrong_header_exit_1(
    tmp_path: Path, cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, _ = cli
    assert runner.invoke(app, ["benchmarks", "show", "--benchmark", "NONE-RATE"]).exit_code == 1
    assert "no benchmark values of NONE-RATE in" in _printed(console)
    bad = tmp_path / "bad.csv"
    bad.write_text("day,benchmark,value\n2026-11-30,DATA-LIC-RATE,4.6\n")
    assert runner.invoke(app, ["benchmarks", "load", str(bad)]).exit_code == 1
    printed = _printed(console)
    assert "benchmark file not loaded:" in printed
    assert "the header is 'day,benchmark,value'; expected date,benchmark,value" in printed
    assert (tmp_path / "bad.csv.rejects.csv").read_text() == (
        REJECTS_HEADER + '1,header,"day,benchmark,value","is not date,benchmark,value, the header a benchmark file '
        'starts with"\n'
    )
    assert runner.invoke(app, ["benchmarks", "show", "--benchmark", "DATA LIC"]).exit_code == 2
