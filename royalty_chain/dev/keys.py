"""Anvil's well-known development accounts, named by the role they play in local runs.

These are the public test keys of the mnemonic "test test ... junk" that Anvil (and Ganache,
when started with it) funds by default. They are for a local chain only: on any other network
each party brings its own key (keystore file or environment), and nothing here is used.
"""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 20

# Role -> account index. The demo and the tests use the same names.
ROLES: dict[str, int] = {
    "deployer": 0,
    "relayer": 1,
    "oracle_sender": 2,
    "oracle1": 3,
    "oracle2": 4,
    "oracle3": 5,
    "arbiter": 6,
    "tax_authority": 7,
    "licensor_brand": 8,
    "licensee_apparel": 9,
    "licensor_patent": 10,
    "co_inventor": 11,
    "licensee_devices": 12,
    "licensor_data": 13,
    "licensee_ai_lab": 14,
    "licensor_model": 15,
    "licensee_app": 16,
    "co_owner": 17,
    "keeper": 18,
}


@cache
def dev_account(index: int) -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def role(name: str) -> LocalAccount:
    try:
        return dev_account(ROLES[name])
    except KeyError as err:
        raise KeyError(f"unknown development role {name!r}; known: {', '.join(ROLES)}") from err


def dev_account_of(address: str) -> LocalAccount:
    """The development account with this address (the local demo and tests sign as parties)."""
    for index in range(DEV_ACCOUNT_COUNT):
        account = dev_account(index)
        if account.address.lower() == address.lower():
            return account
    raise KeyError(f"{address} is not one of the {DEV_ACCOUNT_COUNT} development accounts")
