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
from oracle.settings import OracleSettings
from oracle.value_files_cli import covered, listed, load_file, name_option, summary_table
from outbox import Outbox
from outbox.benchmarks import BenchmarksStored
from outbox.migrate import shown

app = typer.Typer(
    help="Benchmark values for rate reviews: load published benchmark files, show what is stored.",
    no_args_is_help=True,
)
console = Console()


_benchmark = name_option(benchmark_name_problem)


def _print_summary(file: Path, parsed: BenchmarkFile, stored: BenchmarksStored, rejected: int, rejects: Path) -> None:
    kept = stored.kept(parsed)
    days = [d.isoformat() for d in sorted({v.day for v in kept})]
    described = {"benchmarks": listed(sorted({v.benchmark for v in kept})), "days": covered(days)}
    console.print(summary_table(f"Benchmark values {file.name}", stored, rejected, described, rejects))
    if parsed.repeated:
        console.print(f"{parsed.repeated} line(s) repeated a value of the file: counted once")


@app.command()
def load(file: Annotated[Path, typer.Argument(help="the benchmark file: date,benchmark,value lines")]) -> None:
    """Store a benchmark file's values in the outbox.

    New values are loaded, ones already stored with the same value are known; bad lines and lines
    that contradict a stored value are rejected into FILE.rejects.csv. Exit 1 only when FILE
    cannot be read or its header is not date,benchmark,value.
    """
    load_file(
        console,
        file,
        what="benchmark file",
        read=read_benchmark_file,
        refused=BenchmarkFileError,
        store=lambda outbox, conn, parsed: outbox.store_benchmarks(conn, parsed, file.name),
        summary=lambda parsed, stored, rejected, rejects: _print_summary(file, parsed, stored, rejected, rejects),
    )


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
