"""Admission (api.admission): a bounded number of requests at work, a bounded queue, 503 with
Retry-After beyond it, /health never queued; and settings that size the pool for the slots.
Pure: no chain, no server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import ValidationError

from api.admission import AdmissionMiddleware, Busy, Gate
from api.settings import ApiSettings


def test_a_gate_lets_limit_in_queues_the_next_and_refuses_beyond_the_queue() -> None:
    async def scenario() -> tuple[int, list[str]]:
        gate = Gate("requests", limit=2, queue=1, timeout=5.0)
        release = asyncio.Event()
        at_work = 0
        most = 0
        outcomes: list[str] = []

        async def request(name: str) -> None:
            nonlocal at_work, most
            try:
                async with gate.slot():
                    at_work += 1
                    most = max(most, at_work)
                    await release.wait()
                    at_work -= 1
                    outcomes.append(f"{name} served")
            except Busy as busy:
                outcomes.append(f"{name} refused: {busy.reason}")

        tasks = [asyncio.create_task(request(f"r{i}")) for i in range(4)]
        await asyncio.sleep(0.05)  # r0, r1 at work, r2 queued, r3 refused at once
        assert gate.waiting == 1
        release.set()
        await asyncio.gather(*tasks)
        return most, outcomes

    most, outcomes = asyncio.run(scenario())
    assert most == 2
    assert sorted(outcomes) == [
        "r0 served",
        "r1 served",
        "r2 served",
        "r3 refused: 2 at work and 1 waiting, the most it queues",
    ]


def test_a_queued_request_is_refused_when_its_wait_is_over() -> None:
    async def scenario() -> str:
        gate = Gate("uploads", limit=1, queue=5, timeout=0.05)
        async with gate.slot():
            try:
                async with gate.slot():
                    return "served"
            except Busy as busy:
                return busy.reason

    assert asyncio.run(scenario()) == "no slot within 0.05 s"


def test_a_gate_of_limit_0_lets_everything_in() -> None:
    async def scenario() -> int:
        gate = Gate("requests", limit=0, queue=0, timeout=0.01)
        inside = 0

        async def request() -> None:
            nonlocal inside
            async with gate.slot():
                inside += 1
                await asyncio.sleep(0.01)

        await asyncio.gather(*(request() for _ in range(50)))
        return inside

    assert asyncio.run(scenario()) == 50


def _call(middleware: AdmissionMiddleware, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request through the middleware; returns status, headers and body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(middleware(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start.get("headers", [])}, body


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_full_gate_answers_503_with_retry_after_and_health_passes() -> None:
    full = Gate("requests", limit=1, queue=0, timeout=1.0)
    uploads = Gate("uploads", limit=1, queue=0, timeout=1.0)
    middleware = AdmissionMiddleware(_ok, requests=full, uploads=uploads, retry_after=3)

    async def hold() -> None:  # take the only slot, then ask for another
        async with full.slot():
            await asyncio.to_thread(_check_refused, middleware)

    asyncio.run(hold())
    assert _call(middleware, "/licences") == (200, {}, b"ok")


def _check_refused(middleware: AdmissionMiddleware) -> None:
    status, headers, body = _call(middleware, "/licences/1")
    assert status == 503
    assert headers["retry-after"] == "3"
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["type"] == "/problems/busy" and problem["status"] == 503
    assert "retry after 3 s" in problem["detail"]
    assert _call(middleware, "/health") == (200, {}, b"ok")  # never gated
    assert _call(middleware, "/feeds", "POST") == (200, {}, b"ok")  # its own gate


def test_settings_size_the_pool_for_every_slot() -> None:
    default = ApiSettings()
    assert default.pool_size() == default.max_concurrent_requests + default.max_concurrent_uploads + 2
    with pytest.raises(ValidationError, match="API_DB_POOL_SIZE"):
        ApiSettings(max_concurrent_requests=16, db_pool_size=10)
    with pytest.raises(ValidationError, match="API_WORKER_THREADS"):
        ApiSettings(max_concurrent_requests=16, worker_threads=8)
    assert ApiSettings(max_concurrent_requests=16, db_pool_size=10, db_max_overflow=10).pool_size() == 10
