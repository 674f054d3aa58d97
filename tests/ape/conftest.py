"""ape fixtures: the contracts deployed on ape's local Anvil, and named actors."""

from __future__ import annotations

import pytest
from ape_foundry.provider import FoundryProvider

from royalty_chain.codes import encode_scope

# LicenceRegistry and RoyaltyLedger exceed EIP-170's 24,576 bytes since the calendar rule moved on
# chain: ape's Anvil accepts them up to 32 KiB, as royalty_chain.dev.devnet's does, until they
# are split or shrunk (ape-foundry has no setting for it, so its command line gains the flag).
_anvil_command = FoundryProvider.build_command


def _with_code_size_limit(provider: FoundryProvider) -> list[str]:
    return [*_anvil_command(provider), "--code-size-limit", "32768"]


FoundryProvider.build_command = _with_code_size_limit  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def actors(accounts):
    names = ["relayer", "licensor", "licensee", "co_owner", "tax", "arbiter", "oracle1", "oracle2", "oracle3"]
    return {name: accounts[i + 1] for i, name in enumerate(names)}


@pytest.fixture(scope="module")
def deployed(project, admin):
    registry = admin.deploy(project.LicenceRegistry, admin.address)
    ledger = admin.deploy(project.RoyaltyLedger, registry.address, admin.address)
    registry.setLedger(ledger.address, sender=admin)
    token = admin.deploy(project.TestToken, "Demo US Dollar", "USDX", 6)
    registry.setTokenAllowed(token.address, True, sender=admin)
    return registry, ledger, token


@pytest.fixture(scope="session")
def scope():
    return encode_scope(["US", "CA", "GB", "DE", "FR"], ["apparel", "toys"], ["retail", "online"])
