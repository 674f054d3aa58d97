"""Benchmark of the oracle's pure pipeline on a generated CSV feed.

parse -> validate (licence checks, dedupe, leaf hashing) -> aggregate -> Merkle root per period.
Generation is not timed. Peak memory is the process's maximum resident set size, which includes
the interpreter (~20 MB). The pipeline streams, so memory should not grow with the file:
duplicates are found by DiskSeenLines (an ascending-id check, then a fixed-size Bloom filter, in
front of a temporary SQLite file) and the Aggregator holds a fixed number of leaves in memory,
the rest in temporary files. ``--in-memory`` runs the old way (a dict of every line id, every
leaf in memory) as a baseline; ``--random-ids`` gives the lines ids in random order, so the
Bloom filter and the keyed table of out-of-order ids do the work.

By default the pipeline runs on two cores (intake.twostage: a forked process parses and checks
lines against their licences, this one hashes, claims, counts and aggregates); ``--one-process``
runs it all in this process, as a baseline. Peak memory is the larger of the two processes' peaks;
CPU time is both processes' together.

    .venv/bin/python bench/oracle_pipeline.py --lines 200000
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.disk_seen import DiskSeenLines
from intake.feed import Rejection, parse_feed
from intake.merkle import KECCAK_BACKEND
from intake.twostage import validate_two_stage
from intake.validate import FIXED_PERIODS, InMemorySeenLines, LicenceInfo, Validator, ValidLine, validate
from oracle.aggregate import Aggregator
from royalty_chain.codes import encode_scope
from royalty_chain.terms import Calendar

TERM_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
QUARTER = 91 * 86400
CALENDAR_QUARTERS = Calendar(period_months=3, year_month=1, year_day=1)
LICENCES = 4
TERRITORY_POOL = ["US", "GB", "DE", "FR", "JP", "CN", "BR", "IN", "CA", "AU", "IT", "ES"]
FIELD_POOL = ["general", "software", "model-training", "analytics", "games"]
CHANNEL_POOL = ["retail", "online", "api", "streaming"]


def licences() -> dict[int, LicenceInfo]:
    """Odd licences have fixed 91-day periods, even ones calendar quarters with contract years
    from 1 January: both rules go through the validator's per-day memo."""
    scope = encode_scope(TERRITORY_POOL[:10], FIELD_POOL, CHANNEL_POOL)  # some lines out of scope
    return {
        i: LicenceInfo(
            licence_id=i,
            licensee=f"0x{i:040x}",
            currency="USD",
            decimals=6,
            scope=scope,
            term_start=TERM_START,
            term_end=TERM_START + 4 * QUARTER,
            sell_off_days=180,
            period_seconds=QUARTER if i % 2 else 0,
            calendar=FIXED_PERIODS if i % 2 else CALENDAR_QUARTERS,
        )
        for i in range(1, LICENCES + 1)
    }


