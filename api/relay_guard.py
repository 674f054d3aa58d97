"""Who may make the relayer spend gas, and how much: API keys, an allowlist for local use, quotas.

Callers are organisations named in ``API_RELAY_CALLERS_FILE`` (JSON), each with the SHA-256 of its
API key (the key itself is never stored) and optional quotas of its own::

    {"callers": [{"name": "acme", "key_sha256": "<64 hex>", "tx_per_minute": 30, "gas_per_day": 50000000}]}

Parties are configured by file, not in the index: the index is rebuilt from the chain at will, and
who may relay is not chain data. ``API_RELAY_ALLOW_HOSTS`` lets named client addresses relay without
a key (local use; refused at start-up on a public chain). Usage is counted in a small SQLite file of
its own (``API_RELAY_USAGE_FILE``) so a restart does not reset a caller's minute or day.

Operators manage the file with ``python -m api.callers`` (add an organisation with a fresh key,
list, revoke); the API reads it again whenever it changes, so an added or revoked organisation
counts from its next request without a restart (a file that stops being readable keeps the last
good list and is logged).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import Depends, Request

from api.errors import ApiError, Unauthorized
from api.settings import ApiSettings
from royalty_chain.client import send_guard

log = structlog.get_logger("api.relay_guard")

API_KEY_HEADER = "X-API-Key"
MINUTE = 60
DAY = 86_400


class QuotaExceeded(ApiError):
    status, slug, title = 429, "quota-exceeded", "Relay quota exceeded"


class RelayGuardError(Exception):
    """The callers file is unusable: the message names the setting."""


@dataclass(frozen=True, slots=True)
class RelayCaller:
    name: str
    tx_per_minute: int
    gas_per_day: int


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def local_caller(data_dir: Path, name: str = "local-dev") -> tuple[Path, Path]:
    """For ``make run``: a random API key of a local organisation in ``<data_dir>/relay-api-key``
    (made once, kept across runs) and the callers file naming it by its SHA-256. Returns both paths."""
    key_file, callers_file = data_dir / "relay-api-key", data_dir / "relay-callers.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32) + "\n")
        key_file.chmod(0o600)
    entry = {"name": name, "key_sha256": key_hash(key_file.read_text().strip())}
    callers_file.write_text(json.dumps({"callers": [entry]}, indent=2) + "\n")
    return key_file, callers_file


def load_callers(settings: ApiSettings) -> dict[str, RelayCaller]:
    """The callers by key hash, from ``API_RELAY_CALLERS_FILE`` (none when it is not set)."""
    path = settings.relay_callers_file
    if path is None:
        return {}
    try:
        entries = json.loads(Path(path).read_text())["callers"]
        callers = {}
        for entry in entries:
            digest = str(entry["key_sha256"]).lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"caller {entry.get('name')!r}: key_sha256 is not 64 hex digits")
            callers[digest] = RelayCaller(
                str(entry["name"]),
                int(entry.get("tx_per_minute", settings.relay_tx_per_minute)),
                int(entry.get("gas_per_day", settings.relay_gas_per_day)),
            )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise RelayGuardError(f"API_RELAY_CALLERS_FILE {path}: {err}") from err
    return callers


class CallersFile:
    """``API_RELAY_CALLERS_FILE``, read again when its size or modification time changes."""

    def __init__(self, settings: ApiSettings) -> None:
        self._settings = settings
        self._path = Path(str(settings.relay_callers_file))
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._callers = load_callers(settings)  # a bad file at start-up stops the API, naming it

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self._path.stat()
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def current(self) -> dict[str, RelayCaller]:
        stamp = self._stat()
        if stamp == self._stamp:
            return self._callers
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._callers = load_callers(self._settings)
                    log.info("relay_callers_reloaded", file=str(self._path), callers=len(self._callers))
                except RelayGuardError as err:
                    log.error("relay_callers_unreadable", detail=str(err), action="keeping the last good list")
                self._stamp = stamp
        return self._callers


class UsageBook:
    """Per caller: relayed transactions per minute and gas per day, in SQLite (survives restarts)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS relay_usage (caller TEXT NOT NULL, window TEXT NOT NULL, "
            "start INTEGER NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (caller, window, start))"
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _used(self, caller: str, window: str, start: int) -> int:
        row = self._db.execute(
            "SELECT amount FROM relay_usage WHERE caller = ? AND window = ? AND start = ?", (caller, window, start)
        ).fetchone()
        return int(row[0]) if row else 0

    def _add(self, caller: str, window: str, start: int, amount: int) -> None:
        self._db.execute(
            "INSERT INTO relay_usage VALUES (?, ?, ?, ?) ON CONFLICT (caller, window, start) "
            "DO UPDATE SET amount = amount + excluded.amount",
            (caller, window, start, amount),
        )

    def check(self, caller: RelayCaller, gas: int, now: float | None = None) -> None:
        """Raises QuotaExceeded (429 with Retry-After) when sending ``gas`` more would pass a quota."""
        now = time.time() if now is None else now
        minute, day = int(now) // MINUTE * MINUTE, int(now) // DAY * DAY
        with self._lock:
            sent = self._used(caller.name, "minute", minute)
            if sent >= caller.tx_per_minute:
                raise QuotaExceeded(
                    f"caller {caller.name} has relayed {sent} transactions this minute, its limit of "
                    f"{caller.tx_per_minute} per minute",
                    limit="tx_per_minute", used=sent, allowed=caller.tx_per_minute,
                    retry_after=minute + MINUTE - int(now),
                )  # fmt: skip
            spent = self._used(caller.name, "day", day)
            if spent + gas > caller.gas_per_day:
                raise QuotaExceeded(
                    f"caller {caller.name} has spent {spent} gas today; {gas} more would pass its limit of "
                    f"{caller.gas_per_day} gas per day",
                    limit="gas_per_day", used=spent, asked=gas, allowed=caller.gas_per_day,
                    retry_after=day + DAY - int(now),
                )  # fmt: skip

    def record(self, caller: RelayCaller, gas: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._add(caller.name, "minute", int(now) // MINUTE * MINUTE, 1)
            self._add(caller.name, "day", int(now) // DAY * DAY, gas)

    def used(self, caller: str, now: float | None = None) -> tuple[int, int]:
        """(transactions this minute, gas today) of ``caller``."""
        now = time.time() if now is None else now
        with self._lock:
            return (
                self._used(caller, "minute", int(now) // MINUTE * MINUTE),
                self._used(caller, "day", int(now) // DAY * DAY),
            )


def identify(callers: dict[str, RelayCaller], settings: ApiSettings, key: str | None, host: str | None) -> RelayCaller:
    """The caller a request relays for, or Unauthorized naming what is wrong."""
    if key:
        digest = key_hash(key)
        for known, caller in callers.items():
            if hmac.compare_digest(known, digest):
                return caller
        raise Unauthorized(f"the {API_KEY_HEADER} header holds no key of a registered organisation")
    if host is not None and host in settings.relay_allow_hosts:
        return RelayCaller(f"host:{host}", settings.relay_tx_per_minute, settings.relay_gas_per_day)
    raise Unauthorized(
        f"relaying needs an API key: send it as '{API_KEY_HEADER}: <key>' (the relayer pays for what it sends)"
    )


def require_relay_caller(request: Request) -> RelayCaller:
    services = request.app.state.services
    host = request.client.host if request.client is not None else None
    source: CallersFile | None = getattr(services, "relay_callers_file", None)
    callers = source.current() if source is not None else services.relay_callers
    caller: RelayCaller = identify(callers, services.settings, request.headers.get(API_KEY_HEADER), host)
    return caller


@contextlib.contextmanager
def relaying(usage: UsageBook | None, caller: RelayCaller) -> Iterator[None]:
    """Within it, every transaction the relayer is about to send (simulated already) is checked
    against ``caller``'s quotas and counted; a quota it would pass sends nothing (429)."""

    def guard(gas: int) -> None:
        if usage is not None:
            usage.check(caller, gas)
            usage.record(caller, gas)

    token = send_guard.set(guard)
    try:
        yield
    finally:
        send_guard.reset(token)


RelayCallerDep = Annotated[RelayCaller, Depends(require_relay_caller)]
