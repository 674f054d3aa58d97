"""Fixtures: the API on the session's Anvil, with its own index and the indexer running; the same
on the session's Ganache, and ``node``, which runs a test on each of the two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apikit import OPERATOR_TOKEN, RELAY_HEADERS, Node, relay_callers_file, served
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.services import Services, build_services
from api.settings import ApiSettings
from royalty_chain.client import Chain

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def api_settings(chain: Chain, tmp: Path, **overrides: object) -> ApiSettings:
    manifest = tmp / "deployment.json"
    if not manifest.exists():
        chain.manifest.save(manifest)
    values: dict[str, object] = {
        "rpc_url": chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        "manifest": manifest,
        "database_url": str(tmp / "index.sqlite"),
        "operator_token": SecretStr(OPERATOR_TOKEN),
        "data_dir": tmp,
        "poll_seconds": 0.2,
        # The session's API serves every API test, which relay hundreds of actions within minutes:
        # quotas are tested apart (test_relay_guard), with callers files of their own.
        "relay_callers_file": relay_callers_file(tmp, tx_per_minute=100_000, gas_per_day=10**15),
    }
    values.update(overrides)
    return ApiSettings(**values)  # type: ignore[arg-type]


def _services(chain: Chain, tmp: Path) -> Iterator[Services]:
    built = build_services(api_settings(chain, tmp))
    yield built
    built.close()


def _client(services: Services) -> Iterator[TestClient]:
    app = create_app(services=services)
    with TestClient(app, raise_server_exceptions=False, headers=RELAY_HEADERS) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def services(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    yield from _services(chain, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
def client(services: Services) -> Iterator[TestClient]:
    yield from _client(services)


@pytest.fixture(scope="session")
def ganache_services(ganache_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    yield from _services(ganache_chain, tmp_path_factory.mktemp("api-ganache"))


@pytest.fixture(scope="session")
def ganache_client(ganache_services: Services) -> Iterator[TestClient]:
    yield from _client(ganache_services)


NODE_FIXTURES = {"anvil": ("chain", "services", "client"),
                 "ganache": ("ganache_chain", "ganache_services", "ganache_client")}  # fmt: skip


@pytest.fixture(params=list(NODE_FIXTURES))
def node(request: pytest.FixtureRequest) -> Node:
    """The session's Anvil, then its Ganache: a test taking ``node`` runs on both."""
    chain, services, client = (request.getfixturevalue(name) for name in NODE_FIXTURES[request.param])
    return Node(request.param, chain, services, client)


@pytest.fixture(scope="session")
def server(services: Services) -> Iterator[str]:
    """The app served by uvicorn on a free port (for Chromium and schemathesis)."""
    with served(services) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
