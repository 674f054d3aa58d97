"""Keeper configuration: environment variables with the KEEPER_ prefix, or a .env-style file.

The keeper signs with its own key (``KEEPER_KEY``), never the oracle's sender or signer keys: its
transactions are anyone's to send, and a separate account keeps its nonces out of the oracle
sender's pipeline. On a local development chain the development key of the ``keeper`` role is
used when none is given (imported only then, like the oracle's fallback).
"""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from oracle.settings import SettingsError
from royalty_chain.client import FeeCaps
from royalty_chain.networks import is_local_chain


class KeeperSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEEPER_", env_file=".env", extra="ignore")

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC endpoint of the chain")
    manifest: Path | None = Field(None, description="deployment manifest (default: data/deployments/<chain id>.json)")
    data_dir: Path = Field(Path("data"), description="where the deployment manifest lives")
    key: SecretStr | None = Field(None, description="0x private key of the keeper's own account")
    interval_seconds: float = Field(15.0, gt=0, description="sleep between two rounds")
    max_fee_per_gas: int = Field(
        200 * 10**9,
        gt=0,
        description="most the keeper pays per gas (wei), base fee and tip together; a round whose "
        "fee would exceed it sends nothing and waits for the next",
    )
    max_priority_fee_per_gas: int = Field(5 * 10**9, ge=0, description="most tip per gas (wei) the keeper pays")
    receipt_timeout_seconds: float = Field(120.0, gt=0, description="how long to wait for a transaction's receipt")
    log_block_span: int = Field(2_000, ge=1, description="blocks per eth_getLogs page")

    @field_validator("rpc_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("KEEPER_RPC_URL must be an http(s) URL")
        return value

    def fee_caps(self) -> FeeCaps:
        return FeeCaps(self.max_fee_per_gas, self.max_priority_fee_per_gas)

    def manifest_path(self, chain_id: int) -> Path:
        return self.manifest or self.data_dir / "deployments" / f"{chain_id}.json"

    def account(self, chain_id: int) -> LocalAccount:
        if self.key is not None:
            try:
                account: LocalAccount = Account.from_key(self.key.get_secret_value())
            except ValueError as err:
                raise SettingsError("KEEPER_KEY is not a valid private key") from err
            return account
        if not is_local_chain(chain_id):
            raise SettingsError("KEEPER_KEY must be set to send the keeper's transactions on this chain")
        from royalty_chain.dev.keys import role  # the local-only fallback

        return role("keeper")
