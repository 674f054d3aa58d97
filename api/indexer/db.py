"""Engines and sessions for the index: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.schema import upgrade_schema
from outbox.sqlite import configure_sqlite


def database_url(url_or_path: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (a path means SQLite)."""
    text = str(url_or_path)
    if "://" in text:
        return text
    path = Path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass(frozen=True, slots=True)
class PoolSize:
    """The index's connection pool: ``size`` kept, ``overflow`` more on demand, and how long a
    checkout waits (``timeout`` seconds) before SQLAlchemy's TimeoutError (a 503, api.errors)."""

    size: int = 5
    overflow: int = 10
    timeout: float = 30.0  # SQLAlchemy's defaults, kept for callers that do not size the pool


def make_engine(url_or_path: str | Path, pool: PoolSize | None = None) -> Engine:
    """An engine on the index, its tables brought to the models' (``api.indexer.schema``)."""
    url = database_url(url_or_path)
    pool = pool or PoolSize()
    sized: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.overflow, "pool_timeout": pool.timeout}
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")  # one shared connection: no pool to size
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **({} if memory else sized)
        )
        # WAL lets the API read while the indexer writes; NORMAL sync is safe with WAL.
        configure_sqlite(engine, synchronous="NORMAL", busy_timeout_ms=30_000)
    else:
        engine = create_engine(url, pool_pre_ping=True, **sized)
    upgrade_schema(engine)
    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
