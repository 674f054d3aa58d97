"""Throughput: the oracle's pure pipeline (lines/s, peak memory) and settlement on Anvil.

Pipeline: ``bench/oracle_pipeline.py --lines N`` (a colleague's bench) runs as a subprocess per
size; its last line is parsed.

On chain: L licences, each with one period due holding ``lines_per_licence`` sales lines, go
through the real OracleService (ingest the feed, build_reports, send; it batches reports, 25 per
transaction by default). The same lines are then settled the naive way: every line its own
report and its own settleReports transaction (each line in its own one-day period of the same
licences). The naive sender is given every advantage: it skips parsing and validation, uses a
fixed gas limit instead of estimating, and pipelines its transactions instead of waiting for each.
"""

from __future__ import annotations

import random
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_keys.backends import get_backend
from eth_utils import keccak

from bench.chainkit import (
    USDX,
    BenchChain,
    BulkSender,
    CountingProvider,
    bench_terms,
    check_report_digest,
    day_start,
    fund_many,
    gas_used,
    one_bucket_report,
    register_many,
    sign_report_locally,
    start_bench_chain,
)
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import ROOT
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.terms import DAY

NAIVE_WINDOW = 32  # transactions in flight at once for the naive sender
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
_PIPELINE_LINE = re.compile(
    r"(?P<lines>\d+) lines in (?P<wall>[\d.]+) s wall \((?P<rate>[\d,]+) lines/s\), "
    r"(?P<cpu>[\d.]+) s CPU \((?P<cpu_rate>[\d,]+) lines/CPU-s\); "
    r"peak RSS (?P<peak>\d+) MiB \(before pipeline (?P<before>\d+) MiB\)"
)


# ------------------------------------------------------------------ pure pipeline


