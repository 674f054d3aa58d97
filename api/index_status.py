"""How far the index got, kept in memory for ``/health``.

``/health`` must answer within a second however busy the API is, so it reads no table and takes
no worker thread and no pool connection: it reports this snapshot, which a background task
(:meth:`IndexStatus.watch`, started by the app's lifespan) refreshes from ``index_state`` every
``poll_seconds`` (at most every second). When the refresh itself cannot read the index, the
snapshot says since when.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.models import IndexState

log = structlog.get_logger("api.index_status")
STALE_AFTER = 10.0
"""Seconds without a successful refresh after which /health reports the index status as unknown."""


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    chain_id: int
    head_block: int
    indexed_block: int
    events_indexed: int
    reorgs: int
    resets: int


class IndexStatus:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.snapshot: IndexSnapshot | None = None
        self.refreshed_at: float | None = None  # time.monotonic() of the last successful read
        self.refresh_error: str | None = None

    def refresh(self) -> None:
        """Reads ``index_state`` (blocking: run it in a thread)."""
        try:
            with self._sessions() as session:
                state = session.scalar(select(IndexState).where(IndexState.id == 1))
        except Exception as err:  # any database failure: /health says so, the watch goes on
            self.refresh_error = f"{type(err).__name__}: {str(err)[:200]}"
            return
        self.snapshot = (
            None
            if state is None
            else IndexSnapshot(
                chain_id=state.chain_id,
                head_block=state.head_block,
                indexed_block=state.last_block,
                events_indexed=state.events_indexed,
                reorgs=state.reorgs,
                resets=state.resets,
            )
        )
        self.refreshed_at = time.monotonic()
        self.refresh_error = None

    def problem(self) -> str | None:
        """Why the snapshot cannot be trusted, or None."""
        if self.refreshed_at is None:
            return f"the index status has not been read yet: {self.refresh_error}" if self.refresh_error else None
        age = time.monotonic() - self.refreshed_at
        if age > STALE_AFTER:
            return f"the index status could not be read for {age:.0f} s: {self.refresh_error or 'no answer'}"
        return None

    async def watch(self, interval: float) -> None:
        """Refreshes the snapshot every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.to_thread(self.refresh)
            if self.refresh_error is not None:
                log.warning("index_status_unread", error=self.refresh_error)
            await asyncio.sleep(interval)
