"""The API under load (issue 14, finding F2): reads at 20, 200 and 1,000 concurrent clients and feed
uploads at 50, each against a fresh ``python -m api`` on the same chain and index, in two
configurations side by side in the same run:

- ``admission``: the settings as shipped (API_MAX_CONCURRENT_REQUESTS etc., the pool sized for
  them, 503 + Retry-After beyond the queue);
- ``baseline``: today's main's worker model: no admission limit and SQLAlchemy's default pool
  (5 + 10 connections, 30 s timeout). Everything else is this branch's code (the one-line error
  logs, /health from memory), so the difference is the worker model alone.

Each client is closed-loop (it sends its next request when the last is answered, and does not
wait out Retry-After: the worst case); a request unanswered after 30 s counts as "no answer",
and no client starts a request after 75 s (so a stalled configuration sends fewer requests: see
"requests"). A probe asks /health every 0.25 s from a thread of its own meanwhile. Latencies are of the 2xx
answers. Measurements only: nothing is asserted.

    .venv/bin/python bench/api_load.py            # 20/200/1,000 readers, 50 uploaders
    .venv/bin/python bench/api_load.py --quick    # 20/200 readers, 20 uploaders, fewer requests
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.api_bench import settle_many  # noqa: E402
from bench.e2e_latency import Proc  # noqa: E402
from bench.load_client import HealthProbe, Request, load  # noqa: E402
from royalty_chain.client import Chain  # noqa: E402
from royalty_chain.dev.devnet import deploy, free_port, start_anvil  # noqa: E402
from royalty_chain.dev.keys import role  # noqa: E402
from royalty_chain.terms import DAY  # noqa: E402

OPERATOR_TOKEN = "bench-operator-token"
CONFIGS: dict[str, dict[str, str]] = {
    "admission": {},  # the shipped defaults
    "baseline": {
        "API_MAX_CONCURRENT_REQUESTS": "0",
        "API_MAX_CONCURRENT_UPLOADS": "0",
        "API_DB_POOL_SIZE": "5",
        "API_DB_MAX_OVERFLOW": "10",
        "API_DB_POOL_TIMEOUT_SECONDS": "30",
    },
}
FULL: dict[str, Any] = {
    "readers": [20, 200, 1_000],
    "requests": 3_000,
    "uploaders": 50,
    "uploads_each": 2,
    "settlements": 300,
}
QUICK: dict[str, Any] = {"readers": [20, 200], "requests": 600, "uploaders": 20, "uploads_each": 1, "settlements": 60}
CLIENT_TIMEOUT = 30.0
BUDGET = 75.0  # seconds a load may run before its clients stop (the baseline can stall for good)
FEED_LINES = 100


def _env(chain_url: str, manifest: Path, data: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(
        API_RPC_URL=chain_url,
        API_MANIFEST=str(manifest),
        API_DATA_DIR=str(data),
        API_DATABASE_URL=str(data / "index.sqlite"),
        API_OPERATOR_TOKEN=OPERATOR_TOKEN,
        API_PORT=str(port),
        API_LOG_FILE=str(data / "logs" / f"api-{port}.log"),
        API_LOG_LEVEL="warning",  # no access log lines: the bench measures the API, not its log
        **extra,
    )
    return env


def _serve(chain: Chain, manifest: Path, data: Path, extra: dict[str, str], head: int) -> tuple[Proc, str]:
    port = free_port()
    api = Proc("api", [sys.executable, "-m", "api"], _env(chain.w3.provider.endpoint_uri, manifest, data, port, extra),  # type: ignore[attr-defined]
               data / f"api-{port}.out")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not api.alive():
            raise RuntimeError(f"the API exited at start-up: {api.tail()}")
        try:
            if (httpx.get(f"{url}/health", timeout=2).json().get("indexed_block") or -1) >= head:
                return api, url
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    api.stop()
    raise RuntimeError("the API did not index the chain within 120 s")


def _reads(licence_id: int) -> list[Request]:
    return [
        Request("GET", "/licences"),
        Request("GET", f"/licences/{licence_id}"),
        Request("GET", f"/licences/{licence_id}/settlements"),
        Request("GET", f"/licences/{licence_id}/settlements?page=3"),
        Request("GET", f"/licences/{licence_id}/periods"),
        Request("GET", "/settlements/7"),
        Request("GET", f"/parties/{role('licensor_brand').address}"),
    ]


def _feed(licence_id: int, start: int) -> bytes:
    day = datetime.fromtimestamp(start + DAY, UTC).date().isoformat()
    lines = "".join(f"B-{i},{licence_id},{day},US,apparel,retail,1,{i}.25,0,USD\n" for i in range(FEED_LINES))
    return ("line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n" + lines).encode()


def _measure(url: str, requests: list[Request], clients: int, per_client: int) -> dict[str, Any]:
    with HealthProbe(url, every=0.25, timeout=CLIENT_TIMEOUT) as probe:
        outcome = load(url, requests, clients, per_client, timeout=CLIENT_TIMEOUT, budget=BUDGET)
    health = probe.outcome.summary()
    slowest = max(probe.outcome.latencies, default=None)
    return {
        **outcome.summary(),
        "clients": clients,
        "health": {
            "probes": health["requests"],
            "answered": health["ok"],
            "p50_ms": health["ok_p50_ms"],
            "p99_ms": health["ok_p99_ms"],
            "max_ms": None if slowest is None else slowest * 1000,
        },
    }


def run(workdir: Path, quick: bool = False) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    workdir.mkdir(parents=True, exist_ok=True)
    local = start_anvil(log_path=workdir / "anvil.log")
    rows: list[dict[str, Any]] = []
    try:
        manifest = workdir / "deployment.json"
        chain = Chain(local.url, deploy(local.url, manifest), timeout=120)
        licence_id = settle_many(chain, sizes["settlements"])
        start = int(chain.w3.eth.get_block("latest")["timestamp"]) - (sizes["settlements"] + 2) * DAY
        head = chain.w3.eth.block_number
        data = workdir / "api-data"
        data.mkdir(exist_ok=True)
        upload = Request(
            "POST", "/feeds", _feed(licence_id, start),
            (("Authorization", f"Bearer {OPERATOR_TOKEN}"), ("Content-Type", "text/csv")),
        )  # fmt: skip
        loads = [("reads", n, _reads(licence_id), max(2, sizes["requests"] // n)) for n in sizes["readers"]]
        loads.append(("uploads", sizes["uploaders"], [upload], sizes["uploads_each"]))
        for what, clients, requests, per_client in loads:
            for config, extra in CONFIGS.items():
                api, url = _serve(chain, manifest, data, extra, head)  # fresh each time: no load carried over
                try:
                    rows.append({"load": what, "config": config, **_measure(url, requests, clients, per_client)})
                    rows[-1]["api_alive_after"] = api.alive()
                finally:
                    api.stop()
                print(_line(rows[-1]), flush=True)
    finally:
        local.stop()
    return {
        "rows": rows,
        "client_timeout_s": CLIENT_TIMEOUT,
        "budget_s": BUDGET,
        "settlements_indexed": sizes["settlements"],
        "feed_lines": FEED_LINES,
        "baseline": CONFIGS["baseline"],
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _line(row: dict[str, Any]) -> str:
    health = row["health"]
    return (
        f"{row['load']:>7} x{row['clients']:<5} {row['config']:<9} ok {row['ok']:>5}  503 {row['busy_503']:>5}  "
        f"5xx {row['server_errors']:>4}  no answer {row['no_answer']:>4}  p50 {_ms(row['ok_p50_ms']):>6} ms  "
        f"p99 {_ms(row['ok_p99_ms']):>6} ms  | /health {health['answered']}/{health['probes']} "
        f"p99 {_ms(health['p99_ms'])} max {_ms(health['max_ms'])} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller loads: a smoke run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        results = run(Path(tmp), args.quick)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
