"""Shared fixtures: real local chains with the contracts deployed, and licence helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from royalty_chain.client import Chain
from royalty_chain.dev.devnet import LocalChain, deploy, start_anvil, start_ganache


def _chain(local: LocalChain, tmp: Path) -> Chain:
    manifest = deploy(local.url, tmp / "deployment.json")
    return Chain(local.url, manifest)


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    local = start_anvil()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def chain(anvil: LocalChain, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The contracts deployed on a session-wide Anvil (tests use fresh licences, not snapshots)."""
    return _chain(anvil, tmp_path_factory.mktemp("anvil"))


@pytest.fixture(scope="session")
def ganache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    local = start_ganache()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def ganache_chain(ganache: LocalChain, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    return _chain(ganache, tmp_path_factory.mktemp("ganache"))
