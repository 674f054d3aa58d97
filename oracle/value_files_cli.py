"""What the `rates`, `indices` and `benchmarks` commands share: loading a published value file.

Each of them reads a file of dated values (``intake.fx``, ``intake.indices``, ``intake.benchmarks``),
stores what is new in the outbox, writes the bad lines and the contradicted values to
``<file>.rejects.csv`` beside it and prints one summary table; the file is refused as a whole
(exit 1) only when it cannot be read or its header is wrong. Only what each file holds (its
columns, how the summary describes it) differs, and that is what the callers pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.rejects import RejectsFile
from oracle.settings import OracleSettings
from outbox import Outbox

SHOWN_REJECTIONS = 10

ParsedT = TypeVar("ParsedT")
ParsedContra = TypeVar("ParsedContra", contravariant=True)


class Stored(Protocol[ParsedContra]):
    """What storing a file's values in the outbox did."""

    @property
    def loaded(self) -> int: ...

    @property
    def known(self) -> int: ...

    def all_rejections(self, parsed: ParsedContra) -> list[Rejection]: ...


StoredT = TypeVar("StoredT", bound="Stored[Any]")


def name_option(problem: Callable[[str], str | None]) -> Callable[[str | None], str | None]:
    """A typer callback refusing a name ``problem`` finds wrong, with its phrase."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        found = problem(value)
        if found is not None:
            raise typer.BadParameter(f"{value!r} {found}")
        return value

    return check


def write_rejects(file: Path, rejections: list[Rejection]) -> Path:
    """``<file>.rejects.csv`` with ``rejections`` (replacing an earlier load's), or none left half-written."""
    rejects = RejectsFile(file)
    try:
        for r in rejections:
            rejects.add(r)
    except BaseException:
        rejects.discard()
        raise
    return rejects.close()


def summary_table(
    title: str, stored: Stored[ParsedT], rejected: int, described: dict[str, str], rejects: Path
) -> Table:
    """The load's one table: counts right-aligned, then what the kept values cover, then the rejects file."""
    table = Table(title=title)
    for column in ("loaded", "already known", "rejected"):
        table.add_column(column, justify="right")
    for column in (*described, "rejects file"):
        table.add_column(column, justify="left")
    table.add_row(str(stored.loaded), str(stored.known), str(rejected), *described.values(), str(rejects))
    return table


def covered(values: list[str]) -> str:
    """``"3: a to c"`` for sorted values, ``"0"`` for none."""
    return f"{len(values)}: {values[0]} to {values[-1]}" if values else "0"


def listed(values: list[str]) -> str:
    """``"2: A, B"`` for sorted values, ``"0"`` for none."""
    return f"{len(values)}: {', '.join(values)}" if values else "0"


def load_file(
    console: Console,
    file: Path,
    *,
    what: str,
    read: Callable[[Path], ParsedT],
    refused: type[Exception],
    store: Callable[[Outbox, Connection, ParsedT], StoredT],
    summary: Callable[[ParsedT, StoredT, int, Path], None],
) -> None:
    """Reads ``file`` with ``read`` (exit 1 on ``refused``, its rejection written when it has one),
    stores its values with ``store`` in one outbox transaction, writes its rejects file and prints
    ``summary`` and the first rejections."""
    settings = OracleSettings()
    try:
        parsed = read(file)
    except refused as err:
        console.print(f"[red]{what} not loaded:[/red] {err}")
        rejection: Rejection | None = getattr(err, "rejection", None)
        if rejection is not None:  # the file is there: its rejects file says why it was refused
            console.print(f"rejects file: {write_rejects(file, [rejection])}")
        raise typer.Exit(1) from err
    outbox = Outbox(settings.outbox_path)
    try:
        with outbox.connect() as conn:
            stored = store(outbox, conn, parsed)
    finally:
        outbox.close()
    rejections = stored.all_rejections(parsed)
    rejects = write_rejects(file, rejections)
    summary(parsed, stored, len(rejections), rejects)
    for rejection_ in rejections[:SHOWN_REJECTIONS]:
        console.print(f"  [yellow]{file.name}[/yellow] {rejection_}")
    if len(rejections) > SHOWN_REJECTIONS:
        console.print(f"  ... {len(rejections) - SHOWN_REJECTIONS} more in {rejects}")
