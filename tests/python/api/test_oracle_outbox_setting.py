"""API_ORACLE_OUTBOX names the oracle's outbox: the API opens it, never creates it, and closes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from apikit import OPERATOR_TOKEN
from pydantic import SecretStr

from api.services import StartupError, build_services
from api.settings import ApiSettings
from outbox import Outbox
from royalty_chain.client import Chain


def api_settings(chain: Chain, tmp: Path, oracle_outbox: Path) -> ApiSettings:
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
