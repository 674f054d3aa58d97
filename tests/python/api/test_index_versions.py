"""The index is versioned: a changed projector replays the projections from the stored events,
without the chain; an index made before projection versions is upgraded in place."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from apikit import USDX, attach_review, bucket, chain_time, fire_review, fund, register, settle, sign, terms_json
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.db import make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.indexer.models import PROJECTIONS, EventRecord, FixedRateRow, IndexState, LicenceRow
from api.indexer.projector import Projector
from api.services import Services
from royalty_chain import actions
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.events import ChainEvent
from royalty_chain.manifest import Manifest
from royalty_chain.reviews import ReviewClause, Trigger
from royalty_chain.terms import DAY, Conversion


class _Unreachable:
    """A node that is down: any use of it fails the test, naming what was asked."""

    def __getattr__(self, name: str) -> Any:
        raise ConnectionError(f"the chain was asked for {name}")


class _CountsDeposits(Projector):
    """The next projector version: a licence's ``scope_breaches`` also counts its deposits."""

    VERSION = Projector.VERSION + 1

    def _deposited(self, event: ChainEvent) -> None:
        super()._deposited(event)
        self._licence(int(event.args["licenceId"])).scope_breaches += 1


def _dump(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with sessions() as session:
        for model in (*PROJECTIONS, EventRecord):
            columns = [c.key for c in model.__table__.columns]
            rows = session.scalars(select(model)).all()
            out[model.__tablename__] = sorted(tuple(getattr(r, c) for c in columns) for r in rows)
    return out


def _built(client: TestClient, chain: Chain, path: Path) -> tuple[int, sessionmaker[Session]]:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 65 * DAY))
    fund(chain, licence_id, 5 * USDX)
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 4, 40 * USDX)])
    fund(chain, licence_id, 3 * USDX)
    sessions = make_sessions(make_engine(path))
    Indexer(chain.transport, chain.manifest, sessions).sync()
    return licence_id, sessions


def _offline(manifest: Manifest, sessions: sessionmaker[Session], projector: type[Projector]) -> Indexer:
    return Indexer(_Unreachable(), manifest, sessions, projector=projector)  # type: ignore[arg-type]


def test_a_new_projector_version_replays_the_stored_events_with_the_chain_down(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    licence_id, sessions = _built(client, chain, tmp_path / "index.sqlite")
    before = _dump(sessions)
    with sessions() as session:
        state = session.get(IndexState, 1)
        assert state is not None and state.projection_version == Projector.VERSION
        breaches = session.get(LicenceRow, licence_id).scope_breaches  # type: ignore[union-attr]
        deposits = session.scalar(
            select(func.count()).where(EventRecord.name == "Deposited", EventRecord.licence_id == licence_id)
        )
        events = session.scalar(select(func.count()).select_from(EventRecord))
    assert (breaches, deposits) == (0, 2)

    indexer = _offline(chain.manifest, sessions, _CountsDeposits)
    with pytest.raises(ConnectionError, match="asked for chain_id"):  # replayed first, then the round stops
        indexer.sync()
    after = _dump(sessions)
    with sessions() as session:
        assert session.get(LicenceRow, licence_id).scope_breaches == 2  # type: ignore[union-attr]
        assert session.get(IndexState, 1).projection_version == Projector.VERSION + 1  # type: ignore[union-attr]
    # Only the changed projection differs; the stored events are untouched.
    assert after["events"] == before["events"]
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"licences"}
    assert indexer.reproject() == 0  # the version now matches: nothing to replay
    assert _offline(chain.manifest, sessions, Projector).reproject() == events  # and back again
    assert _dump(sessions) == before