def pipeline(
    sizes: list[int], timeout: float = 420.0, script: str = "oracle_pipeline.py", baseline: bool = False
) -> list[dict[str, Any]]:
    """Runs ``bench/<script> --lines N`` per size (oracle_pipeline.py, or service_ingest.py for
    the service's durable ingest, which prints the same last line). With ``baseline``, the
    largest size runs once more with ``--one-process`` (mode "one process"), beside the others."""
    rows: list[dict[str, Any]] = []
    runs: list[tuple[int, list[str]]] = [(size, []) for size in sizes] + (
        [(max(sizes), ["--one-process"])] if baseline and sizes else []
    )
    for size, extra in runs:
        cmd = [sys.executable, str(ROOT / "bench" / script), "--lines", str(size), *extra]
        # Through a shell that forks (not execs) the script: Linux carries a process's peak RSS
        # (ru_maxrss) over fork and exec, so a child forked straight from this big process would
        # report this process's peak instead of its own.
        shell = ["/bin/sh", "-c", shlex.join(cmd) + "; exit $?"]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(shell, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            rows.append({"lines": size, "error": f"timed out after {timeout:.0f} s"})
            continue
        found = _PIPELINE_LINE.search(done.stdout)
        if done.returncode != 0 or found is None:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            rows.append({"lines": size, "error": f"exit {done.returncode}: {' | '.join(tail)}"})
            continue
        backend = re.search(r"keccak backend: (\S+)", done.stdout)
        rows.append(
            {
                "lines": int(found["lines"]),
                "mode": "one process" if extra else ("two processes" if script == "oracle_pipeline.py" else None),
                "seconds": float(found["wall"]),
                "lines_per_s": float(found["rate"].replace(",", "")),
                "cpu_seconds": float(found["cpu"]),
                "lines_per_cpu_s": float(found["cpu_rate"].replace(",", "")),
                "peak_rss_mib": int(found["peak"]),
                "rss_before_mib": int(found["before"]),
                "keccak_backend": backend.group(1) if backend else None,
                "subprocess_seconds": time.perf_counter() - t0,
            }
        )
    return rows


# ------------------------------------------------------------------ on chain


@dataclass(frozen=True)
class Sale:
    territory: str
    field: str
    channel: str
    units: int
    gross_cents: int


def _sales(licences: int, per_licence: int, seed: int = 11) -> list[list[Sale]]:
    rng = random.Random(seed)
    return [
        [
            Sale(
                rng.choice(["US", "GB", "DE"]),
                rng.choice(["apparel", "toys"]),
                rng.choice(["retail", "online"]),
                rng.randint(1, 20),
                rng.randint(1_000, 500_000),
            )
            for _ in range(per_licence)
        ]
        for _ in range(licences)
    ]


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _write_feed(path: Path, licence_ids: list[int], sales: list[list[Sale]], day: str) -> int:
    """All lines of a licence on one day (its period 0); lines interleaved across licences."""
    count = 0
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        for j in range(len(sales[0])):
            for licence_id, rows in zip(licence_ids, sales, strict=True):
                s = rows[j]
                f.write(
                    f"B-{licence_id}-{j},{licence_id},{day},{s.territory},{s.field},{s.channel},{s.units},"
                    f"{s.gross_cents // 100}.{s.gross_cents % 100:02d},0,USD\n"
                )
                count += 1
    return count


def _service_chain(bench: BenchChain) -> tuple[Chain, CountingProvider]:
    chain = Chain(bench.url, bench.chain.manifest, timeout=120)
    # The project's own provider settings (retries, cached chain id), counting its round trips.
    provider = CountingProvider(chain.transport)
    chain.w3.provider = provider
    return chain, provider


def _timed(provider: CountingProvider, fn: Any) -> tuple[Any, dict[str, Any]]:
    calls, rpc_seconds, methods = provider.snapshot()
    method_seconds = dict(provider.seconds_by_method)
    t0 = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - t0
    calls2, rpc_seconds2, methods2 = provider.snapshot()
    by_method = {m: n - methods.get(m, 0) for m, n in methods2.items() if n - methods.get(m, 0)}
    seconds_by_method = {
        m: s - method_seconds.get(m, 0.0)
        for m, s in provider.seconds_by_method.items()
        if s - method_seconds.get(m, 0.0) > 0
    }
    return value, {
        "seconds": seconds,
        "rpc_calls": calls2 - calls,
        "rpc_seconds": rpc_seconds2 - rpc_seconds,
        "rpc_by_method": by_method,
        "rpc_seconds_by_method": seconds_by_method,
    }


def chain_size(workdir: Path, licences: int, per_licence: int, naive_max_lines: int | None) -> dict[str, Any]:
    bench = start_bench_chain(workdir)
    try:
        return _chain_size(bench, workdir, licences, per_licence, naive_max_lines)
    finally:
        bench.stop()


def _chain_size(
    bench: BenchChain, workdir: Path, licences: int, per_licence: int, naive_max_lines: int | None
) -> dict[str, Any]:
    start = day_start(bench.now()) - (per_licence + 3) * DAY
    t0 = time.perf_counter()
    terms = [bench_terms(bench, start=start, period_seconds=DAY, salt=i + 1) for i in range(licences)]
    ids, _ = register_many(bench, terms)
    fund_many(bench, ids, 10_000_000 * USDX)
    setup_seconds = time.perf_counter() - t0
    sales = _sales(licences, per_licence)

    # --- the real oracle service: one report per licence, batched
    feed = workdir / f"feed-{licences}.csv"
    lines = _write_feed(feed, ids, sales, _iso(start))
    chain, provider = _service_chain(bench)
    service = OracleService(
        chain,
        Outbox(workdir / f"outbox-{licences}.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        # Only the periods with lines: the figures stay those of settling sales (and comparable
        # with earlier runs); nil reports of the bench's other licences would be extra reports.
        nil_reports=False,
    )
    ingested, ingest = _timed(provider, lambda: service.ingest(feed))
    built, build = _timed(provider, service.build_reports)
    sent, send = _timed(provider, service.send)
    if ingested.valid != lines or len(built) != licences or len(sent.settled) != licences:
        raise RuntimeError(
            f"service settled {len(sent.settled)}/{licences} reports from {ingested.valid}/{lines} valid lines"
        )
    tx_hashes = {s.tx_hash for s in sent.settled if s.tx_hash}
    service_gas = sum(gas_used(bench.chain.w3.eth.get_transaction_receipt(h)) for h in tx_hashes)
    total = ingest["seconds"] + build["seconds"] + send["seconds"]
    service_row = {
        "stages": {"ingest": ingest, "build_reports (aggregate, sign)": build, "send": send},
        "seconds": total,
        "lines_per_s": lines / total,
        "reports_per_s": licences / total,
        "send_lines_per_s": lines / send["seconds"],
        "transactions": len(tx_hashes),
        "batch_size": service.batch_size,
        "signatures_per_report": terms[0].threshold,
        "gas": service_gas,
        "gas_per_line": service_gas / lines,
        "gas_per_report": service_gas / licences,
        "rpc_calls": ingest["rpc_calls"] + build["rpc_calls"] + send["rpc_calls"],
        "rpc_seconds": ingest["rpc_seconds"] + build["rpc_seconds"] + send["rpc_seconds"],
    }

    # --- naive: every line its own report (its own one-day period) and transaction
    naive = _naive(bench, ids, sales, start, naive_max_lines)
    return {
        "licences": licences,
        "lines": lines,
        "lines_per_licence": per_licence,
        "setup_seconds": setup_seconds,
        "service": service_row,
        "naive": naive,
        "ratio_lines_per_s": service_row["lines_per_s"] / naive["lines_per_s"],
        "ratio_send_lines_per_s": service_row["send_lines_per_s"] / naive["lines_per_s"],
        "ratio_gas_per_line": naive["gas_per_line"] / service_row["gas_per_line"],
    }


def _naive(
    bench: BenchChain, ids: list[int], sales: list[list[Sale]], start: int, max_lines: int | None
) -> dict[str, Any]:
    signers = [role("oracle1"), role("oracle2")]
    sender = BulkSender(bench, role("relayer"), window=NAIVE_WINDOW)
    deadline = bench.now() + DAY
    ledger = bench.chain.ledger
    total_lines = sum(len(rows) for rows in sales)
    lines = min(total_lines, max_lines) if max_lines else total_lines
    first = one_bucket_report(ids[0], 1, 2, deadline, gross=1)
    check_report_digest(bench, first)
    gas = int(sender.estimate(ledger.settle_fn([first], [sign_report_locally(bench, first, signers)])) * 1.3) + 50_000
    feed_order = [
        (j, licence_id, rows[j]) for j in range(len(sales[0])) for licence_id, rows in zip(ids, sales, strict=True)
    ]
    t0 = time.perf_counter()
    for j, licence_id, s in feed_order[:lines]:
        report = one_bucket_report(
            licence_id,
            period=j + 1,
            sequence=j + 2,
            deadline=deadline,
            gross=s.gross_cents * 10_000,
            lines_root=keccak(text=f"N-{licence_id}-{j}"),
            territory=s.territory,
            field=s.field,
            channel=s.channel,
            units=s.units,
        )
        sender.send(ledger.settle_fn([report], [sign_report_locally(bench, report, signers)]), gas)
    receipts = sender.wait()
    seconds = time.perf_counter() - t0
    total_gas = sum(gas_used(r) for r in receipts)
    j, licence_id, _ = feed_order[lines - 1]
    if not ledger.settled_period(licence_id, j + 1):
        raise RuntimeError("the naive run did not settle its last line")
    return {
        "lines": lines,
        "sampled": lines < total_lines,
        "in_flight_window": NAIVE_WINDOW,
        "seconds": seconds,
        "transactions": len(receipts),
        "lines_per_s": lines / seconds,
        "gas": total_gas,
        "gas_per_line": total_gas / lines,
    }


def signing_cost(samples: int = 50) -> dict[str, Any]:
    """What one EIP-712 signature costs this process (the oracle signs k per report)."""
    key = role("oracle1").key
    t0 = time.perf_counter()
    for i in range(samples):
        sign_digest(keccak(i.to_bytes(32, "big")), key)
    return {"ms_per_signature": 1000 * (time.perf_counter() - t0) / samples, "backend": type(get_backend()).__name__}


def chain(
    workdir: Path, sizes: list[int], per_licence: int, naive_max_lines: int | None = None
) -> list[dict[str, Any]]:
    signing = signing_cost()
    rows = [chain_size(workdir / f"chain-{size}", size, per_licence, naive_max_lines) for size in sizes]
    for row in rows:
        row["signing"] = signing
    return rows
