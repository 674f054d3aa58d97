"""The API's start-up: a node that does not answer is named within the start-up wait."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import api_settings

import api.services
from api.services import StartupError, build_services
from royalty_chain.client import Chain
from royalty_chain.dev.devnet import free_port


def test_a_silent_node_fails_start_up_naming_the_setting(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.services, "STARTUP_WAIT", 1.0)
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StartupError, match=f"^API_RPC_URL {url} does not answer: no JSON-RPC answer from {url}"):
        build_services(api_settings(chain, tmp_path, rpc_url=url))
    assert time.monotonic() - started < 5  # the start-up wait, not the transport's 50 s of backoff
