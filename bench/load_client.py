"""A closed-loop HTTP load: N concurrent clients, each on its own keep-alive connection, sending
its next request when the last one is answered, and a probe of ``/health`` beside them. Used by
``bench/api_load.py`` (figures) and by ``tests/python/api/test_api_under_load.py`` (what every
answer was, never how fast).

Every answer is recorded: its status, its latency, whether a 503 carried ``Retry-After``; a
request that got no answer (timeout, refused or reset connection) is recorded as an error with
the exception's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    content: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Outcome:
    """What a load's requests got."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # no answer: exception name -> count
    latencies: list[float] = field(default_factory=list)  # seconds, of every answer
    ok_latencies: list[float] = field(default_factory=list)  # seconds, of 2xx answers
    busy_without_retry_after: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    def add(self, status: int, seconds: float, retry_after: str | None) -> None:
        self.statuses[status] += 1
        self.latencies.append(seconds)
        if 200 <= status < 300:
            self.ok_latencies.append(seconds)
        if status == 503 and retry_after is None:
            self.busy_without_retry_after += 1

    def summary(self) -> dict[str, Any]:
        p50, p99 = percentiles(self.ok_latencies)
        return {
            "requests": self.requests,
            "ok": sum(n for s, n in self.statuses.items() if 200 <= s < 300),
            "busy_503": self.statuses.get(503, 0),
            "server_errors": sum(n for s, n in self.statuses.items() if s >= 500 and s != 503),
            "other_statuses": {str(s): n for s, n in sorted(self.statuses.items()) if s < 200 or 300 <= s < 500},
            "no_answer": sum(self.errors.values()),
            "no_answer_kinds": dict(self.errors),
            "busy_without_retry_after": self.busy_without_retry_after,
            "ok_p50_ms": p50,
            "ok_p99_ms": p99,
            "seconds": self.seconds,
            "ok_per_s": (sum(n for s, n in self.statuses.items() if 200 <= s < 300) / self.seconds)
            if self.seconds
            else None,
        }


def percentiles(samples: Sequence[float]) -> tuple[float | None, float | None]:
    """p50 and p99 in milliseconds (None without samples)."""
    if not samples:
        return None, None
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a few microseconds of client CPU per
    request, so that on a 2-core machine the figures measure the server rather than the client."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def request(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        async with asyncio.timeout(self.timeout):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None and self._writer is not None
            body = request.content or b""
            head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            head += [f"{name}: {value}" for name, value in request.headers]
            if body or request.method in ("POST", "PUT", "PATCH"):
                head.append(f"Content-Length: {len(body)}")
            self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await self._writer.drain()
            status_line = await self._reader.readline()
            if not status_line:
                raise ConnectionResetError("the server closed the connection")
            status = int(status_line.split(b" ", 2)[1])
            headers: dict[str, str] = {}
            while (line := await self._reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                payload = await self._chunks()
            else:
                payload = await self._reader.readexactly(int(headers.get("content-length", "0")))
            if headers.get("connection", "").lower() == "close":
                await self.close()
            return status, headers, payload

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts = []
        while size := int((await self._reader.readline()).split(b";")[0], 16):
            parts.append(await self._reader.readexactly(size))
            await self._reader.readline()
        await self._reader.readline()
        return b"".join(parts)


async def _send(connection: Connection, request: Request, outcome: Outcome) -> None:
    started = time.perf_counter()
    try:
        status, headers, _ = await connection.request(request)
    except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as err:
        outcome.errors[type(err).__name__] += 1
        await connection.close()
        return
    outcome.add(status, time.perf_counter() - started, headers.get("retry-after"))


async def run_load(
    base_url: str,
    requests: Sequence[Request],
    clients: int,
    per_client: int,
    timeout: float = 30.0,
    budget: float | None = None,
) -> Outcome:
    """``clients`` concurrent clients, each on its own connection, send ``per_client`` requests
    each, cycling through ``requests``; returns what they got. With ``budget`` (seconds), no
    client starts a request after the budget is spent."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    outcome = Outcome()
    cycle = itertools.cycle(requests)

    async def one_client() -> None:
        connection = Connection(host, port, timeout)
        try:
            for _ in range(per_client):
                if budget is not None and time.perf_counter() - started > budget:
                    break
                await _send(connection, next(cycle), outcome)
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    outcome.seconds = time.perf_counter() - started
    return outcome


class HealthProbe:
    """GET /health every ``every`` seconds from a thread of its own (its own event loop), so the
    probe's latency is the server's, not the wait for the load's busy loop."""

    def __init__(self, base_url: str, every: float = 0.25, timeout: float = 30.0) -> None:
        self.base_url, self.every, self.timeout = base_url, every, timeout
        self.outcome = Outcome()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)

    def __enter__(self) -> HealthProbe:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 5)
        self.outcome.seconds = time.perf_counter() - self._started

    def _run(self) -> None:
        asyncio.run(self._probe())

    async def _probe(self) -> None:
        url = urlsplit(self.base_url)
        connection = Connection(url.hostname or "127.0.0.1", url.port or 80, self.timeout)
        try:
            while not self._stop.is_set():
                await _send(connection, Request("GET", "/health"), self.outcome)
                await asyncio.to_thread(self._stop.wait, self.every)
        finally:
            await connection.close()


def load(
    base_url: str,
    requests: Sequence[Request],
    clients: int,
    per_client: int,
    timeout: float = 30.0,
    budget: float | None = None,
) -> Outcome:
    """:func:`run_load` from synchronous code."""
    return asyncio.run(run_load(base_url, requests, clients, per_client, timeout, budget))
