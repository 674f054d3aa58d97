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
from intake.feed import Rejection
from intake.fx import RateFile, cross_rate, read_rate_file, source_problem
from intake.rejects import RejectsFile
from oracle.settings import OracleSettings
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
SHOWN_REJECTIONS = 10


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


def _write_rejects(file: Path, rejections: list[Rejection]) -> Path:
    rejects = RejectsFile(file)
    try:
        for r in rejections:
            rejects.add(r)
    except BaseException:
        rejects.discard()
        raise
    return rejects.close()


def _print_summary(
    file: Path, source: str, parsed: RateFile, stored: RatesStored, rejected: int, rejects: Path
) -> None:
    kept = stored.kept(parsed)
    days = sorted({q.day for q in kept})
    currencies = sorted({q.currency for q in kept})
    table = Table(title=f"Rates {file.name} ({source}, base {parsed.base})")
    for column in ("loaded", "already known", "rejected", "days", "currencies", "rejects file"):
        table.add_column(column, justify="left" if column in ("days", "currencies", "rejects file") else "right")
    covered = f"{len(days)}: {days[0].isoformat()} to {days[-1].isoformat()}" if days else "0"
    table.add_row(
        str(stored.loaded),
        str(stored.known),
        str(rejected),
        covered,
        f"{len(currencies)}: {', '.join(currencies)}" if currencies else "0",
        str(rejects),
    )
    console.print(table)
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
    settings = OracleSettings()
    try:
        parsed = read_rate_file(file, base=base)
    except RateFileError as err:
        console.print(f"[red]rate file not loaded:[/red] {err}")
        if err.rejection is not None:  # the file is there: its rejects file says why it was refused
            console.print(f"rejects file: {_write_rejects(file, [err.rejection])}")
        raise typer.Exit(1) from err
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            stored = outbox.store_rates(conn, source, parsed, file.name)
    finally:
        outbox.close()
    rejections = stored.all_rejections(parsed)
    rejects = _write_rejects(file, rejections)
    _print_summary(file, source, parsed, stored, len(rejections), rejects)
    for rejection in rejections[:SHOWN_REJECTIONS]:
        console.print(f"  [yellow]{file.name}[/yellow] {rejection}")
    if len(rejections) > SHOWN_REJECTIONS:
        console.print(f"  ... {len(rejections) - SHOWN_REJECTIONS} more in {rejects}")


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
