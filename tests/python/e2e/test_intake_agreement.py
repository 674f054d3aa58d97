"""The oracle's ingest and POST /feeds judge the same lines the same way (intake.judge).

Each check feeds one file through ``OracleService.ingest`` and, with an outbox prepared the same
way, through the API's upload, and compares every verdict. A chain of its own: one test moves
its clock ahead of the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from oracle_world import chain_now, day, register, write_feed
from pydantic import SecretStr

from api.app import create_app
from api.services import build_services
from api.settings import ApiSettings
from oracle.ingest import IngestResult
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import LocalChain, deploy, start_anvil
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


@pytest.fixture(scope="module")
def own_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalChain, Chain]]:
    local = start_anvil()
    try:
        manifest = deploy(local.url, tmp_path_factory.mktemp("own-anvil") / "deployment.json")
        yield local, Chain(local.url, manifest)
    finally:
        local.stop()


def _service(chain: Chain, outbox: Path) -> OracleService:
    # Nil reports off: this chain's other licences (other tests') would get some in every round.
    return OracleService(
        chain,
        Outbox(outbox),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        nil_reports=False,
    )


def _upload(chain: Chain, data: Path, feed: Path, outbox: Path | None = None) -> dict[str, Any]:
    """POST /feeds of ``feed`` to an API over ``chain``'s manifest (and ``outbox``, if given)."""
    manifest = data / "api-manifest.json"
    chain.manifest.save(manifest)
    settings = ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest,
        database_url=str(data / "index.sqlite"),
        data_dir=data,
        run_indexer=False,
        oracle_outbox=outbox,
        operator_token=SecretStr("operator"),
    )
    services = build_services(settings)
    try:
        services.indexer.sync()
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            answer = client.post(
                "/feeds",
                headers={"Authorization": "Bearer operator", "Content-Type": "text/csv"},
                content=feed.read_bytes(),
            )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body
    finally:
        services.close()


def _oracle_verdicts(result: IngestResult) -> tuple[tuple[int, int, int, int], list[tuple[int, str, str, str]]]:
    counts = (result.valid, result.rejected, result.duplicates, result.out_of_scope)
    return counts, [(r.line_number, r.field, r.value, r.reason) for r in result.rejections]


def _api_verdicts(body: dict[str, Any]) -> tuple[tuple[int, int, int, int], list[tuple[int, str, str, str]]]:
    counts = (body["valid"], body["rejected"], body["duplicates"], body["out_of_scope"])
    rejected = [r for r in body["results"] if r["status"] == "rejected"]
    return counts, [(r["line_number"], r["field"], r["value"], r["reason"]) for r in rejected]


def _both(
    chain: Chain, tmp_path: Path, rows: list[str], prepare: Callable[[OracleService, Path], None] | None = None
) -> tuple[IngestResult, dict[str, Any]]:
    """The feed of ``rows`` through the oracle and through the API, each with an outbox that
    ``prepare`` readied the same way (without ``prepare``, the API has no outbox)."""
    feed = write_feed(tmp_path / "feed.csv", rows)
    oracle_side, api_side = tmp_path / "oracle", tmp_path / "api"
    oracle_side.mkdir()
    api_side.mkdir()
    service = _service(chain, oracle_side / "outbox.sqlite")
    api_outbox = None
    if prepare is not None:
        prepare(service, oracle_side)
        api_outbox = api_side / "outbox.sqlite"
        prepare(_service(chain, api_outbox), api_side)
    ingested = service.ingest(feed)
    uploaded = _upload(chain, api_side, feed, api_outbox)
    return ingested, uploaded


