"""API_ORACLE_OUTBOX names the oracle's outbox, a SQLite file or a PostgreSQL database by URL (as
ORACLE_OUTBOX): the API opens it, never creates or upgrades it, and closes it; a location that is
no outbox or does not answer stops it at start-up naming the setting (and no password)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from apikit import OPERATOR_TOKEN
from pydantic import SecretStr
from sqlalchemy import make_url

from api.services import StartupError, build_services
from api.settings import ApiSettings
from outbox import Outbox
from royalty_chain.client import Chain

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "outbox"))
from pg import pg_server, pg_url  # noqa: F401  (fixtures)


def api_settings(chain: Chain, tmp: Path, oracle_outbox: Path | str) -> ApiSettings:
    manifest = tmp / "deployment.json"
    chain.manifest.save(manifest)
    return ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest,
        database_url=str(tmp / "index.sqlite"),
        operator_token=SecretStr(OPERATOR_TOKEN),
        data_dir=tmp,
        run_indexer=False,
        oracle_outbox=oracle_outbox,
    )


def test_a_mistyped_outbox_path_stops_the_api_and_creates_nothing(chain: Chain, tmp_path: Path) -> None:
    mistyped = tmp_path / "orcale" / "outbox.sqlite"
    with pytest.raises(StartupError, match=r"API_ORACLE_OUTBOX: there is no outbox at .*orcale/outbox\.sqlite"):
        build_services(api_settings(chain, tmp_path, oracle_outbox=mistyped))
    assert not mistyped.parent.exists()


def test_the_outbox_the_oracle_made_is_opened_and_closed_with_the_services(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "oracle" / "outbox.sqlite"
    Outbox(path).close()  # the oracle made it
    services = build_services(api_settings(chain, tmp_path, oracle_outbox=path))
    assert services.outbox is not None
    with services.outbox.connect() as conn:
        assert services.outbox.counts(conn) == {}
    assert services.outbox.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    services.close()
    assert services.outbox.engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_the_api_opens_the_oracles_postgresql_outbox_by_url(
    chain: Chain, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue("pg_url")
    oracle_side = Outbox(url)  # the oracle made it (ORACLE_OUTBOX=<url>)
    try:
        settings = api_settings(chain, tmp_path, oracle_outbox=url)
        assert settings.oracle_outbox_location() == url
        services = build_services(settings)
        try:
            assert services.outbox is not None and services.outbox.dialect == "postgresql"
            with services.outbox.connect() as conn:
                assert services.outbox.counts(conn) == {}
            assert type(services.line_store).__name__ == "OutboxLineStore"
        finally:
            services.close()
    finally:
        oracle_side.close()


def test_a_database_that_is_no_outbox_or_does_not_answer_stops_the_api(
    chain: Chain, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue("pg_url")
    # An empty database: the API creates nothing in it (the oracle owns the schema).
    with pytest.raises(StartupError, match=r"^API_ORACLE_OUTBOX: .* is not an oracle outbox \(tables: none\)"):
        build_services(api_settings(chain, tmp_path, oracle_outbox=url))
    gone = make_url(url).set(port=1, password="sekret").render_as_string(hide_password=False)
    with pytest.raises(StartupError, match=r"^API_ORACLE_OUTBOX: cannot open ") as raised:
        build_services(api_settings(chain, tmp_path, oracle_outbox=gone))
    assert "sekret" not in str(raised.value) and "***" in str(raised.value)
    # A path stays a path.
    assert (
        api_settings(chain, tmp_path, oracle_outbox=str(tmp_path / "o.sqlite")).oracle_outbox_location()
        == tmp_path / "o.sqlite"
    )
