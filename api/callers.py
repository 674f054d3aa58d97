"""Manage the organisations that may relay: ``python -m api.callers add|list|revoke``.

The callers file (``API_RELAY_CALLERS_FILE``, or ``--file``) holds each organisation's name, the
SHA-256 of its API key and optional quotas (api/relay_guard.py). ``add`` makes a fresh random key,
stores only its hash and prints the key once: it cannot be shown again, only revoked and replaced.
Every change is one atomic replacement of the file under an exclusive lock, so two operators at
once cannot lose each other's change, and the running API picks it up at its next relayed request.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from api.relay_guard import key_hash
from intake.files import write_atomically

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n\n")[0])

FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="the callers file (default: API_RELAY_CALLERS_FILE)", show_default=False),
]


class CallersError(Exception):
    """A change the file cannot take: the message names the organisation or the setting."""


def callers_path(given: Path | None) -> Path:
    if given is not None:
        return given
    env = os.environ.get("API_RELAY_CALLERS_FILE")
    if not env:
        raise CallersError("no callers file: pass --file or set API_RELAY_CALLERS_FILE")
    return Path(env)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The file's callers, read and (on a clean exit) written back under an exclusive lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        callers = read_callers(path)
        yield callers
        write_atomically(path, json.dumps({"callers": callers}, indent=2) + "\n")


def read_callers(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["callers"]
    except (ValueError, KeyError, TypeError) as err:
        raise CallersError(f"{path} is not a callers file ({{'callers': [...]}}): {err}") from err
    if not isinstance(entries, list):
        raise CallersError(f"{path}: 'callers' is not a list")
    return entries


def add_caller(path: Path, name: str, tx_per_minute: int | None, gas_per_day: int | None) -> str:
    """Registers ``name`` with a fresh key; the key (returned) is stored only as its SHA-256."""
    if not NAME.match(name):
        raise CallersError(
            f"organisation name {name!r}: 1 to 64 letters, digits, '.', '_' or '-', starting alphanumeric"
        )
    for label, value in (("--tx-per-minute", tx_per_minute), ("--gas-per-day", gas_per_day)):
        if value is not None and value < 1:
            raise CallersError(f"{label} must be at least 1, not {value}")
    key = secrets.token_urlsafe(32)
    with _locked(path) as callers:
        if any(entry.get("name") == name for entry in callers):
            raise CallersError(f"organisation {name!r} is already registered: revoke it first to give it a new key")
        entry: dict[str, Any] = {"name": name, "key_sha256": key_hash(key)}
        if tx_per_minute is not None:
            entry["tx_per_minute"] = tx_per_minute
        if gas_per_day is not None:
            entry["gas_per_day"] = gas_per_day
        entry["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        callers.append(entry)
    return key


def revoke_caller(path: Path, name: str) -> None:
    with _locked(path) as callers:
        kept = [entry for entry in callers if entry.get("name") != name]
        if len(kept) == len(callers):
            known = ", ".join(str(e.get("name")) for e in callers) or "none"
            raise CallersError(f"no organisation {name!r} in {path} (registered: {known})")
        callers[:] = kept


def _fail(err: CallersError) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(1)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="the organisation's name, as logs and quota errors show it")],
    tx_per_minute: Annotated[int | None, typer.Option(help="its own limit (default API_RELAY_TX_PER_MINUTE)")] = None,
    gas_per_day: Annotated[int | None, typer.Option(help="its own limit (default API_RELAY_GAS_PER_DAY)")] = None,
    file: FileOption = None,
) -> None:
    """Register an organisation with a fresh API key, printed once."""
    try:
        path = callers_path(file)
        key = add_caller(path, name, tx_per_minute, gas_per_day)
    except CallersError as err:
        _fail(err)
    typer.echo(f"registered {name} in {path}; its API key (shown only now, send it as X-API-Key):", err=True)
    typer.echo(key)


@app.command("list")
def list_callers(file: FileOption = None) -> None:
    """The registered organisations, their quotas and the start of their key's hash."""
    try:
        path = callers_path(file)
        callers = read_callers(path)
    except CallersError as err:
        _fail(err)
    for entry in callers:
        quotas = ", ".join(f"{k}={entry[k]}" for k in ("tx_per_minute", "gas_per_day") if k in entry) or "defaults"
        created = entry.get("created_at", "-")
        typer.echo(f"{entry.get('name')}\tkey sha256 {str(entry.get('key_sha256'))[:12]}...\t{quotas}\t{created}")


@app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="the organisation to refuse from now on")], file: FileOption = None
) -> None:
    """Remove an organisation: its key is refused from the API's next request."""
    try:
        path = callers_path(file)
        revoke_caller(path, name)
    except CallersError as err:
        _fail(err)
    typer.echo(f"revoked {name} in {path}", err=True)


if __name__ == "__main__":
    app(prog_name=f"{Path(sys.executable).name} -m api.callers")