def test_a_line_of_a_reported_period_is_valid_alike_it_goes_into_an_adjustment(
    own_anvil: tuple[LocalChain, Chain], tmp_path: Path
) -> None:
    _, chain = own_anvil
    start = (chain_now(chain) - 65 * DAY) // DAY * DAY  # periods 0 and 1 have ended
    licence_id = register(chain, start)

    def report_period_0(service: OracleService, side: Path) -> None:
        service.ingest(write_feed(side / "first.csv", [f"P-1,{licence_id},{day(start)},US,apparel,retail,1,10,0,USD"]))
        assert len(service.build_reports()) == 1

    ingested, uploaded = _both(
        chain,
        tmp_path,
        [
            f"L-1,{licence_id},{day(start + DAY)},JP,apparel,retail,1,10,0,USD",  # period 0, out of scope
            f"L-1,{licence_id},{day(start + DAY)},JP,apparel,retail,1,10,0,USD",  # the same: a duplicate
            f"L-1,{licence_id},{day(start + 31 * DAY)},US,apparel,retail,1,10,0,USD",  # other content
        ],
        report_period_0,
    )

    counts, rejected = _oracle_verdicts(ingested)
    assert counts == (1, 1, 1, 1)
    assert [(n, f) for n, f, _, _ in rejected] == [(4, "line_id")]
    assert rejected[0][3].startswith("was seen before with different content")
    assert _api_verdicts(uploaded) == (counts, rejected)
    assert [r["line_number"] for r in uploaded["results"] if r["status"] == "valid"] == [2]


def test_a_licence_paid_in_a_token_outside_the_manifest_is_known_to_both(
    own_anvil: tuple[LocalChain, Chain], tmp_path: Path
) -> None:
    local, chain = own_anvil
    start = (chain_now(chain) - 5 * DAY) // DAY * DAY
    licence_id = register(chain, start)  # paid in USDX, which the manifest below does not list
    unlisted = Chain(local.url, chain.manifest.model_copy(update={"tokens": {}}))

    ingested, uploaded = _both(
        unlisted,
        tmp_path,
        [
            f"T-1,{licence_id},{day(start)},US,apparel,retail,1,10,0,USD",
            f"T-2,{licence_id},{day(start)},US,apparel,retail,1,10,0,EUR",
        ],
    )

    # the token's own ERC-20 symbol
    reason = "is not the licence's currency USDX, and the licence's terms convert nothing (its conversion rule is none)"
    assert _oracle_verdicts(ingested) == (
        (0, 2, 0, 0),
        [(2, "currency", "USD", reason), (3, "currency", "EUR", reason)],
    )
    assert _api_verdicts(uploaded) == _oracle_verdicts(ingested)


def test_east_of_utc_a_sale_dated_tomorrow_in_utc_is_in_the_future(
    own_anvil: tuple[LocalChain, Chain], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, chain = own_anvil
    start = (chain_now(chain) - 5 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    # UTC+14: the local date is a day ahead of UTC's from 10:00 UTC, and never behind it.
    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    try:
        today = max(chain_now(chain), int(time.time()))
        ingested, uploaded = _both(
            chain,
            tmp_path,
            [
                f"N-1,{licence_id},{day(today)},US,apparel,retail,1,10,0,USD",
                f"N-2,{licence_id},{day(today + DAY)},US,apparel,retail,1,10,0,USD",
            ],
        )
    finally:
        monkeypatch.undo()
        time.tzset()

    future = f"is in the future (today is {day(today)})"
    assert _oracle_verdicts(ingested) == ((1, 1, 0, 0), [(3, "sale_date", day(today + DAY), future)])
    assert _api_verdicts(uploaded) == _oracle_verdicts(ingested)


def test_a_chain_ahead_of_the_wall_clock_sets_today_for_both(
    own_anvil: tuple[LocalChain, Chain], tmp_path: Path
) -> None:
    _, chain = own_anvil
    start = (chain_now(chain) - 5 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    chain.w3.provider.make_request("evm_increaseTime", [3 * DAY])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    chain_today = chain_now(chain)
    assert day(chain_today) > day(int(time.time()) + DAY)

    ingested, uploaded = _both(chain, tmp_path, [f"C-1,{licence_id},{day(chain_today)},US,apparel,retail,1,10,0,USD"])

    assert _oracle_verdicts(ingested) == ((1, 0, 0, 0), [])
    assert _api_verdicts(uploaded) == _oracle_verdicts(ingested)
