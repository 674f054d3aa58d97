"""`make bench`: every benchmark of the project in one run, with its comparisons made on the
same chain in the same run and shown as ratios.

    .venv/bin/python bench/run.py            # full sizes (well under 15 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # small sizes: a smoke run of the whole harness
    .venv/bin/python bench/run.py --only gas,e2e
    .venv/bin/python bench/run.py --only lifetime   # two contract years at N payees, vs the alternatives
    .venv/bin/python bench/run.py --only bigfeed    # a 10^6-line feed: chunked upload, then the oracle's ingest

Writes bench/results/latest.json, latest.md and PNG plots. Benchmarks measure; they never assert
timings. A section that fails is recorded as failed and the others still run (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from rich.console import Console  # noqa: E402

from bench import api_load, bigfeed, e2e_latency, gas, lifetime, report, throughput  # noqa: E402

SECTIONS = ("gas", "lifetime", "pipeline", "ingest", "bigfeed", "chain", "api", "load", "e2e")
FULL: dict[str, Any] = {
    "payees": [1, 3, 10, 100, 500],
    "signers": [1, 3, 5],
    "batches": [1, 10, 100],
    "lifetime_payees": [2, 10, 100, 500],
    "pipeline_lines": [10_000, 100_000, 1_000_000],
    "ingest_lines": [10_000, 100_000, 1_000_000],
    "bigfeed_lines": 1_000_000,
    "licences": [10, 100, 1_000],
    "lines_per_licence": 5,
    "naive_max_lines": 2_000,  # one transaction per line gets slow on Anvil once its state is big
    "feeds": 10,
}
QUICK: dict[str, Any] = {
    "payees": [1, 3, 10],
    "signers": [1, 3],
    "batches": [1, 10],
    "lifetime_payees": [2, 10],
    "pipeline_lines": [10_000],
    "ingest_lines": [10_000],
    "bigfeed_lines": 50_000,
    "licences": [5, 20],
    "lines_per_licence": 3,
    "naive_max_lines": None,
    "feeds": 3,
}

# Wide enough for the tables when the output is a pipe or a file (make, CI); a terminal decides.
console = Console(width=None if sys.stdout.isatty() else 200)


def api_bench(quick: bool, timeout: float = 600.0) -> dict[str, Any]:
    """Runs the colleague's bench/api_bench.py if it is there; records "not available" otherwise."""
    script = ROOT / "bench" / "api_bench.py"
    if not script.exists():
        return {"status": "not available", "reason": "bench/api_bench.py does not exist (yet)"}
    try:
        helped = subprocess.run(
            [sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        args: list[str] = []
        if quick:  # smaller sizes when the script offers them
            for flag, value in (("--quick", None), ("--rows", "20000"), ("--settlements", "100"), ("--runs", "50")):
                if flag in helped.stdout:
                    args += [flag] if value is None else [flag, value]
        done = subprocess.run(
            [sys.executable, str(script), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as err:
        return {"status": "not available", "reason": f"timed out after {err.timeout:.0f} s"}
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        return {"status": "not available", "reason": f"exit {done.returncode}: {tail}"}
    parsed: Any = None
    try:
        parsed = json.loads(done.stdout)
    except ValueError:
        parsed = None
    return {
        "status": "ok",
        "args": args,
        "json": parsed,
        "stdout_tail": "\n".join(done.stdout.rstrip().splitlines()[-80:]),
    }


def _commit() -> str:
    """The commit measured, and whether tracked files differ from it (read-only git commands)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=ROOT, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = head.stdout.strip() or "unknown"
    return f"{commit} + uncommitted changes" if dirty.returncode == 1 else commit


def _machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _quiet_logs() -> None:
    """The oracle logs every report at INFO; the bench prints only its tables."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def render(out: Path) -> int:
    """Tables, latest.md and plots from latest.json (the verdict is recomputed from its numbers)."""
    path = out / "latest.json"
    if not path.exists():
        console.print(f"[red]no {path}: run the bench first[/red]")
        return 2
    results = json.loads(path.read_text())
    results["biggest_cost"] = report.biggest_cost(results)
    path.write_text(json.dumps(results, indent=2, default=str))
    images = report.plots(results, out)
    (out / "latest.md").write_text(report.markdown(results, images))
    report.print_console(results, console)
    console.print(f"\nwrote {path}, {out / 'latest.md'} and {len(images)} plot(s) in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a fast smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results are written")
    parser.add_argument(
        "--render", action="store_true", help="only redo the tables, latest.md and plots from latest.json"
    )
    args = parser.parse_args(argv)
    if args.render:
        return render(args.out)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else FULL
    _quiet_logs()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="royalty-bench-"))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "sizes": sizes,
            "machine": _machine(),
            "commit": _commit(),
            "section_seconds": {},
        }
    }
    failed: list[str] = []

    def section(name: str, key: str, fn: Callable[[], Any]) -> None:
        if name not in only:
            return
        console.print(f"[bold]{name}[/bold] ...")
        t0 = time.perf_counter()
        try:
            results[key] = fn()
        except Exception as err:
            failed.append(name)
            results[key] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-4000:]}
            console.print(f"[red]{name} failed:[/red] {err}")
        seconds = time.perf_counter() - t0
        results["meta"]["section_seconds"][name] = seconds
        console.print(f"  {name}: {seconds:.1f} s")

    section("gas", "gas", lambda: gas.run(work / "gas", sizes["payees"], sizes["signers"], sizes["batches"]))
    section("lifetime", "lifetime", lambda: lifetime.run(work / "lifetime", sizes["lifetime_payees"]))
    section("pipeline", "pipeline", lambda: throughput.pipeline(sizes["pipeline_lines"], baseline=True))
    section("ingest", "service_ingest", lambda: throughput.pipeline(sizes["ingest_lines"], script="service_ingest.py"))
    section("bigfeed", "bigfeed", lambda: bigfeed.run(work / "bigfeed", sizes["bigfeed_lines"]))
    section(
        "chain",
        "chain_throughput",
        lambda: throughput.chain(
            work / "chain", sizes["licences"], sizes["lines_per_licence"], sizes["naive_max_lines"]
        ),
    )
    section("api", "api", lambda: api_bench(args.quick))
    section("load", "api_load", lambda: api_load.run(work / "load", args.quick))
    section("e2e", "e2e", lambda: e2e_latency.run(work / "e2e", sizes["feeds"]))

    results["meta"]["total_seconds"] = time.perf_counter() - started
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    render(out)
    console.print(f"total {results['meta']['total_seconds']:.0f} s")
    if failed:
        console.print(f"[red]failed sections: {', '.join(failed)}[/red]; work files kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
