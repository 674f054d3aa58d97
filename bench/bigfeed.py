"""Benchmark of a large feed's way in: a chunked upload through the API to the oracle's inbox,
then the oracle's ingest of it from there.

On a fresh Anvil with four licences, the API runs as its own process (uvicorn, with
``API_ORACLE_INBOX``); this process sends the feed in 8 MiB chunks read from disk (``PUT
/feeds/uploads/{id}``) and completes it (SHA-256 check, every line checked, rename into the
inbox). Then a fresh process runs one round of the oracle's watcher over the inbox
(``OracleService.ingest_inbox``: parse, validate, every line into a SQLite outbox). Peak memory
is each process's high-water mark (``VmHWM``): the API's over the whole upload, the oracle's over
its ingest (plus, separately, the parsing process it forks). Generation and chain setup are not
timed.

    .venv/bin/python bench/bigfeed.py --lines 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.service_ingest import generate, setup  # noqa: E402
from royalty_chain.dev.devnet import free_port  # noqa: E402

CHUNK = 8 << 20
TOKEN = "bench-operator-token"


def high_water_mib(pid: int | str = "self") -> float:
    """A process's peak resident set (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _start_api(work: Path, url: str, manifest: Path, inbox: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "API_RPC_URL": url,
        "API_MANIFEST": str(manifest),
        "API_DATA_DIR": str(work),
        "API_DATABASE_URL": str(work / "index.sqlite"),
        "API_OPERATOR_TOKEN": TOKEN,
        "API_ORACLE_INBOX": str(inbox),
        "API_POLL_SECONDS": "0.2",
        "API_LOG_LEVEL": "warning",
    }
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
    log = open(work / "api.log", "wb")  # noqa: SIM115 - the child holds it
    api = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise RuntimeError(f"the API exited ({api.returncode}); see {work / 'api.log'}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return api, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    api.kill()
    raise RuntimeError("the API did not answer /health within 60 s")


def _indexed(http: httpx.Client, licence_ids: list[int]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(http.get(f"/licences/{lid}").status_code == 200 for lid in licence_ids):
            return
        time.sleep(0.2)
    raise RuntimeError("the API did not index the licences within 60 s")


def upload(base: str, feed: Path) -> dict[str, Any]:
    """The feed sent in chunks read from disk (the client never holds more than one), completed."""
    auth = {"authorization": f"Bearer {TOKEN}"}
    size = feed.stat().st_size
    digest = hashlib.sha256()
    with httpx.Client(base_url=base, timeout=600) as http:
        created = http.post("/feeds/uploads", json={"filename": feed.name, "size": size}, headers=auth)
        created.raise_for_status()
        upload_id = created.json()["id"]
        t0 = time.perf_counter()
        with open(feed, "rb") as data:
            offset = 0
            while chunk := data.read(CHUNK):
                digest.update(chunk)
                headers = {**auth, "content-range": f"bytes {offset}-{offset + len(chunk) - 1}/{size}"}
                answer = http.put(f"/feeds/uploads/{upload_id}", content=chunk, headers=headers)
                answer.raise_for_status()
                offset = answer.json()["offset"]
        sent = time.perf_counter() - t0
        t0 = time.perf_counter()
        done = http.post(f"/feeds/uploads/{upload_id}/complete", json={"sha256": digest.hexdigest()}, headers=auth)
        done.raise_for_status()
        completed = time.perf_counter() - t0
    result: dict[str, Any] = done.json()
    return {"chunks_s": sent, "complete_s": completed, "result": result}


def ingest_main(args: argparse.Namespace) -> None:
    """The oracle's side, in a process of its own: one watcher round over the inbox."""
    import structlog

    from oracle.inbox import FeedInbox
    from oracle.service import OracleService
    from outbox import Outbox
    from royalty_chain.client import Chain
    from royalty_chain.dev.keys import role
    from royalty_chain.manifest import Manifest

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))
    chain = Chain(args.rpc, Manifest.load(args.manifest), timeout=120)
    service = OracleService(
        chain, Outbox(args.outbox), [role("oracle1"), role("oracle2"), role("oracle3")], role("oracle_sender"),
        nil_reports=False,
    )  # fmt: skip
    before = high_water_mib()
    t0 = time.perf_counter()
    outcomes = service.ingest_inbox(FeedInbox(args.inbox))
    seconds = time.perf_counter() - t0
    result = outcomes[0].result if outcomes else None
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mib": high_water_mib(),
                "rss_before_mib": before,
                "parser_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "state": outcomes[0].state if outcomes else None,
                "lines_read": result.lines_read if result else None,
                "valid": result.valid if result else None,
                "rejected": result.rejected if result else None,
            }
        )
    )


def run(work: Path, lines: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    bench, ids, start = setup(work / "chain")
    api: subprocess.Popen[bytes] | None = None
    try:
        feed = work / "bigfeed.csv"
        generate(feed, lines, ids, start)
        inbox = work / "inbox"
        inbox.mkdir()
        api, base = _start_api(work, bench.url, bench.manifest_file, inbox)
        with httpx.Client(base_url=base, timeout=30) as http:
            _indexed(http, ids)
        api_before = high_water_mib(api.pid)
        sent = upload(base, feed)
        api_peak = high_water_mib(api.pid)
        done = subprocess.run(
            [sys.executable, __file__, "ingest", "--rpc", bench.url, "--manifest", str(bench.manifest_file),
             "--inbox", str(inbox), "--outbox", str(work / "outbox.sqlite")],
            cwd=ROOT, capture_output=True, text=True, timeout=1200, check=True,
        )  # fmt: skip
        ingested = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=20)
        bench.stop()
    result = sent["result"]
    return {
        "lines": lines,
        "feed_mib": result["bytes"] / 2**20,
        "upload_chunks_s": sent["chunks_s"],
        "upload_complete_s": sent["complete_s"],
        "api_peak_rss_mib": api_peak,
        "api_rss_before_upload_mib": api_before,
        "api_valid": result["valid"],
        "api_rejected": result["rejected"],
        "ingest_s": ingested["seconds"],
        "oracle_peak_rss_mib": ingested["peak_rss_mib"],
        "oracle_rss_before_mib": ingested["rss_before_mib"],
        "oracle_parser_peak_rss_mib": ingested["parser_peak_rss_mib"],
        "oracle_state": ingested["state"],
        "oracle_lines_read": ingested["lines_read"],
        "oracle_valid": ingested["valid"],
        "oracle_rejected": ingested["rejected"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="command")
    oracle = sub.add_parser("ingest", help="(internal) the oracle's round over an inbox")
    for flag in ("--rpc", "--manifest", "--inbox", "--outbox"):
        oracle.add_argument(flag, required=True, type=str if flag == "--rpc" else Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.command == "ingest":
        ingest_main(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-bigfeed-") as tmp:
        row = run(Path(tmp), args.lines)
    for key, value in row.items():
        print(f"{key:28} {value:,.2f}" if isinstance(value, float) else f"{key:28} {value}")


if __name__ == "__main__":
    main()
