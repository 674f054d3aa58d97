"""Benchmark of the API's read side and the indexer.

1. Bulk-inserts N synthetic settlements (default 1,000,000) straight into a fresh SQLite index
   and measures p50/p99 of GET /licences/{id}/settlements and GET /parties/{address} over HTTP
   (uvicorn in this process, httpx client).
2. On a real Anvil, settles S signed reports (default 2,000) for one licence, then answers the
   same question ("the newest 50 settlements of the licence with the payees' parts") by scanning
   the chain's logs with eth_getLogs, against the API answering from its index: the ratio.
3. Indexer catch-up speed: indexing that chain from scratch, in events per second.

    .venv/bin/python bench/api_bench.py                 # 1,000,000 rows, 2,000 settlements
    .venv/bin/python bench/api_bench.py --rows 100000 --settlements 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from eth_utils import to_checksum_address
from sqlalchemy import insert

from api.app import create_app
from api.indexer.db import make_engine
from api.indexer.models import LicenceRow, PayeeRow, ReleaseRow, ScheduleVersionRow, SettlementRow
from api.money import parts_between
from api.services import Services
from api.settings import ApiSettings
from royalty_chain.actions import register_licence, report_digest, sign_report
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, encode_scope, field_index, territory_index
from royalty_chain.dev.devnet import deploy, free_port, start_anvil
from royalty_chain.dev.keys import role
from royalty_chain.events import EventDecoder
from royalty_chain.manifest import Manifest
from royalty_chain.terms import DAY, Bucket, Payee, Report, Schedule, Term, Terms
from royalty_chain.transport import Transport

USDX = 10**6
CHUNK = 50_000


def _address(n: int) -> str:
    return str(to_checksum_address(f"0x{n:040x}"))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1000, p99 * 1000


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


# ------------------------------------------------------------------ synthetic index


def fill_index(path: Path, rows: int, licences: int, token: str) -> tuple[float, int, str]:
    """Inserts ``rows`` settlements over ``licences`` licences; returns seconds, a licence id and
    a licensor who owns ten licences."""
    engine = make_engine(path)
    per_licence = rows // licences
    terms = json.dumps({"scope": {"territories": 1, "fields": 1, "channels": 1}})
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(LicenceRow),
            [
                {
                    "id": i, "licensor": _address(1_000_000 + i // 10), "licensee": _address(2_000_000 + i),
                    "arbiter": _address(3), "token": token, "terms": terms, "start": 1_700_000_000,
                    "end": 1_900_000_000, "sell_off_days": 180, "period_seconds": 86_400, "dispute_window": 0,
                    "tax_bps": 1000, "tax_account": _address(4), "registered_block": 1, "registered_tx": "0x",
                    "registered_at": 1_700_000_000, "advance": 0, "advance_left": 0, "deposited": 0, "escrow": 0,
                    "arrears": 0, "royalty_total": 0, "recouped_total": 0, "due_total": 0, "paid_total": 0,
                    "released_total": 0, "tax_total": 0, "tax_withdrawn": 0,
                    "distributed": per_licence * 900_000, "escrow_withdrawn": 0,
                    "settlement_count": per_licence, "scope_breaches": 0, "guarantee_credit": "{}",
                }
                for i in range(1, licences + 1)
            ],
        )  # fmt: skip
        conn.execute(
            insert(ScheduleVersionRow),
            [
                {"licence_id": i, "version": 0, "effective_from": 1_700_000_000, "new_end": 1_900_000_000,
                 "schedule": json.dumps({"effectiveFrom": 0, "fixedFeePerPeriod": 0, "rateBps": 800, "perUnit": 0,
                                         "minimumGuarantee": 0, "tiers": [], "fieldRates": []}),
                 "previous_end": None, "block_number": 1, "tx_hash": "0x"}
                for i in range(1, licences + 1)
            ],
        )  # fmt: skip
        conn.execute(
            insert(PayeeRow),
            [
                {"licence_id": i, "position": p, "account": a, "share_bps": s, "withdrawn": 0}
                for i in range(1, licences + 1)
                for p, (a, s) in enumerate(((_address(1_000_000 + i // 10), 6000), (_address(5), 4000)))
            ],
        )  # fmt: skip

    def settlements() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for n in range(rows):
            licence_id = n % licences + 1
            period = n // licences
            royalty = 1_000_000 + n % 997
            yield (
                {
                    "id": n + 1, "licence_id": licence_id, "kind": "report", "period": period, "royalty": royalty,
                    "recouped": 0, "advance_recouped": 0, "guarantee_credit": 0, "due": royalty,
                    "due_at_settlement": royalty, "paid": royalty, "paid_at_settlement": royalty,
                    "released": royalty, "tax": royalty // 10, "pending": False, "state": "final",
                    "settled_at": 1_700_000_000 + n, "dispute_until": 1_700_000_000 + n, "schedule_version": 0,
                    "sequence": period + 1, "lines_root": "0x" + "00" * 32, "line_count": 10, "tier_net": 0,
                    "units": 10, "gross": royalty * 12, "net_in_scope": royalty * 12, "bucket_count": 1,
                    "scope_breaches": 0, "tx_hash": "0x" + "ab" * 32, "block_number": 10 + n,
                },
                {
                    "block_number": 10 + n, "log_index": 0, "settlement_id": n + 1, "licence_id": licence_id,
                    "amount": royalty, "tax": royalty // 10, "distributed_before": period * 900_000,
                    "distributed_after": (period + 1) * 900_000, "tx_hash": "0x" + "ab" * 32,
                },
            )  # fmt: skip

    batch: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for pair in settlements():
        batch.append(pair)
        if len(batch) == CHUNK:
            _flush(engine, batch)
            batch = []
    if batch:
        _flush(engine, batch)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, licences // 2, _address(1_000_000 + 5)


def _flush(engine: Any, batch: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(SettlementRow), [s for s, _ in batch])
        conn.execute(insert(ReleaseRow), [r for _, r in batch])


# ------------------------------------------------------------------ HTTP server


@contextmanager
def serve(services: Services) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def services_for(chain: Chain, manifest_file: Path, database: Path) -> Services:
    from api.services import build_services

    settings = ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest_file,
        database_url=str(database),
        run_indexer=False,
        data_dir=database.parent,
    )
    return build_services(settings)


# ------------------------------------------------------------------ chain scan


def settle_many(chain: Chain, count: int) -> int:
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    start = now - (count + 2) * DAY
    terms = Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x01" * 32,
        asset_ids=(1,),
        scope=encode_scope(["US"], ["apparel"], ["retail"]),
        term=Term(start, start + (count + 400) * DAY, 0, DAY),
        token=chain.manifest.token("USDX").address,
        schedule=Schedule(rate_bps=800),
        payees=(Payee(role("licensor_brand").address, 6000), Payee(role("co_owner").address, 4000)),
        oracles=(role("oracle1").address,),
        threshold=1,
        arbiter=role("arbiter").address,
        tax_bps=1000,
        tax_account=role("tax_authority").address,
    )
    licence_id = register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )
    licensee = role("licensee_apparel")
    rule = terms.term.rule()
    token = chain.token(terms.token)
    amount = count * 300 * USDX  # covers every royalty: each settlement is released at once
    token.mint(licensee.address, amount, licensee)
    token.approve(chain.ledger.address, amount, licensee)
    chain.ledger.deposit(licence_id, amount, licensee)
    sender = role("oracle_sender")
    nonce = int(chain.w3.eth.get_transaction_count(sender.address))
    hashes: list[Any] = []
    for first in range(0, count, 50):
        reports, signatures = [], []
        for period in range(first, min(first + 50, count)):
            year = rule.year_of(rule.period_bounds(period)[0])
            report = Report(
                licence_id, period, period + 1, now + 30 * DAY, b"\x07" * 32, 1,
                (Bucket(year, territory_index("US"), field_index("apparel"), channel_index("retail"), 1,
                        (1000 + period) * USDX, 0),),
            )  # fmt: skip
            reports.append(report)
            signatures.append(sign_report(report_digest(chain, report), [role("oracle1")]))
        fn = chain.ledger.settle_fn(reports, signatures)
        hashes.append(chain.transact(fn, sender, nonce=nonce, gas=25_000_000, wait=False))
        nonce += 1
    for tx_hash in hashes:
        receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        assert receipt["status"] == 1, f"settlement batch {tx_hash.hex()} failed"
    return licence_id


def scan_newest(rpc: Transport, manifest: Manifest, licence_id: int, size: int = 50) -> list[dict[str, Any]]:
    """The newest ``size`` settlements of a licence with payee parts, from eth_getLogs alone."""
    decoder = EventDecoder.from_manifest(manifest)
    ledger = manifest.ledger.address
    licence_topic = "0x" + licence_id.to_bytes(32, "big").hex()
    head = hex(rpc.block_number())
    span = {"address": ledger, "fromBlock": hex(manifest.deploy_block), "toBlock": head}
    opened = rpc.call("eth_getLogs", {**span, "topics": [decoder.topic("LicenceOpened"), licence_topic]})
    money = rpc.call(
        "eth_getLogs",
        {**span, "topics": [[decoder.topic("Settled"), decoder.topic("Released")], None, licence_topic]},
    )
    shares: list[int] = []
    for entry in opened:
        event = decoder.decode(entry)
        assert event is not None
        shares = [int(s) for s in event.args["sharesBps"]]
    settled: dict[int, dict[str, Any]] = {}
    parts: dict[int, list[int]] = {}
    distributed = 0
    for entry in money:
        event = decoder.decode(entry)
        assert event is not None
        sid = int(event.args["settlementId"])
        if event.name == "Settled":
            settled[sid] = event.args
        else:
            after = int(event.args["distributedTotal"])
            delta = parts_between(distributed, after, shares)
            parts[sid] = [a + b for a, b in zip(parts.get(sid, [0] * len(shares)), delta, strict=True)]
            distributed = after
    newest = sorted(settled, reverse=True)[:size]
    return [{**settled[s], "parts": parts.get(s)} for s in newest]


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic settlements in the index")
    parser.add_argument("--licences", type=int, default=1_000, help="licences they belong to")
    parser.add_argument("--settlements", type=int, default=10_000, help="real settlements on Anvil")
    parser.add_argument("--runs", type=int, default=200, help="requests per latency measurement")
    args = parser.parse_args()

    results: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        local = start_anvil()
        try:
            manifest_file = tmp / "deployment.json"
            chain = Chain(local.url, deploy(local.url, manifest_file))
            token = chain.manifest.token("USDX").address

            print(f"inserting {args.rows:,} synthetic settlements ...", flush=True)
            seconds, licence_id, licensor = fill_index(tmp / "synthetic.sqlite", args.rows, args.licences, token)
            results.append(("bulk insert into the index", f"{args.rows:,} settlements in {seconds:.1f} s"))
            synthetic = services_for(chain, manifest_file, tmp / "synthetic.sqlite")
            with serve(synthetic) as url, httpx.Client(base_url=url, timeout=30) as client:
                for label, path in (
                    (f"GET /licences/{{id}}/settlements ({args.rows:,} rows)", f"/licences/{licence_id}/settlements"),
                    ("  same, page 20", f"/licences/{licence_id}/settlements?page=20"),
                    (f"GET /parties/{{address}} (10 licences, {args.rows:,} rows)", f"/parties/{licensor}"),
                ):
                    assert client.get(path).status_code == 200, client.get(path).text
                    p50, p99 = _timed(lambda p=path: client.get(p), args.runs)  # type: ignore[misc]
                    results.append((label, f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"))
            synthetic.close()

            print(f"settling {args.settlements:,} signed reports on Anvil ...", flush=True)
            real_licence = settle_many(chain, args.settlements)
            rpc = Transport(local.url)
            real = services_for(chain, manifest_file, tmp / "real.sqlite")
            started = time.perf_counter()
            report = real.indexer.sync()
            catch_up = time.perf_counter() - started
            results.append(
                ("indexer catch-up from scratch", f"{report.events:,} events in {catch_up:.2f} s = "
                 f"{report.events / catch_up:,.0f} events/s"),
            )  # fmt: skip
            scanned = scan_newest(rpc, chain.manifest, real_licence)
            assert len(scanned) == min(50, args.settlements + 1)
            scan_p50, scan_p99 = _timed(
                lambda: scan_newest(rpc, chain.manifest, real_licence), max(10, args.runs // 10)
            )
            with serve(real) as url, httpx.Client(base_url=url, timeout=30) as client:
                path = f"/licences/{real_licence}/settlements"
                api_p50, api_p99 = _timed(lambda: client.get(path), args.runs)
            real.close()
            results.append(
                (f"newest 50 settlements, eth_getLogs scan ({args.settlements:,} on chain)",
                 f"p50 {scan_p50:.2f} ms, p99 {scan_p99:.2f} ms"),
            )  # fmt: skip
            results.append(
                (
                    "  same from the index (GET /licences/{id}/settlements)",
                    f"p50 {api_p50:.2f} ms, p99 {api_p99:.2f} ms",
                )
            )
            results.append(("  ratio scan / index (p50)", f"{scan_p50 / api_p50:.1f}x"))
        finally:
            local.stop()

    width = max(len(label) for label, _ in results)
    print()
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in results:
        print(f"{label.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
