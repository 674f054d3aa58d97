"""Benchmark of the oracle service's durable ingest: what an operator's `submit` does to a feed
before any report is signed.

bench/oracle_pipeline.py measures the pipeline alone; this runs the real OracleService.ingest on
a fresh Anvil with the contracts deployed: licences read from the chain, parse, validate with the
outbox's seen store, every good line written to the SQLite outbox in batches, rejections to the
rejects file. Generation and chain setup are not timed. Peak memory is this process's maximum
resident set size. Not counted: Anvil, and the parsing process the service forks (intake.twostage;
bench/oracle_pipeline.py measures it: ~16 MiB), whose peaks are mixed with the deploy step's in
RUSAGE_CHILDREN. CPU time counts both of the service's processes.

    .venv/bin/python bench/service_ingest.py --lines 100000
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from bench.chainkit import BenchChain, bench_terms, day_start, register_many, start_bench_chain
from bench.oracle_pipeline import cpu_seconds, result_line
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

LICENCES = 4
DAYS = 360  # sales spread over the licences' first 360 days, all in the past
TERRITORIES = ["US", "GB", "DE"]
FIELDS = ["apparel", "toys"]
CHANNELS = ["retail", "online"]


def generate(path: Path, lines: int, licence_ids: list[int], start: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    days = [datetime.fromtimestamp(start + d * DAY, UTC).date().isoformat() for d in range(DAYS)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n")
        for i in range(lines):
            units = rng.randint(1, 50)
            cents = units * rng.randint(100, 99_999)
            f.write(
                f"S-{i:09d},{rng.choice(licence_ids)},{rng.choice(days)},{rng.choice(TERRITORIES)},"
                f"{rng.choice(FIELDS)},{rng.choice(CHANNELS)},{units},{cents // 100}.{cents % 100:02d},"
                f"{cents // 1000}.{cents % 10},USD\n"
            )


def setup(workdir: Path) -> tuple[BenchChain, list[int], int]:
    bench = start_bench_chain(workdir)
    start = day_start(bench.now()) - (DAYS + 5) * DAY
    terms = [bench_terms(bench, start=start, period_seconds=91 * DAY, salt=i + 1) for i in range(LICENCES)]
    ids, _ = register_many(bench, terms)
    return bench, ids, start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    args = ap.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings and up
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        bench, ids, start = setup(work / "chain")
        try:
            feed = work / "feed.csv"
            t0 = time.perf_counter()
            generate(feed, args.lines, ids, start)
            print(f"generated {args.lines} lines in {time.perf_counter() - t0:.1f} s")
            service = OracleService(
                Chain(bench.url, bench.chain.manifest, timeout=120),
                Outbox(work / "outbox.sqlite"),
                [role("oracle1"), role("oracle2"), role("oracle3")],
                role("oracle_sender"),
                nil_reports=False,  # ingest only; no round is built here
            )
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t0, cpu0 = time.perf_counter(), cpu_seconds()
            result = service.ingest(feed)
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            outbox_mib = (work / "outbox.sqlite").stat().st_size / 2**20
        finally:
            bench.stop()
    print(
        f"valid={result.valid} rejected={result.rejected} duplicates={result.duplicates} "
        f"out_of_scope={result.out_of_scope}; outbox {outbox_mib:.0f} MiB"
    )
    print(result_line(args.lines, elapsed, cpu, peak, rss_before))


if __name__ == "__main__":
    main()