def test_stored_events_the_projector_cannot_read_make_it_rebuild_from_the_chain(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    # An index kept while the chain under it was redeployed from scratch (same genesis, same
    # addresses): its stored LicenceRegistered has no calendar, so replaying it cannot work.
    licence_id, sessions = _built(client, chain, tmp_path / "index.sqlite")
    before = _dump(sessions)
    with sessions() as session, session.begin():
        record = session.scalars(select(EventRecord).where(EventRecord.name == "LicenceRegistered")).first()
        assert record is not None
        record.args = record.args.replace('"calendar"', '"calendarOfAnotherRelease"')
        session.execute(update(IndexState).values(projection_version=Projector.VERSION - 1))
    indexer = Indexer(chain.transport, chain.manifest, sessions)
    assert indexer.reproject() == 0  # nothing replayed: the index is dropped instead
    with sessions() as session:
        assert session.get(IndexState, 1) is None
        assert session.scalar(select(func.count()).select_from(EventRecord)) == 0
    indexer.sync()  # rebuilt from the chain, event for event
    assert _dump(sessions) == before
    with sessions() as session:
        assert session.get(LicenceRow, licence_id) is not None


def test_an_index_made_before_projection_versions_is_upgraded_and_replayed(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    path = tmp_path / "index.sqlite"
    _, sessions = _built(client, chain, path)
    before = _dump(sessions)
    db = sqlite3.connect(path)  # the index as main made it: no projection_version, an older licences table
    db.execute("ALTER TABLE index_state DROP COLUMN projection_version")
    db.execute("ALTER TABLE licences DROP COLUMN scope_breaches")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    with upgraded() as session:
        state = session.get(IndexState, 1)
        assert state is not None and state.projection_version is None  # column added, value unknown
        assert session.scalar(select(func.count()).select_from(LicenceRow)) == 0  # table made again
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION  # type: ignore[union-attr]


def test_an_index_built_before_calendars_is_rebuilt_and_replayed(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    """Projector version 1 knew fixed periods only: no per-year parts of reports, no due dates, no
    bucket years. Such an index gets the new tables and columns and replays its stored events."""
    path = tmp_path / "index.sqlite"
    _, sessions = _built(client, chain, path)
    before = _dump(sessions)
    assert before["settlement_years"]  # the report's part in contract year 0
    db = sqlite3.connect(path)  # the index as projector version 1 left it
    db.execute("DROP TABLE settlement_years")
    for column in ("due_at", "year", "reported_late", "paid_late"):
        db.execute(f"ALTER TABLE settlements DROP COLUMN {column}")
    db.execute("ALTER TABLE buckets DROP COLUMN year")
    db.execute("UPDATE index_state SET projection_version = 1")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    offline = _offline(chain.manifest, upgraded, Projector)
    assert offline.reproject() > 0  # version 1 != 3: replayed from the stored events, no chain
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION == 9  # type: ignore[union-attr]


def test_an_index_built_before_adjustments_is_rebuilt_and_replayed(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    """Projector version 2 knew neither returns, credits nor adjustments: such an index gets the
    returns table and the new columns, and replays its stored events (which hold them all)."""
    licence_id = register(client, terms_json(chain, chain_time(chain) - 65 * DAY))
    fund(chain, licence_id, 50 * USDX)
    original = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 4, 40 * USDX)])  # 8%: 3.2
    # 10 returned against nothing sold, corrected from the original: -0.8, carried as credit
    settle(chain, licence_id, 0, [], sequence=2, returned=(bucket("US", "apparel", "retail", 1, 10 * USDX),),
           corrects=original)  # fmt: skip
    path = tmp_path / "index.sqlite"
    sessions = make_sessions(make_engine(path))
    Indexer(chain.transport, chain.manifest, sessions).sync()
    before = _dump(sessions)
    assert before["returns"]
    with sessions() as session:
        licence = session.get(LicenceRow, licence_id)
        assert licence is not None and licence.credit == 800_000
    db = sqlite3.connect(path)  # the index as projector version 2 left it
    db.execute("DROP TABLE returns")
    for column in ("corrects", "corrected_by", "credit_carried", "credit_applied", "priced", "returned_gross"):
        db.execute(f"ALTER TABLE settlements DROP COLUMN {column}")
    db.execute("ALTER TABLE licences DROP COLUMN credit")
    db.execute("UPDATE index_state SET projection_version = 2")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0  # 2 != 3: replayed, no chain
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION == 9  # type: ignore[union-attr]


def test_an_index_built_before_conversions_is_rebuilt_and_replayed(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    """Projector version 5 knew neither the conversion clause nor conversions: such an index gets
    the conversions table and the licences' fx columns, and replays its stored events."""
    start = chain_time(chain) - 31 * DAY
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "period-end", "source": "ECB"}}
    licence_id = register(client, terms)
    fund(chain, licence_id, 50 * USDX)
    day = -(-start // DAY) * DAY  # the period's first 00:00 UTC
    # JPY 1,500 at 0.0067 USD: floor(1,500 * 0.0067 * 10^6) = 10,050,000 token units.
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 10_050_000)],
                           fx=(Conversion(0, "JPY", 0, day, 67 * 10**14, 1_500, 0),))  # fmt: skip
    path = tmp_path / "index.sqlite"
    sessions = make_sessions(make_engine(path))
    Indexer(chain.transport, chain.manifest, sessions).sync()
    before = _dump(sessions)
    mine = [c for c in before["conversions"] if c[0] == settlement_id]  # (settlement, position, bucket, ...)
    assert [(c[1], c[2], c[3], c[7], c[9]) for c in mine] == [(0, 0, "JPY", 1_500, 10_050_000)]
    with sessions() as session:
        licence = session.get(LicenceRow, licence_id)
        assert licence is not None and (licence.fx_rule, licence.fx_source) == (2, "ECB")
    db = sqlite3.connect(path)  # the index as projector version 5 left it
    db.execute("DROP TABLE conversions")
    db.execute("ALTER TABLE settlements DROP COLUMN conversion_count")
    for column in ("fx_rule", "fx_source"):
        db.execute(f"ALTER TABLE licences DROP COLUMN {column}")
    db.execute("UPDATE index_state SET projection_version = 5")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0  # 5 != 6: replayed, no chain
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION == 9  # type: ignore[union-attr]


