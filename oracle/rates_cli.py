"""`royalty-oracle rates`: publishers' exchange rates in the outbox, for sales in other currencies.

royalty-oracle rates load eurofxref.csv --source ECB --base EUR   # store a rate file's quotes
royalty-oracle rates show --source ECB --base EUR --currency JPY --from 2025-01-01 --to 2025-03-31

A rate file is ``date,currency,rate`` lines, each how many units of ``currency`` one unit of the
base buys (docs/currencies.md). Its bad lines go to ``<file>.rejects.csv`` beside it, as a
feed's do; the command fails (exit 1) only when the file cannot be read or its header is wrong.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from intake.errors import RateFileError
from intake.fx import RateFile, cross_rate, read_rate_file, source_problem
from oracle.settings import OracleSettings
from oracle.value_files_cli import covered, listed, load_file, summary_table
from outbox import Outbox
from outbox.migrate import shown
from outbox.rates import RatesStored
from royalty_chain.codes import CURRENCIES
from royalty_chain.units import format_amount

app = typer.Typer(
    help="Exchange rates for sales in other currencies: load publishers' rate files, show what is stored.",
    no_args_is_help=True,
)
console = Console()


def _source(value: str) -> str:
    problem = source_problem(value)
    if problem is not None:
        raise typer.BadParameter(f"{value!r} {problem}")
    return value


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise typer.BadParameter(f"{value!r} is not an active ISO 4217 currency code (uppercase, such as EUR)")
    return value


Source = Annotated[
    str, typer.Option("--source", help="the publisher, as the licence's clause names it", callback=_source)
]
Base = Annotated[
    str, typer.Option("--base", help="the currency the file's rates are per one unit of (ECB: EUR)", callback=_currency)
]


def _print_summary(
    file: Path, source: str, parsed: RateFile, stored: RatesStored, rejected: int, rejects: Path
) -> None:
    kept = stored.kept(parsed)
    days = [d.isoformat() for d in sorted({q.day for q in kept})]
    described = {"days": covered(days), "currencies": listed(sorted({q.currency for q in kept}))}
    title = f"Rates {file.name} ({source}, base {parsed.base})"
    console.print(summary_table(title, stored, rejected, described, rejects))
    if parsed.repeated:
        console.print(f"{parsed.repeated} line(s) repeated a quote of the file with the same rate: counted once")


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="the rate file: date,currency,rate lines")],
    source: Source,
    base: Base,
) -> None:
    """Store a rate file's quotes in the outbox.

    New quotes are loaded, ones already stored with the same rate are known; bad lines and lines
    that contradict a stored rate are rejected into FILE.rejects.csv. Exit 1 only when FILE cannot
    be read or its header is not date,currency,rate.
    """
    load_file(
        console,
        file,
        what="rate file",
        read=lambda path: read_rate_file(path, base=base),
        refused=RateFileError,
        store=lambda outbox, conn, parsed: outbox.store_rates(conn, source, parsed, file.name),
        summary=lambda parsed, stored, rejected, rejects: _print_summary(
            file, source, parsed, stored, rejected, rejects
        ),
    )


@app.command()
def show(
    source: Source,
    base: Base,
    currency: Annotated[str, typer.Option("--currency", help="the quoted currency", callback=_currency)],
    first: Annotated[datetime | None, typer.Option("--from", help="first day shown", formats=["%Y-%m-%d"])] = None,
    last: Annotated[datetime | None, typer.Option("--to", help="last day shown", formats=["%Y-%m-%d"])] = None,
) -> None:
    """Show the stored quotes of a currency, day by day.

    Each row is the quote as published (units of CURRENCY per unit of BASE) and the rate it gives
    one unit of CURRENCY in BASE, rounded down to 18 decimals. Exit 1 when none is stored.
    """
    if currency == base:
        raise typer.BadParameter(f"{currency} is the base: its rate is 1 by definition", param_hint="--currency")
    start = first.date() if first is not None else None
    end = last.date() if last is not None else None
    settings = OracleSettings()
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            rows = outbox.stored_rates(conn, source, base, start, end, currencies=[currency], inclusive=True)
    finally:
        outbox.close()
    span = f" from {start or 'the first day'} to {end or 'the last'}" if start or end else ""
    if not rows:
        console.print(
            f"[yellow]no {source} rates of {currency} (base {base}) in {shown(settings.outbox_path)}{span}[/yellow]"
        )
        raise typer.Exit(1)
    table = Table(title=f"{source} rates of {currency}, base {base}{span}")
    for column in ("day", f"{currency} per 1 {base}", f"1 {currency} in {base}", "file"):
        table.add_column(column, justify="left" if column in ("day", "file") else "right")
    for row in rows:
        inverse = cross_rate({currency: row.rate}, currency, base, base)
        table.add_row(row.day.isoformat(), row.text, format_amount(inverse, 18), row.file_name)
    console.print(table)
