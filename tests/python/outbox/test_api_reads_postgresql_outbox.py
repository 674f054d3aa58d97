"""API_ORACLE_OUTBOX by URL: the API reads an oracle outbox kept in PostgreSQL (ORACLE_OUTBOX's
other form) as it reads the SQLite one, never creating or upgrading it, and a database that is no
outbox or does not answer stops it at start-up with a message naming the setting (no password)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import make_url

from api.services import StartupError, build_services
from api.settings import ApiSettings
from outbox import Outbox
from royalty_chain.client import Chain


def _settings(chain: Chain, tmp: Path, oracle_outbox: str) -> ApiSettings:
    manifest = tmp / "deployment.json"
    chain.manifest.save(manifest)
    return ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest,
        database_url=str(tmp / "index.sqlite"),
        operator_token=SecretStr("t" * 32),
        data_dir=tmp,
        run_indexer=False,
        oracle_outbox=oracle_outbox,
    )


def test_the_api_opens_the_oracles_postgresql_outbox_by_url(chain: Chain, tmp_path: Path, pg_url: str) -> None:
    oracle_side = Outbox(pg_url)  # the oracle made it (ORACLE_OUTBOX=<url>)
    try:
        settings = _settings(chain, tmp_path, pg_url)
        assert settings.oracle_outbox_location() == pg_url
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
    chain: Chain, tmp_path: Path, pg_url: str
) -> None:
    # An empty database: the API creates nothing in it (the oracle owns the schema).
    with pytest.raises(StartupError, match=r"^API_ORACLE_OUTBOX: .* is not an oracle outbox \(tables: none\)"):
        build_services(_settings(chain, tmp_path, pg_url))
    gone = make_url(pg_url).set(port=1, password="sekret").render_as_string(hide_password=False)
    with pytest.raises(StartupError, match=r"^API_ORACLE_OUTBOX: cannot open ") as raised:
        build_services(_settings(chain, tmp_path, gone))
    assert "sekret" not in str(raised.value) and "***" in str(raised.value)
    # A path stays a path.
    assert _settings(chain, tmp_path, str(tmp_path / "o.sqlite")).oracle_outbox_location() == tmp_path / "o.sqlite"
