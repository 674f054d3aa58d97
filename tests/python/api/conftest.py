"""Fixtures: the API on the session's Anvil, with its own index and the indexer running."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from apikit import OPERATOR_TOKEN
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.services import Services, build_services
from api.settings import ApiSettings
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import free_port

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
    }
    values.update(overrides)
    return ApiSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def services(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    built = build_services(api_settings(chain, tmp_path_factory.mktemp("api")))
    yield built
    built.close()


@pytest.fixture(scope="session")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def server(services: Services) -> Iterator[str]:
    """The app served by uvicorn on a free port (for Chromium and schemathesis)."""
    port = free_port()
    config = uvicorn.Config(create_app(services=services), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
