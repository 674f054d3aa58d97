"""Oracle configuration: environment variables with the ORACLE_ prefix, or a .env-style file.

It validates at start-up and fails with a message that names the setting. Keys come from
keystore files (with a password) or the environment; on a local development chain
(:func:`royalty_chain.networks.is_local_chain`: chain id 31337 or 1337) the well-known Anvil
development keys are used when none are given. That fallback is local-only by design: the dev
tooling is imported only then, never on another chain.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from royalty_chain.client import FeeCaps
from royalty_chain.networks import is_local_chain


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


class OracleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORACLE_", env_file=".env", extra="ignore")

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC endpoint of the chain")
    manifest: Path | None = Field(None, description="deployment manifest (default: data/deployments/<chain id>.json)")
    data_dir: Path = Field(Path("data"), description="where the outbox and the inbox live")
    outbox: str | None = Field(
        None,
        description="outbox: a SQLite file, or a PostgreSQL database by SQLAlchemy URL "
        "(postgresql+psycopg://...; default: <data_dir>/oracle/outbox.sqlite)",
    )
    lease_seconds: float = Field(
        15.0,
        gt=0,
        description="the sender lease's time to live: a standby takes over at most this plus one renewal "
        "interval after the holder's last renewal",
    )
    lease_renew_seconds: float = Field(
        5.0, gt=0, description="how often the holder renews the sender lease, and a standby tries to take it"
    )
    instance_id: str | None = Field(
        None, description="this instance's name in the sender lease (default: host:pid:random)"
    )
    signer_keys: SecretStr | None = Field(None, description="comma-separated 0x private keys of oracle signers")
    signer_keystores: list[Path] = Field(default_factory=list, description="keystore files of oracle signers")
    keystore_password: SecretStr | None = None
    sender_key: SecretStr | None = Field(None, description="0x private key of the account that sends reports")
    grace_seconds: int = Field(0, ge=0, description="wait this long after a period ends for late lines")
    report_ttl_seconds: int = Field(86_400, gt=60, description="a signed report's deadline from signing")
    batch_size: int = Field(25, ge=1, le=200, description="reports per settlement transaction")
    poll_seconds: float = Field(2.0, gt=0)
    inbox_max_attempts: int = Field(
        3, ge=1, le=100, description="attempts at an inbox feed before the watch service quarantines it"
    )
    nil_reports: bool = Field(
        True, description="sign a nil report for each ended period of a served licence without sales"
    )
    nil_reports_per_licence: int = Field(4, ge=1, le=100, description="nil reports built per licence per round at most")
    max_fee_per_gas: int = Field(
        200 * 10**9, ge=0, description="most the sender pays per gas (wei), base fee and tip together"
    )
    max_priority_fee_per_gas: int = Field(5 * 10**9, ge=0, description="most tip per gas (wei) the sender pays")

    def fee_caps(self) -> FeeCaps:
        return FeeCaps(self.max_fee_per_gas, self.max_priority_fee_per_gas)

    @field_validator("rpc_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("ORACLE_RPC_URL must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _lease(self) -> OracleSettings:
        if self.lease_renew_seconds * 2 > self.lease_seconds:
            raise ValueError(
                f"ORACLE_LEASE_RENEW_SECONDS ({self.lease_renew_seconds}) must be at most half of "
                f"ORACLE_LEASE_SECONDS ({self.lease_seconds}): a renewal may fail once without losing the lease"
            )
        return self

    @property
    def outbox_path(self) -> Path | str:
        """The outbox's SQLite file, or its PostgreSQL URL."""
        if self.outbox is None:
            return self.data_dir / "oracle" / "outbox.sqlite"
        return self.outbox if "://" in self.outbox else Path(self.outbox)

    def manifest_path(self, chain_id: int) -> Path:
        return self.manifest or self.data_dir / "deployments" / f"{chain_id}.json"

    def signers(self, chain_id: int) -> list[LocalAccount]:
        accounts: list[LocalAccount] = []
        if self.signer_keys is not None:
            for key in self.signer_keys.get_secret_value().split(","):
                if key.strip():
                    accounts.append(Account.from_key(key.strip()))
        for path in self.signer_keystores:
            if self.keystore_password is None:
                raise SettingsError("ORACLE_KEYSTORE_PASSWORD is needed to open ORACLE_SIGNER_KEYSTORES")
            try:
                encrypted = json.loads(path.read_text())
                secret = Account.decrypt(encrypted, self.keystore_password.get_secret_value())
            except (OSError, ValueError) as err:
                raise SettingsError(f"ORACLE_SIGNER_KEYSTORES: cannot open {path}: {err}") from err
            accounts.append(Account.from_key(secret))
        if not accounts:
            if not is_local_chain(chain_id):
                raise SettingsError("ORACLE_SIGNER_KEYS or ORACLE_SIGNER_KEYSTORES must name the oracle signers")
            from royalty_chain.dev.keys import role  # the local-only fallback

            accounts = [role("oracle1"), role("oracle2"), role("oracle3")]
        return accounts

    def sender(self, chain_id: int) -> LocalAccount:
        if self.sender_key is not None:
            account: LocalAccount = Account.from_key(self.sender_key.get_secret_value())
            return account
        if not is_local_chain(chain_id):
            raise SettingsError("ORACLE_SENDER_KEY must be set to send reports on this chain")
        from royalty_chain.dev.keys import role  # the local-only fallback

        return role("oracle_sender")
