"""Configuration of the API service: environment variables with the prefix ``API_``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore")

    rpc_url: str = Field(default="http://127.0.0.1:8545", description="JSON-RPC endpoint of the chain")
    manifest: Path | None = Field(
        default=None, description="deployment manifest; default <data_dir>/deployments/<chain id>.json"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL or SQLite file path; default <data_dir>/index.sqlite"
    )
    relayer_key: SecretStr | None = Field(
        default=None, description="private key of the relayer; on a local dev chain the dev role 'relayer'"
    )
    operator_token: SecretStr | None = Field(default=None, description="bearer token of oracle operators")
    data_dir: Path = Field(default=Path("data"), description="where the index and manifests live")
    poll_seconds: float = Field(default=1.0, gt=0, description="seconds between indexer rounds")
    index_batch_blocks: int = Field(default=2_000, ge=1, description="blocks per eth_getLogs range")
    run_indexer: bool = Field(default=True, description="index in the background while serving")
    max_feed_bytes: int = Field(default=50_000_000, ge=1, description="largest feed upload accepted")
    oracle_outbox: Path | None = Field(
        default=None,
        description="the oracle's outbox (SQLite); when set, line proofs are served and uploads go to the oracle",
    )

    def database(self) -> str:
        return self.database_url or str(self.data_dir / "index.sqlite")
