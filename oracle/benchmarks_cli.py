"""`royalty-oracle benchmarks`: published benchmark values in the outbox, for rate reviews.

royalty-oracle benchmarks load data-lic-rate.csv              # store a benchmark file's values
royalty-oracle benchmarks show --benchmark DATA-LIC-RATE      # what is stored, day by day

A benchmark file is ``date,benchmark,value`` lines (``2026-11-30,DATA-LIC-RATE,4.60``). Its bad
lines go to ``<file>.rejects.csv`` beside it, as an index file's do; the command fails (exit 1)
only when the file cannot be read or its header is wrong. The running oracle fires a served
licence's benchmark review in its next round once the latest stored value of the clause's
benchmark has moved beyond the clause's limit (oracle.reviews).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from intake.benchmarks import BenchmarkFile, benchmark_name_problem, read_benchmark_file
from intake.errors import BenchmarkFileError
from oracle.indices_cli import SHOWN_REJECTIONS, _write_rejects
from oracle.settings import OracleSettings
from outbox import Outbox
from outbox.benchmarks import BenchmarksStored
from outbox.migrate import shown

app = typer.Typer(
    help="Benchmark values for rate reviews: load published benchmark files, show what is stored.",
    no_args_is_help=True,
)
console = Console()


def _benchmark(value: str | None) -> str | None:
    if value is None:
        return None
    problem = benchmark_name_problem(value)
    if problem is not None:
        raise typer.BadParameter(f"{value!r} {problem}")
    return value


def _print_summary(file: Path, parsed: BenchmarkFile, stored: BenchmarksStored, rejected: int, rejects: Path) -> None:
    kept = stored.kept(parsed)
    table = Table(title=f"Benchmark values {file.name}")
    for column in ("loaded", "already known", "rejected", "benchmarks", "days", "rejects file"):
        table.add_column(column, justify="left" if column in ("benchmarks", "days", "rejects file") else "right")
    days = sorted({v.day for v in kept})
    names = sorted({v.benchmark for v in kept})
    table.add_row(
        str(stored.loaded),
        str(stored.known),
        str(rejected),
        f"{len(names)}: {', '.join(names)}" if names else "0",
        f"{len(days)}: {days[0].isoformat()} to {days[-1].isoformat()}" if days else "0",
        str(rejects),
    )
    console.print(table)
    if parsed.repeated:
        console.print(f"{parsed.repeated} line(s) repeated a value of the file: counted once")


@app.command()
def load(file: Annotated[Path, typer.Argument(help="the benchmark file: date,benchmark,value lines")]) -> None:
    """Store a benchmark file's values in the outbox.

    New values are loaded, ones already stored with the same value are known; bad lines and lines
    that contradict a stored value are rejected into FILE.rejects.csv. Exit 1 only when FILE
    cannot be read or its header is not date,benchmark,value.
    """
    settings = OracleSettings()
    try:
        parsed = read_benchmark_file(file)
    except BenchmarkFileError as err:
        console.print(f"[red]benchmark file not loaded:[/red] {err}")
        if err.rejection is not None:
            console.print(f"rejects file: {_write_rejects(file, [err.rejection])}")
        raise typer.Exit(1) from err
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            stored = outbox.store_benchmarks(conn, parsed, file.name)
    finally:
        outbox.close()
    rejections = stored.all_rejections(parsed)
    rejects = _write_rejects(file, rejections)
    _print_summary(file, parsed, stored, len(rejections), rejects)
    for rejection in rejections[:SHOWN_REJECTIONS]:
        console.print(f"  [yellow]{file.name}[/yellow] {rejection}")
    if len(rejections) > SHOWN_REJECTIONS:
        console.print(f"  ... {len(rejections) - SHOWN_REJECTIONS} more in {rejects}")


@app.command()
def show(
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="only this benchmark (default: every one)", callback=_benchmark)
    ] = None,
) -> None:
    """Show the stored benchmark values, benchmark by benchmark and day by day. Exit 1 when none is stored."""
    settings = OracleSettings()
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            rows = outbox.stored_benchmarks(conn, benchmarks=[benchmark] if benchmark is not None else None)
    finally:
        outbox.close()
    if not rows:
        what = f"of {benchmark} " if benchmark is not None else ""
        console.print(f"[yellow]no benchmark values {what}in {shown(settings.outbox_path)}[/yellow]")
        raise typer.Exit(1)
    table = Table(title=f"Benchmark values of {benchmark}" if benchmark is not None else "Benchmark values")
    for column in ("benchmark", "date", "value", "file"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in rows:
        table.add_row(row.benchmark, row.day.isoformat(), row.text, row.file_name)
    console.print(table)
