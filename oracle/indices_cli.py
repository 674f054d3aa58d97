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
from intake.indices import IndexFile, index_name_problem, read_index_file
from oracle.settings import OracleSettings
from oracle.value_files_cli import covered, listed, load_file, name_option, summary_table
from outbox import Outbox
from outbox.indices import IndicesStored
from outbox.migrate import shown
from royalty_chain.escalation import month_text

app = typer.Typer(
    help="Index values for escalation: load published index files, show what is stored.",
    no_args_is_help=True,
)
console = Console()


_index = name_option(index_name_problem)


def _print_summary(file: Path, parsed: IndexFile, stored: IndicesStored, rejected: int, rejects: Path) -> None:
    kept = stored.kept(parsed)
    months = [month_text(m) for m in sorted({v.month for v in kept})]
    described = {"indices": listed(sorted({v.index for v in kept})), "months": covered(months)}
    console.print(summary_table(f"Index values {file.name}", stored, rejected, described, rejects))
    if parsed.repeated:
        console.print(f"{parsed.repeated} line(s) repeated a value of the file: counted once")


@app.command()
def load(file: Annotated[Path, typer.Argument(help="the index file: index,month,value lines")]) -> None:
    """Store an index file's values in the outbox.

    New values are loaded, ones already stored with the same value are known; bad lines and lines
    that contradict a stored value are rejected into FILE.rejects.csv. Exit 1 only when FILE
    cannot be read or its header is not index,month,value.
    """
    load_file(
        console,
        file,
        what="index file",
        read=read_index_file,
        refused=IndexFileError,
        store=lambda outbox, conn, parsed: outbox.store_indices(conn, parsed, file.name),
        summary=lambda parsed, stored, rejected, rejects: _print_summary(file, parsed, stored, rejected, rejects),
    )


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
