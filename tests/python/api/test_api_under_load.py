"""The API holds load (finding F2): 200 concurrent readers and 50 concurrent feed uploads, at once,
against ``python -m api`` in a process of its own with a small pool and few slots.

Before: the index's pool (5 + 10 connections, 40 worker threads) ran dry at about 50 concurrent
requests; requests failed with 500 after 30 s, each logging a rich traceback, and /health went
unanswered for minutes. Now every request gets an answer: 200, or 503 with Retry-After when the
queue is full; no 500, no connection left unanswered; /health answers throughout; and the log is
one structured line per event, in a file that rotates. What the answers were is asserted, never
how fast they came (bench/api_load.py measures that).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from apikit import OPERATOR_TOKEN, USDX, bucket, chain_time, fund, register, settle, terms_json
from fastapi.testclient import TestClient

from bench.load_client import HealthProbe, Outcome, Request, run_load
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import ROOT, free_port
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

READERS, READS_EACH = 200, 3
UPLOADERS = 50
# Few slots, a short queue, a pool just big enough: the limits are reached at once.
LIMITS = {
    "API_MAX_CONCURRENT_REQUESTS": "4",
    "API_MAX_QUEUED_REQUESTS": "64",
    "API_QUEUE_TIMEOUT_SECONDS": "20",
    "API_MAX_CONCURRENT_UPLOADS": "1",
    "API_MAX_QUEUED_UPLOADS": "16",
    "API_UPLOAD_QUEUE_TIMEOUT_SECONDS": "20",
    "API_DB_POOL_SIZE": "7",  # 4 + 1 + the indexer and the /health watch
    "API_RETRY_AFTER_SECONDS": "1",
    "API_LOG_MAX_BYTES": "20000",
    "API_LOG_BACKUPS": "50",
}


@dataclass(frozen=True)
class Served:
    url: str
    log_file: Path
    licence_id: int
    settlement_id: int
    feed: bytes


@pytest.fixture(scope="module")
def served(chain: Chain, client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``python -m api`` on the session's chain, with a licence, a settlement and a feed for it."""
    tmp = tmp_path_factory.mktemp("load")
    start = chain_time(chain) - 40 * DAY
    licence_id = register(client, terms_json(chain, start))
    fund(chain, licence_id, 1_000 * USDX)
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 10, 1_000 * USDX)])
    day = datetime.fromtimestamp(start + DAY, UTC).date().isoformat()
    feed = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n" + "".join(
        f"LOAD-{i},{licence_id},{day},US,apparel,retail,1,{i}.50,0,USD\n" for i in range(20)
    )
    manifest = tmp / "deployment.json"
    chain.manifest.save(manifest)
    port = free_port()
    log_file = tmp / "logs" / "api.log"
    env = {
        **os.environ,
        "API_RPC_URL": chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        "API_MANIFEST": str(manifest),
        "API_DATA_DIR": str(tmp),
        "API_DATABASE_URL": str(tmp / "index.sqlite"),
        "API_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "API_POLL_SECONDS": "0.5",
        "API_PORT": str(port),
        "API_LOG_FILE": str(log_file),
        **LIMITS,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_indexed(url, process, chain.w3.eth.block_number)
        yield Served(url, log_file, licence_id, settlement_id, feed.encode())
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_indexed(url: str, process: subprocess.Popen[bytes], head: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise AssertionError(f"the API exited ({process.returncode}): {output[-2000:]}")
        try:
            health = httpx.get(f"{url}/health", timeout=2).json()
            if (health.get("indexed_block") or -1) >= head:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API did not index the chain within 60 s")


def _reads(served: Served) -> list[Request]:
    licensor = role("licensor_brand").address
    return [
        Request("GET", "/licences"),
        Request("GET", f"/licences/{served.licence_id}"),
        Request("GET", f"/licences/{served.licence_id}/settlements"),
        Request("GET", f"/licences/{served.licence_id}/periods"),
        Request("GET", f"/settlements/{served.settlement_id}"),
        Request("GET", f"/parties/{licensor}"),
        Request("GET", f"/ui/licences/{served.licence_id}"),
    ]


def _upload(served: Served) -> Request:
    headers = (("Authorization", f"Bearer {OPERATOR_TOKEN}"), ("Content-Type", "text/csv"))
    return Request("POST", "/feeds", served.feed, headers)


def _assert_answered(outcome: Outcome, expected: int, what: str) -> None:
    summary = outcome.summary()
    assert outcome.requests == expected, summary
    assert summary["no_answer"] == 0, f"{what}: requests got no answer: {summary}"
    assert set(outcome.statuses) <= {200, 503}, f"{what}: {summary}"
    assert summary["busy_without_retry_after"] == 0, f"{what}: a 503 without Retry-After: {summary}"
    assert summary["ok"] > 0, f"{what}: nothing was served: {summary}"


def test_200_readers_and_50_uploads_all_get_answers_and_health_answers_throughout(served: Served) -> None:
    async def both() -> tuple[Outcome, Outcome]:
        reads = run_load(served.url, _reads(served), READERS, READS_EACH, timeout=60)
        uploads = run_load(served.url, [_upload(served)], UPLOADERS, 1, timeout=60)
        return await asyncio.gather(reads, uploads)

    with HealthProbe(served.url, every=0.1, timeout=5) as probe:
        reads, uploads = asyncio.run(both())
    _assert_answered(reads, READERS * READS_EACH, "reads")
    _assert_answered(uploads, UPLOADERS, "uploads")
    assert reads.statuses[503] > 0, "200 readers against 4 slots and a queue of 64: some must be told to retry"
    health = probe.outcome.summary()
    assert health["requests"] >= 3 and health["ok"] == health["requests"], f"/health under load: {health}"
    assert httpx.get(f"{served.url}/health", timeout=5).json()["status"] == "ok"


def test_the_log_is_one_structured_line_per_event_and_rotates(served: Served) -> None:
    files = sorted(served.log_file.parent.glob("api.log*"))
    assert len(files) > 1, "20 kB of access log lines: the file has rotated"
    lines = [line for path in files for line in path.read_text().splitlines()]
    assert lines
    for line in lines:
        assert line.startswith("timestamp="), line[:200]
        assert "Traceback" not in line, line[:200]
    assert any("event='request_refused_busy'" in line and "gate='requests'" in line for line in lines)
    assert any("logger='uvicorn.access'" in line and "/feeds" in line for line in lines)