def generate(path: Path, lines: int, seed: int = 7, random_ids: bool = False) -> None:
    """A CSV feed: ids ``S-000000000`` upwards, like invoice numbers, or unique ids in random
    order (a bijective scramble of the line number, so nothing is held in memory)."""
    rng = random.Random(seed)
    days = [date.fromordinal(date(2024, 1, 1).toordinal() + d).isoformat() for d in range(364)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n")
        for n in range(lines):
            units = rng.randint(1, 50)
            cents = units * rng.randint(100, 99_999)
            line_id = f"R-{n * 0x9E3779B97F4A7C15 & 0xFFFF_FFFF_FFFF_FFFF:016x}" if random_ids else f"S-{n:09d}"
            f.write(
                f"{line_id},{rng.randint(1, LICENCES)},{rng.choice(days)},"
                f"{rng.choice(TERRITORY_POOL)},{rng.choice(FIELD_POOL)},{rng.choice(CHANNEL_POOL)},"
                f"{units},{cents // 100}.{cents % 100:02d},{cents // 1000}.{cents % 10},USD\n"
            )


def add_all(aggregator: Aggregator, items: Iterable[ValidLine | Rejection]) -> list[Rejection]:
    """Add every ValidLine of a validator's output; return the Rejections met on the way."""
    rejections: list[Rejection] = []
    add = aggregator.add
    for item in items:
        if type(item) is Rejection:
            rejections.append(item)
        else:
            add(item)  # type: ignore[arg-type]
    return rejections


def run(path: Path, in_memory: bool = False, one_process: bool = False) -> tuple[int, int, int]:
    disk = None if in_memory else DiskSeenLines()
    seen = InMemorySeenLines() if disk is None else disk
    aggregator = Aggregator(max_leaves_in_memory=1 << 62) if in_memory else Aggregator()
    try:
        validator = Validator(licences(), seen)
        today = date(2025, 6, 30)
        if one_process:
            items = validate(parse_feed(path, today=today, decimals=6), validator)
        else:
            items = validate_two_stage(path, validator, today=today, decimals=6)
        rejections = add_all(aggregator, items)
        periods = aggregator.finish()
    finally:
        if disk is not None:
            disk.close()
    if disk is not None:
        st = disk.stats
        print(
            f"seen store: bloom filter {'not needed' if st.filter_loaded is None else 'started'}, "
            f"{st.bloom_positives} bloom positives ({st.false_positives} false), "
            f"{st.db_lookups} db lookups ({st.db_queries} queries); {st.flushes} batches written: "
            f"{st.ids_in_runs} ids in {st.run_rows} runs, {st.ids_out_of_order} out of order one by one "
            "(the last batch goes with the temporary file)"
        )
    print(
        f"aggregator: peak {aggregator.peak_leaves_in_memory} leaves in memory "
        f"(cap {aggregator.max_leaves_in_memory}), {aggregator.spilled_leaves} spilled, "
        f"{aggregator.partitioned_leaves} partitioned"
    )
    return validator.stats.valid, len(rejections), len(periods)


def result_line(lines: int, elapsed: float, cpu: float, peak_kib: int, before_kib: int) -> str:
    """The last line of this bench and of bench/service_ingest.py; bench/throughput.py parses it."""
    return (
        f"{lines} lines in {elapsed:.2f} s wall ({lines / elapsed:,.0f} lines/s), "
        f"{cpu:.2f} s CPU ({lines / cpu:,.0f} lines/CPU-s); "
        f"peak RSS {peak_kib / 1024:.0f} MiB (before pipeline {before_kib / 1024:.0f} MiB)"
    )


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the parsing process)."""
    here, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return here.ru_utime + here.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--profile", action="store_true", help="run under cProfile, print top 25")
    ap.add_argument("--in-memory", action="store_true", help="baseline: dict of line ids, every leaf in memory")
    ap.add_argument("--random-ids", action="store_true", help="line ids in random order (not ascending)")
    ap.add_argument("--one-process", action="store_true", help="baseline: parse and validate in this process")
    args = ap.parse_args()
    print(f"keccak backend: {KECCAK_BACKEND}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.csv"
        t0 = time.perf_counter()
        generate(path, args.lines, random_ids=args.random_ids)
        print(f"generated {args.lines} lines in {time.perf_counter() - t0:.1f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if args.profile:
            import cProfile
            import pstats

            cProfile.runctx(
                "run(path, in_memory, one_process)",
                globals(),
                {"path": path, "in_memory": args.in_memory, "one_process": args.one_process},
                "/tmp/oracle_pipeline.prof",
            )
            pstats.Stats("/tmp/oracle_pipeline.prof").sort_stats("tottime").print_stats(25)
            return
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        valid, rejected, periods = run(path, args.in_memory, args.one_process)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    processes = "one process" if args.one_process else "two processes"
    print(f"{processes}; peak RSS here {parent / 1024:.0f} MiB, parsing process {child / 1024:.0f} MiB")
    peak = max(parent, child)
    print(f"valid={valid} rejected={rejected} periods={periods}")
    # CPU time as well as wall time: on a shared machine the wall clock also counts waiting.
    print(result_line(args.lines, elapsed, cpu, peak, rss_before))


if __name__ == "__main__":
    main()