def test_an_index_built_before_escalation_is_rebuilt_and_replayed(
    client: TestClient, chain: Chain, services: Services, tmp_path: Path
) -> None:
    """Projector version 6 had no escalation tables: such an index gets them and replays its
    stored events (the clause's EscalationAttached among them) without the chain."""
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    services.indexer.sync()  # the draft reads the token's decimals from the API's index
    clause = {"index": "CPI-U", "base_month": "2023-09", "escalates": ["rates"], "round_to": "0.01"}
    draft = client.post(f"/licences/{licence_id}/escalation/drafts", json={"clause": clause}).json()
    attached = client.post(
        f"/licences/{licence_id}/escalation",
        json={"clause": draft["clause"], "deadline": draft["deadline"],
              "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert attached.status_code == 201, attached.text
    path = tmp_path / "index.sqlite"
    sessions = make_sessions(make_engine(path))
    Indexer(chain.transport, chain.manifest, sessions).sync()
    before = _dump(sessions)
    assert [(c[0], c[1], c[4]) for c in before["escalation_clauses"] if c[0] == licence_id] == [
        (licence_id, "CPI-U", 8)
    ]
    db = sqlite3.connect(path)  # the index as projector version 6 left it
    db.execute("DROP TABLE escalation_clauses")
    db.execute("DROP TABLE escalation_steps")
    db.execute("UPDATE index_state SET projection_version = 6")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0  # 6 != 7: replayed, no chain
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION == 9  # type: ignore[union-attr]


def test_an_index_built_before_reviews_is_rebuilt_and_replayed(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    """Projector version 7 had no review tables: such an index gets them and replays its stored
    events (the clause, the opened review and its decline) without the chain."""
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    clause = ReviewClause(benchmark="DATA-LIC-RATE", benchmark_at_signing=4_000_000, move_bps=1_000)
    attach_review(chain, licence_id, clause)
    review_id = fire_review(chain, licence_id, Trigger.BENCHMARK, 4_600_000)
    deadline = chain_time(chain) + DAY
    licensee = role("licensee_apparel")
    digest = chain.reviews.decline_digest(review_id, licensee.address, deadline)
    chain.reviews.decline(review_id, licensee.address, deadline, sign_digest(digest, licensee.key), role("relayer"))
    path = tmp_path / "index.sqlite"
    sessions = make_sessions(make_engine(path))
    Indexer(chain.transport, chain.manifest, sessions).sync()
    before = _dump(sessions)
    assert [(c[0], c[1]) for c in before["review_clauses"] if c[0] == licence_id] == [(licence_id, "DATA-LIC-RATE")]
    (review,) = [r for r in before["reviews"] if r[0] == review_id]
    assert (review[1], review[2]) == (licence_id, "benchmark")
    assert "declined" in review and licensee.address in review
    db = sqlite3.connect(path)  # the index as projector version 7 left it
    db.execute("DROP TABLE review_clauses")
    db.execute("DROP TABLE reviews")
    db.execute("UPDATE index_state SET projection_version = 7")
    db.commit()
    db.close()

    upgraded = make_sessions(make_engine(path))
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0  # 7 != 8: replayed, no chain
    assert _dump(upgraded) == before
    with upgraded() as session:
        assert session.get(IndexState, 1).projection_version == Projector.VERSION == 9  # type: ignore[union-attr]


def test_postgresql_index_gains_the_version_column_in_place(client: TestClient, chain: Chain) -> None:
    url = os.environ.get("API_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("API_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    try:
        engine = make_engine(url)
    except Exception as err:  # driver missing or server unreachable
        pytest.skip(f"PostgreSQL at API_TEST_POSTGRES_URL is not usable: {err}")
    sessions = make_sessions(engine)
    indexer = Indexer(chain.transport, chain.manifest, sessions)
    with sessions() as session, session.begin():
        session.execute(update(IndexState).values(chain_id=0))  # force a rebuild of a reused database
    indexer.sync()
    before = _dump(sessions)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE index_state DROP COLUMN projection_version"))
    engine.dispose()
    upgraded = make_sessions(make_engine(url))
    with upgraded() as session:
        state = session.get(IndexState, 1)
        assert state is not None and state.projection_version is None
    assert _offline(chain.manifest, upgraded, Projector).reproject() > 0
    assert _dump(upgraded) == before


def test_an_index_of_fewer_contracts_is_rebuilt_with_the_ones_it_now_follows(
    client: TestClient, chain: Chain, tmp_path: Path
) -> None:
    # An index made by code that did not follow LicenceFx holds none of its events: replaying its
    # stored events cannot bring a table of fixed rates in, so it is rebuilt from the chain.
    start = chain_time(chain) - 31 * DAY
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "fixed"}}
    licence_id = register(client, terms)
    deadline = chain_time(chain) + DAY
    actions.agree_fixed_rates(
        chain, licence_id, start, {"EUR": 1_080_000_000_000_000_000},
        role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline,
    )  # fmt: skip
    older = chain.manifest.model_copy(
        update={"contracts": {k: v for k, v in chain.manifest.contracts.items() if k != "LicenceFx"}}
    )
    sessions = make_sessions(make_engine(tmp_path / "index.sqlite"))
    Indexer(chain.transport, older, sessions).sync()
    with sessions() as session:
        assert session.scalars(select(FixedRateRow).where(FixedRateRow.licence_id == licence_id)).all() == []
        assert "licencefx" not in str(session.get(IndexState, 1).watched_contracts)  # type: ignore[union-attr]

    Indexer(chain.transport, chain.manifest, sessions).sync()
    with sessions() as session:
        rows = session.scalars(select(FixedRateRow).where(FixedRateRow.licence_id == licence_id)).all()
        assert [(r.version, r.currency, r.effective_from, r.rate) for r in rows] == [
            (0, "EUR", start, 1_080_000_000_000_000_000)
        ]
        state = session.get(IndexState, 1)
        assert state is not None and chain.manifest.contracts["LicenceFx"].address.lower() in str(
            state.watched_contracts
        )
        assert session.get(LicenceRow, licence_id) is not None  # the rest came back with it
