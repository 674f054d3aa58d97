"""Admission: a bounded number of requests at work, a bounded queue, and 503 + Retry-After beyond.

Each request that reads the index holds a worker thread and a pool connection while it works.
Letting every request in at once ran the pool dry under load (finding F2: 500s after 30 s, and
``/health`` unanswered for minutes). So requests pass a :class:`Gate` first: at most ``limit`` at
work, up to ``queue`` more waiting (in arrival order) for at most ``timeout`` seconds; a request
that finds the queue full, or waits too long, is answered ``503`` with ``Retry-After`` at once,
before any work. Waiting costs a suspended coroutine, not a thread.

Feed uploads have a gate of their own (judging a feed is CPU-bound), so reads go on while uploads
queue. ``/health`` and the schema pages pass no gate: they take no thread and no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import PROBLEM_JSON

log = structlog.get_logger("api.admission")

UNGATED_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Paths that need no worker thread and no index connection."""


class Busy(Exception):
    """No slot within the gate's limits: the request is answered 503 with Retry-After."""

    def __init__(self, gate: str, reason: str) -> None:
        super().__init__(f"{gate}: {reason}")
        self.gate = gate
        self.reason = reason


@dataclass
class GateStats:
    admitted: int = 0
    queued: int = 0
    rejected_full: int = 0
    rejected_timeout: int = 0


class Gate:
    """At most ``limit`` holders at once (0: no limit); up to ``queue`` waiters for ``timeout`` s."""

    def __init__(self, name: str, limit: int, queue: int, timeout: float) -> None:
        self.name = name
        self.limit = limit
        self.queue = queue
        self.timeout = timeout
        self.stats = GateStats()
        self._slots: asyncio.Semaphore | None = None  # made on first use, inside the serving loop
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.limit <= 0:
            yield
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        if slots.locked():
            if self._waiting >= self.queue:
                self.stats.rejected_full += 1
                raise Busy(self.name, f"{self.limit} at work and {self._waiting} waiting, the most it queues")
            self._waiting += 1
            self.stats.queued += 1
            try:
                async with asyncio.timeout(self.timeout):
                    await slots.acquire()
            except TimeoutError:
                self.stats.rejected_timeout += 1
                raise Busy(self.name, f"no slot within {self.timeout:g} s") from None
            finally:
                self._waiting -= 1
        else:
            await slots.acquire()
        self.stats.admitted += 1
        try:
            yield
        finally:
            slots.release()


def _completes_upload(path: str) -> bool:
    """``POST /feeds/uploads/{id}/complete`` checks every line of a feed: CPU-bound like ``POST /feeds``."""
    return path.startswith("/feeds/uploads/") and path.endswith("/complete")


class AdmissionMiddleware:
    """Puts every HTTP request but the ungated ones through its gate (uploads: ``uploads``)."""

    def __init__(self, app: ASGIApp, requests: Gate, uploads: Gate, retry_after: int) -> None:
        self.app = app
        self.requests = requests
        self.uploads = uploads
        self.retry_after = retry_after

    def gate_for(self, scope: Scope) -> Gate | None:
        path: str = scope.get("path", "")
        if path in UNGATED_PATHS:
            return None
        if scope.get("method") == "POST" and (path == "/feeds" or _completes_upload(path)):
            return self.uploads
        return self.requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.gate_for(scope) if scope["type"] == "http" else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        try:
            async with gate.slot():
                await self.app(scope, receive, send)
        except Busy as busy:
            log.warning("request_refused_busy", gate=busy.gate, reason=busy.reason, path=scope.get("path"))
            await self._busy(send, busy)

    async def _busy(self, send: Send, busy: Busy) -> None:
        body = json.dumps(
            {
                "type": "/problems/busy",
                "title": "Service busy",
                "status": 503,
                "detail": f"the API is at its limit ({busy.reason}); retry after {self.retry_after} s",
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(self.retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
