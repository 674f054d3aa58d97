"""`royalty-oracle indices`: published index values in the outbox, for escalation steps.

royalty-oracle indices load cpi-u.csv            # store an index file's values
royalty-oracle indices show --index US-CPI-U     # what is stored, month by month

An index file is ``index,month,value`` lines (``US-CPI-U,2024-09,315.301``). Its bad lines go to
``<file>.rejects.csv`` beside it, as a rate file's do; the command fails (exit 1) only when the
file cannot be read or its header is wrong. The running oracle steps a licence's escalation
clause in its next round once both months of the step are stored (oracle.escalation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from intake.errors import IndexFileError
from intake.feed import Rejection
from intake.indices import IndexFile, index_name_problem, read_index_file
from intake.rejects import RejectsFile
from oracle.settings import OracleSettings
from outbox import Outbox
from outbox.indices import IndicesStored
from outbox.migrate import shown
from royalty_chain.escalation import month_text

app = typer.Typer(
    help="Index values for escalation: load published index files, show what is stored.",
    no_args_is_help=True,
)
console = Console()
SHOWN_REJECTIONS = 10


def _index(value: str | None) -> str | None:
    if value is None:
        return None
    problem = index_name_problem(value)
    if problem is not None:
        raise typer.BadParameter(f"{value!r} {problem}")
    return value


def _write_rejects(file: Path, rejections: list[Rejection]) -> Path:
    rejects = RejectsFile(file)
    try:
        for r in rejections:
            rejects.add(r)
    except BaseException:
        rejects.discard()
        raise
    return rejects.close()


def _print_summary(file: Path, parsed: IndexFile, stored: IndicesStored, rejected: int, rejects: Path) -> None:
    kept = stored.kept(parsed)
    table = Table(title=f"Index values {file.name}")
    for column in ("loaded", "already known", "rejected", "indices", "months", "rejects file"):
        table.add_column(column, justify="left" if column in ("indices", "months", "rejects file") else "right")
    months = sorted({v.month for v in kept})
    indices = sorted({v.index for v in kept})
    table.add_row(
        str(stored.loaded),
        str(stored.known),
        str(rejected),
        f"{len(indices)}: {', '.join(indices)}" if indices else "0",
        f"{len(months)}: {month_text(months[0])} to {month_text(months[-1])}" if months else "0",
        str(rejects),
    )
    console.print(table)
    if parsed.repeated:
        console.print(f"{parsed.repeated} line(s) repeated a value of the file: counted once")


@app.command()
def load(file: Annotated[Path, typer.Argument(help="the index file: index,month,value lines")]) -> None:
    """Store an index file's values in the outbox.

    New values are loaded, ones already stored with the same value are known; bad lines and lines
    that contradict a stored value are rejected into FILE.rejects.csv. Exit 1 only when FILE
    cannot be read or its header is not index,month,value.
    """
    settings = OracleSettings()
    try:
        parsed = read_index_file(file)
    except IndexFileError as err:
        console.print(f"[red]index file not loaded:[/red] {err}")
        if err.rejection is not None:
            console.print(f"rejects file: {_write_rejects(file, [err.rejection])}")
        raise typer.Exit(1) from err
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            stored = outbox.store_indices(conn, parsed, file.name)
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
    index: Annotated[
        str | None, typer.Option("--index", help="only this index (default: every one)", callback=_index)
    ] = None,
) -> None:
    """Show the stored index values, index by index and month by month. Exit 1 when none is stored."""
    settings = OracleSettings()
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            rows = outbox.stored_indices(conn, indices=[index] if index is not None else None)
    finally:
        outbox.close()
    if not rows:
        what = f"of {index} " if index is not None else ""
        console.print(f"[yellow]no index values {what}in {shown(settings.outbox_path)}[/yellow]")
        raise typer.Exit(1)
    table = Table(title=f"Index values of {index}" if index is not None else "Index values")
    for column in ("index", "month", "value", "file"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in rows:
        table.add_row(row.index, month_text(row.month), row.text, row.file_name)
    console.print(table)
