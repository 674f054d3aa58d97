"""End-to-end latency: a feed dropped into the oracle's inbox until its settlement is visible.

A fresh Anvil, the contracts, one licence with one-day periods that have all ended, the API
(``uvicorn api.app:create_app --factory``, its indexer polling the chain) and the oracle service
(``python -m oracle.cli watch <inbox>``), both with their default poll intervals. Feeds are dropped
one at a time (written beside the inbox, then renamed into it); each holds a few lines of the
next period. For each feed the bench records when the settlement is on chain
(``ledger.settledPeriod``) and when GET /licences/{id}/settlements lists it. Without a working
API only the on-chain time is measured, and the result says so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

from bench.chainkit import USDX, BenchChain, bench_terms, day_start, fund_many, register_many, start_bench_chain
from oracle.settings import OracleSettings
from royalty_chain.dev.devnet import ROOT, free_port
from royalty_chain.terms import DAY

HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
POLL = 0.05


class Proc:
    """A subprocess this bench started, with its output in a log file; ``stop()`` ends it."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 5) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(extra)
    return env


def _api_problem() -> str | None:
    for module in ("api.app", "uvicorn", "fastapi"):
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not importable"
        except ImportError as err:
            return f"{module}: {err}"
    return None


def _start_api(bench: BenchChain, workdir: Path) -> tuple[Proc | None, str | None, str | None]:
    problem = _api_problem()
    if problem:
        return None, None, problem
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(
        {
            "API_RPC_URL": bench.url,
            "API_MANIFEST": str(bench.manifest_file),
            "API_DATA_DIR": str(workdir / "api-data"),
            "API_DATABASE_URL": str(workdir / "api-data" / "index.sqlite"),
        }
    )
    (workdir / "api-data").mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning"]
    api = Proc("api", cmd, env, workdir / "api.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not api.alive():
            reason = f"the API exited at start-up: {api.tail()}"
            api.stop()
            return None, None, reason
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return api, url, None
        time.sleep(0.2)
    reason = f"the API did not answer /health within 60 s: {api.tail()}"
    api.stop()
    return None, None, reason


def _start_oracle(bench: BenchChain, workdir: Path, inbox: Path) -> Proc:
    env = _env(
        {
            "ORACLE_RPC_URL": bench.url,
            "ORACLE_MANIFEST": str(bench.manifest_file),
            "ORACLE_DATA_DIR": str(workdir / "oracle-data"),
            # The feeds arrive period by period after their periods ended: nil reports (grace 0)
            # would settle those periods empty first and the feeds' lines would come too late.
            "ORACLE_NIL_REPORTS": "false",
        }
    )
    oracle = Proc("oracle", [sys.executable, "-m", "oracle.cli", "watch", str(inbox)], env, workdir / "oracle.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not oracle.alive():
            raise RuntimeError(f"the oracle watcher exited: {oracle.tail()}")
        if "watching" in oracle.log_path.read_text(errors="replace"):
            return oracle
        time.sleep(0.1)
    oracle.stop()
    raise RuntimeError("the oracle watcher did not start within 60 s")


def _default(settings: Any, name: str) -> float | None:
    field = settings.model_fields.get(name)
    return float(field.default) if field is not None and isinstance(field.default, int | float) else None


def _api_poll_seconds() -> float | None:
    try:
        from api.settings import ApiSettings
    except ImportError:
        return None
    return _default(ApiSettings, "poll_seconds")


def _listed(client: httpx.Client, url: str, licence_id: int, period: int) -> bool:
    try:
        answer = client.get(f"{url}/licences/{licence_id}/settlements", params={"size": 100}, timeout=5)
    except httpx.HTTPError:
        return False
    if answer.status_code != 200:
        return False
    return any(item.get("period") == period and item.get("kind") == "report" for item in answer.json().get("items", []))


def run(workdir: Path, feeds: int, lines_per_feed: int = 3, timeout: float = 90.0) -> dict[str, Any]:
    bench = start_bench_chain(workdir)
    processes: list[Proc] = []
    try:
        start = day_start(bench.now()) - (feeds + 3) * DAY
        terms = bench_terms(bench, start=start, period_seconds=DAY, salt=424242)
        (licence_id,), _ = register_many(bench, [terms])
        fund_many(bench, [licence_id], 1_000_000 * USDX)
        api, api_url, api_problem = _start_api(bench, workdir)
        if api is not None:
            processes.append(api)
        inbox = workdir / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        processes.append(_start_oracle(bench, workdir, inbox))
        rows: list[dict[str, Any]] = []
        client = httpx.Client()
        for period in range(feeds):
            rows.append(_one_feed(bench, client, api_url, inbox, licence_id, start, period, lines_per_feed, timeout))
        client.close()
        if api is not None and not api.alive():
            api_problem = f"the API died during the run: {api.tail()}"
    finally:
        for proc in reversed(processes):
            proc.stop()
        bench.stop()
    measured = "api" if api_url and all(r.get("api_s") is not None for r in rows) else "chain"
    key = "api_s" if measured == "api" else "chain_s"
    values = [r[key] for r in rows if r.get(key) is not None]
    return {
        "measured_until": (
            "the settlement is listed by GET /licences/{id}/settlements"
            if measured == "api"
            else "the settlement is on chain (ledger.settledPeriod); the API was not measured"
        ),
        "api_available": api_url is not None,
        "api_problem": api_problem,
        "feeds": feeds,
        "lines_per_feed": lines_per_feed,
        "oracle_poll_seconds": _default(OracleSettings, "poll_seconds"),
        "indexer_poll_seconds": _api_poll_seconds() if api_url else None,
        "rows": rows,
        "median_s": statistics.median(values) if values else None,
        "worst_s": max(values) if values else None,
        "median_chain_s": statistics.median([r["chain_s"] for r in rows if r.get("chain_s") is not None] or [0.0]),
        "timeouts": sum(1 for r in rows if r.get(key) is None),
    }


def _one_feed(
    bench: BenchChain,
    client: httpx.Client,
    api_url: str | None,
    inbox: Path,
    licence_id: int,
    start: int,
    period: int,
    lines: int,
    timeout: float,
) -> dict[str, Any]:
    day = datetime.fromtimestamp(start + period * DAY, UTC).date().isoformat()
    body = "".join(
        f"E-{period}-{n},{licence_id},{day},US,apparel,retail,{n + 1},{100 * (n + 1)}.00,0,USD\n" for n in range(lines)
    )
    staging = inbox / f"feed-{period}.csv.part"
    staging.write_text(HEADER + body)
    t0 = time.perf_counter()
    staging.rename(inbox / f"feed-{period}.csv")
    chain_s: float | None = None
    api_s: float | None = None
    while time.perf_counter() - t0 < timeout:
        elapsed = time.perf_counter() - t0
        if chain_s is None and bench.chain.ledger.settled_period(licence_id, period):
            chain_s = elapsed
        if api_url is not None and api_s is None and _listed(client, api_url, licence_id, period):
            api_s = elapsed
            if chain_s is None:  # listed before this loop saw it on chain: it is on chain too
                chain_s = elapsed
        if chain_s is not None and (api_url is None or api_s is not None):
            break
        time.sleep(POLL)
    return {"period": period, "chain_s": chain_s, "api_s": api_s}
