"""ape fixtures: the contracts deployed on ape's local Anvil, and named actors."""

from __future__ import annotations

import pytest

from royalty_chain.codes import encode_scope


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
    # The ledger runs settlement and disputes in these modules (deployed apart: nested, they would
    # take the ledger's creation code past EIP-3860's limit).
    fx = admin.deploy(project.LicenceFx, registry.address)
    settlement = admin.deploy(project.SettlementModule, registry.address, registry.clock(), fx.address)
    disputes = admin.deploy(project.DisputeModule, registry.address, registry.clock())
    ledger = admin.deploy(project.RoyaltyLedger, registry.address, admin.address, settlement.address, disputes.address)
    registry.setLedger(ledger.address, sender=admin)
    token = admin.deploy(project.TestToken, "Demo US Dollar", "USDX", 6)
    registry.setTokenAllowed(token.address, True, sender=admin)
    return registry, ledger, token


@pytest.fixture(scope="session")
def scope():
    return encode_scope(["US", "CA", "GB", "DE", "FR"], ["apparel", "toys"], ["retail", "online"])
