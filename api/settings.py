"""Configuration of the API service: environment variables with the prefix ``API_``.

The worker model (see api/README.md, "Under load"): one process, one event loop, and a pool of
``WORKER_THREADS`` threads for the routes that read the index. At most
``MAX_CONCURRENT_REQUESTS`` requests (and ``MAX_CONCURRENT_UPLOADS`` feed uploads) work at once;
each holds at most one connection of the index's pool, so the pool is sized to never run out. A
request that finds every slot taken waits in a bounded queue, and is answered 503 with
``Retry-After`` when the queue is full or its wait is over. ``/health`` needs neither a slot, a
thread nor a connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Connections the API holds besides its requests': the indexer's round and the index-status watch.
BACKGROUND_CONNECTIONS = 2


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
    max_upload_bytes: int = Field(
        default=4_000_000_000, ge=1, description="largest feed sent in chunks through /feeds/uploads"
    )
    upload_expiry_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="a chunked upload idle this long (no chunk, no completion) expires and its bytes are removed",
    )
    oracle_inbox: Path | None = Field(
        default=None,
        description="the oracle's inbox folder; when set, /feeds/uploads stages large feeds there and hands them in",
    )
    oracle_outbox: Path | str | None = Field(
        default=None,
        description="the oracle's outbox: its SQLite file, or its PostgreSQL database by SQLAlchemy URL "
        "(postgresql+psycopg://..., as ORACLE_OUTBOX); when set, line proofs are served and uploads go to the oracle",
    )

    # ---------------------------------------------------------------- who may relay, and how much
    relay_callers_file: Path | None = Field(
        default=None,
        description="JSON file of the organisations that may relay: name, SHA-256 of their API key, quotas "
        "(see api/README.md, 'Relaying')",
    )
    relay_allow_hosts: list[str] = Field(
        default_factory=list,
        description="client addresses relayed without a key (local use only: refused on a public chain)",
    )
    relay_tx_per_minute: int = Field(default=30, ge=1, description="relayed transactions per caller per minute")
    relay_gas_per_day: int = Field(default=50_000_000, ge=1, description="gas the relayer spends per caller per day")
    relay_usage_file: Path | None = Field(
        default=None, description="SQLite file counting each caller's relays; default <data_dir>/relay-usage.sqlite"
    )
    relay_deadline_margin_seconds: int = Field(
        default=30, ge=0, description="a relayed consent's deadline must be this far past the chain's time"
    )
    relay_max_payees: int = Field(default=20, ge=1, description="most payees in relayed terms")
    relay_max_assets: int = Field(default=50, ge=1, description="most asset ids in relayed terms")
    relay_max_oracles: int = Field(default=10, ge=1, description="most oracle signers in relayed terms")
    relay_max_tiers: int = Field(default=20, ge=1, description="most tiers (and field rates) in a relayed schedule")
    relay_max_fee_per_gas: int = Field(
        default=200 * 10**9, ge=0, description="most the relayer pays per gas (wei), base fee and tip together"
    )
    relay_max_priority_fee_per_gas: int = Field(
        default=5 * 10**9, ge=0, description="most tip per gas (wei) the relayer pays"
    )

    # ---------------------------------------------------------------- under load
    max_concurrent_requests: int = Field(
        default=8, ge=0, description="requests at work at once (reads and relays); 0: no limit (not for production)"
    )
    max_queued_requests: int = Field(default=512, ge=0, description="requests waiting for a slot; more get 503")
    queue_timeout_seconds: float = Field(default=10.0, gt=0, description="longest wait for a slot before a 503")
    max_concurrent_uploads: int = Field(
        default=2, ge=0, description="feed uploads judged at once (CPU-bound); 0: no limit (not for production)"
    )
    max_queued_uploads: int = Field(default=64, ge=0, description="uploads waiting for a slot; more get 503")
    upload_queue_timeout_seconds: float = Field(default=60.0, gt=0, description="longest wait of an upload")
    retry_after_seconds: int = Field(default=2, ge=1, description="Retry-After of a 503 when the API is busy")
    worker_threads: int = Field(default=40, ge=1, description="threads that run the routes reading the index")
    db_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="connections the index's pool keeps; default MAX_CONCURRENT_REQUESTS + MAX_CONCURRENT_UPLOADS + 2",
    )
    db_max_overflow: int = Field(default=0, ge=0, description="connections the pool may open beyond its size")
    db_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, description="longest wait for a pool connection; then 503 with Retry-After"
    )

    # ---------------------------------------------------------------- logs
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="least level logged")
    log_format: Literal["keyvalue", "json"] = Field(default="keyvalue", description="one event per line, as")
    log_file: Path | None = Field(default=None, description="log to this file (rotated by size) instead of stderr")
    log_max_bytes: int = Field(default=10_000_000, ge=10_000, description="size at which the log file rotates")
    log_backups: int = Field(default=5, ge=1, description="rotated log files kept (<file>.1 ... <file>.N)")

    def database(self) -> str:
        return self.database_url or str(self.data_dir / "index.sqlite")

    def relay_usage(self) -> Path:
        return self.relay_usage_file or self.data_dir / "relay-usage.sqlite"

    def oracle_outbox_location(self) -> Path | str | None:
        """The outbox as the outbox package opens it: a URL as text, anything else a path."""
        value = self.oracle_outbox
        if value is None or isinstance(value, Path):
            return value
        return value if "://" in value else Path(value)

    def pool_size(self) -> int:
        """Connections the index's pool keeps: enough for every slot and the background work."""
        if self.db_pool_size is not None:
            return self.db_pool_size
        return max(self.max_concurrent_requests + self.max_concurrent_uploads + BACKGROUND_CONNECTIONS, 5)

    @model_validator(mode="after")
    def _pool_holds_every_slot(self) -> ApiSettings:
        slots = self.max_concurrent_requests + self.max_concurrent_uploads
        limited = self.max_concurrent_requests > 0 and self.max_concurrent_uploads > 0
        if limited and self.db_pool_size is not None:
            connections = self.db_pool_size + self.db_max_overflow
            if connections < slots + BACKGROUND_CONNECTIONS:
                raise ValueError(
                    f"API_DB_POOL_SIZE + API_DB_MAX_OVERFLOW ({connections}) must be at least "
                    f"API_MAX_CONCURRENT_REQUESTS + API_MAX_CONCURRENT_UPLOADS + {BACKGROUND_CONNECTIONS} "
                    f"({slots + BACKGROUND_CONNECTIONS}): every request at work holds one connection"
                )
        if limited and self.worker_threads < slots:
            raise ValueError(
                f"API_WORKER_THREADS ({self.worker_threads}) must be at least API_MAX_CONCURRENT_REQUESTS + "
                f"API_MAX_CONCURRENT_UPLOADS ({slots}): every request at work may need a thread"
            )
        return self
