"""The indexer: resumes without duplicates, rolls back reorgs, rebuilds after a chain reset,
and agrees with the contracts' own views."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apikit import USDX, bucket, chain_time, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.db import make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.indexer.models import PROJECTIONS, EventRecord, IndexState, LicenceRow, ReturnRow, SettlementRow
from api.services import Services
from royalty_chain.actions import register_licence
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import deploy, start_anvil
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _index(chain: Chain, path: Path | str, **kwargs: Any) -> tuple[Indexer, sessionmaker[Session]]:
    sessions = make_sessions(make_engine(path))
    return Indexer(chain.transport, chain.manifest, sessions, **kwargs), sessions


def _dump(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with sessions() as session:
        for model in (*PROJECTIONS, EventRecord):
            columns = [c.key for c in model.__table__.columns]  # type: ignore[attr-defined]
            rows = session.scalars(select(model)).all()
            out[model.__tablename__] = sorted(tuple(getattr(r, c) for c in columns) for r in rows)
    return out


def _logs(chain: Chain) -> int:
    addresses = [
        chain.registry.address,
        chain.ledger.address,
        chain.escalator.address,
        chain.reviews.address,
        chain.fx.address,
    ]
    return len(
        chain.w3.eth.get_logs({"address": addresses, "fromBlock": chain.manifest.deploy_block, "toBlock": "latest"})
    )


def _activity(client: TestClient, chain: Chain) -> int:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 65 * DAY))
    fund(chain, licence_id, 5 * USDX)
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 4, 40 * USDX)])
    settle(chain, licence_id, 1, [bucket("GB", "apparel", "online", 1, 30 * USDX, 5 * USDX)])
    fund(chain, licence_id, 3 * USDX)
    return licence_id


def test_restart_mid_way_resumes_without_duplicates(client: TestClient, chain: Chain, tmp_path: Path) -> None:
    _activity(client, chain)
    reference, reference_sessions = _index(chain, tmp_path / "reference.sqlite")
    reference.sync()
    first, sessions = _index(chain, tmp_path / "restarted.sqlite", batch_blocks=4)
    report = first.sync(max_ranges=3)
    assert report.ranges == 3
    with sessions() as session:
        state = session.get(IndexState, 1)
        assert state is not None and state.last_block == chain.manifest.deploy_block - 1 + 12
    second, _ = _index(chain, tmp_path / "restarted.sqlite", batch_blocks=4)  # a new process
    second.sync()
    second.sync()
    assert _dump(sessions) == _dump(reference_sessions)
    with sessions() as session:
        assert len(session.scalars(select(EventRecord)).all()) == _logs(chain)


def test_index_agrees_with_the_contracts_views(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = _activity(client, chain)
    synced(services)
    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["escrow"] == str(chain.ledger.escrow_of(licence_id))
    assert licence["arrears"] == str(chain.ledger.arrears_of(licence_id))
    assert licence["tax"]["claimable"] == str(chain.ledger.tax_claimable(licence_id))
    for payee in licence["payees"]:
        assert payee["claimable"] == str(chain.ledger.claimable(licence_id, payee["account"]))
    for item in client.get(f"/licences/{licence_id}/settlements").json()["items"]:
        on_chain = chain.ledger.settlement(item["id"])
        assert (item["royalty"], item["due"], item["paid"], item["released"]) == tuple(
            str(getattr(on_chain, k)) for k in ("royalty", "due", "paid", "released")
        )


def test_reorg_rolls_back_and_reindexes(client: TestClient, chain: Chain, tmp_path: Path) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    fund(chain, licence_id, 100 * USDX)
    indexer, sessions = _index(chain, tmp_path / "reorg.sqlite")
    indexer.sync()
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 50 * USDX)])  # 4 USDX
    indexer.sync()
    head = chain.w3.eth.block_number
    with sessions() as session:
        assert session.get(SettlementRow, settlement_id) is not None
        assert session.get(LicenceRow, licence_id).escrow == 96 * USDX  # type: ignore[union-attr]

    chain.w3.provider.make_request("anvil_reorg", [1, []])  # type: ignore[arg-type]  # replace the last block
    assert chain.w3.eth.block_number == head
    report = indexer.sync()
    assert report.rolled_back_to == head - 1
    with sessions() as session:
        assert session.get(SettlementRow, settlement_id) is None
        assert session.get(LicenceRow, licence_id).escrow == 100 * USDX  # type: ignore[union-attr]
        assert session.get(IndexState, 1).reorgs == 1  # type: ignore[union-attr]

    # The new branch settles the period with other figures; the index follows it.
    again = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 25 * USDX)])  # 2 USDX
    indexer.sync()
    with sessions() as session:
        row = session.get(SettlementRow, again)
        assert row is not None and row.royalty == 2 * USDX
        assert session.get(LicenceRow, licence_id).escrow == 98 * USDX  # type: ignore[union-attr]
        assert len(session.scalars(select(EventRecord)).all()) == _logs(chain)


def test_reorg_of_an_adjustment_restores_the_chain_it_corrected(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    fund(chain, licence_id, 100 * USDX)
    indexer, sessions = _index(chain, tmp_path / "reorg.sqlite")
    original = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 50 * USDX)])  # 8%: 4 USDX
    # 20 of the 50 cancelled: -20 x 8% = -1.6, carried as the licensee's credit
    downward = settle(chain, licence_id, 0, [], sequence=2, corrects=original,
                      returned=(bucket("US", "apparel", "retail", 1, 20 * USDX),))  # fmt: skip
    indexer.sync()
    with sessions() as session:
        assert session.get(SettlementRow, original).corrected_by == downward  # type: ignore[union-attr]
        assert session.get(LicenceRow, licence_id).credit == 1_600_000  # type: ignore[union-attr]
        assert session.scalars(select(ReturnRow).where(ReturnRow.settlement_id == downward)).all()

    chain.w3.provider.make_request("anvil_reorg", [1, []])  # type: ignore[arg-type]  # the adjustment's block
    assert indexer.sync().rolled_back_to is not None
    with sessions() as session:
        assert session.get(SettlementRow, downward) is None
        assert session.get(SettlementRow, original).corrected_by is None  # type: ignore[union-attr]
        assert session.get(LicenceRow, licence_id).credit == 0  # type: ignore[union-attr]
        assert not session.scalars(select(ReturnRow).where(ReturnRow.settlement_id == downward)).all()


@pytest.fixture
def private_chain(tmp_path: Path) -> Iterator[Chain]:
    local = start_anvil()
    try:
        yield Chain(local.url, deploy(local.url, tmp_path / "private.json"))
    finally:
        local.stop()


def _register_direct(chain: Chain, rate_bps: int) -> int:
    from api.inputs import TermsIn, to_terms

    now = chain_time(chain)
    terms = to_terms(
        TermsIn.model_validate(terms_json(chain, now - DAY, schedule={"rate_bps": rate_bps})), chain.manifest
    )
    return register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )


def test_chain_reset_is_detected_and_the_index_rebuilt(private_chain: Chain, tmp_path: Path) -> None:
    chain = private_chain
    _register_direct(chain, 100)
    _register_direct(chain, 200)
    indexer, sessions = _index(chain, tmp_path / "reset.sqlite")
    indexer.sync()
    with sessions() as session:
        assert len(session.scalars(select(LicenceRow)).all()) == 2

    # Same chain id and (on Anvil) the same genesis: only the block hashes tell.
    chain.w3.provider.make_request("anvil_reset", [])  # type: ignore[arg-type]
    # The reset chain no longer holds the recorded deployment: only an explicit fresh one replaces it.
    manifest = deploy(chain.w3.provider.endpoint_uri, tmp_path / "private.json", fresh=True)  # type: ignore[attr-defined]
    assert manifest.registry.address == chain.manifest.registry.address
    fresh = Chain(chain.w3.provider.endpoint_uri, manifest)  # type: ignore[attr-defined]
    _register_direct(fresh, 300)
    report = Indexer(fresh.transport, manifest, sessions).sync()
    assert report.reset is True
    with sessions() as session:
        rows = session.scalars(select(LicenceRow)).all()
        assert [(r.id, '"rateBps":300' in r.terms.replace(" ", "")) for r in rows] == [(1, True)]
        assert session.get(IndexState, 1).resets == 1  # type: ignore[union-attr]

    # A different chain id (another network behind the same URL) also rebuilds.
    with sessions() as session, session.begin():
        session.execute(update(IndexState).values(chain_id=1))
    assert Indexer(fresh.transport, manifest, sessions).sync().reset is True


def test_postgresql_index(client: TestClient, chain: Chain, tmp_path: Path) -> None:
    url = os.environ.get("API_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("API_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    try:
        engine = make_engine(url)
        engine.dispose()
    except Exception as err:  # driver missing or server unreachable
        pytest.skip(f"PostgreSQL at API_TEST_POSTGRES_URL is not usable: {err}")
    _activity(client, chain)
    reference, reference_sessions = _index(chain, tmp_path / "reference.sqlite")
    reference.sync()
    indexer, sessions = _index(chain, url)
    with sessions() as session, session.begin():
        session.execute(update(IndexState).values(chain_id=0))  # force a rebuild of a reused database
    indexer.sync()
    assert _dump(sessions) == _dump(reference_sessions)


def test_five_payee_split_matches_the_ledger(client: TestClient, chain: Chain, services: Services) -> None:
    accounts = sorted(
        (role(name).address for name in ("licensor_patent", "co_inventor", "co_owner", "licensor_data", "arbiter")),
        key=lambda a: int(a, 16),
    )
    shares = [1111, 2222, 3333, 1234, 2100]
    payees = [{"account": a, "share_bps": s} for a, s in zip(accounts, shares, strict=True)]
    terms = terms_json(chain, chain_time(chain) - 65 * DAY, payees=payees, arbiter=role("oracle3").address)
    licence_id = register(client, terms)
    fund(chain, licence_id, 7 * USDX + 3)
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 3, 33_333_337)])
    settle(chain, licence_id, 1, [bucket("GB", "apparel", "online", 1, 77_777_779, 11)])
    fund(chain, licence_id, 1_234_567)
    synced(services)
    licence = client.get(f"/licences/{licence_id}").json()
    got = [p["entitled"] for p in licence["payees"]]
    assert got == [str(chain.ledger.claimable(licence_id, a)) for a in accounts]
    assert sum(int(x) for x in got) == sum(int(p["amount"]) for s in client.get(
        f"/licences/{licence_id}/settlements").json()["items"] for p in s["payee_parts"])  # fmt: skip


def test_dispute_refund_pays_other_arrears_before_escrow(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 65 * DAY, dispute_window=7 * DAY))
    fund(chain, licence_id, 10 * USDX)
    first = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 100 * USDX)])  # 8 USDX, all paid
    second = settle(chain, licence_id, 1, [bucket("US", "apparel", "retail", 1, 75 * USDX)])  # 6 USDX, 2 paid
    chain.ledger.dispute(first, role("licensee_apparel"))
    chain.ledger.resolve_dispute(first, 3 * USDX, role("arbiter"))
    synced(services)  # the 5 USDX refund pays the second settlement's 4 USDX arrears; 1 USDX to escrow
    licence = client.get(f"/licences/{licence_id}").json()
    assert (licence["escrow"], licence["arrears"]) == ("1000000", "0")
    assert licence["escrow"] == str(chain.ledger.escrow_of(licence_id))
    assert licence["arrears"] == str(chain.ledger.arrears_of(licence_id))
    assert licence["totals"]["paid"] == "9000000"
    two = client.get(f"/settlements/{second}").json()
    assert (two["paid"], two["arrears"], two["state"]) == ("6000000", "0", "pending")
