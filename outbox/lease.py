"""The sender lease: of several oracle instances on one outbox, only the holder sends.

The lease is one row of the outbox (``sender_lease``: holder, epoch, expires_at). Every change of
it is one conditional UPDATE, by the database's clock, so two instances never both hold it:

- ``acquire``: taken when it has expired (or was released); the epoch goes up by one, the
  fencing token of this holder;
- ``renew``: extended by ``ttl`` while this holder, at this epoch, still holds it unexpired;
- ``fence(conn)``: run inside the transaction that records a sent transaction
  (``Reports.mark_sent``); it touches the lease row only if this holder at this epoch holds it
  unexpired, else raises LeaseLost and that transaction records nothing. On PostgreSQL the
  UPDATE locks the row until the commit, so a takeover waits for a send being recorded and then
  sees it; on SQLite the database lock does the same;
- ``may_broadcast``: the holder's own view, by its monotonic clock, of whether the lease is still
  safely its own (the DB expiry is at least ``ttl`` after the renewal *started*): a deposed
  instance stops broadcasting by itself even while it cannot reach the database.

A holder that dies keeps the lease until it expires: a standby polling every ``renew_every``
seconds takes over at most ``ttl + renew_every`` seconds after the holder's last renewal.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine, bindparam, literal_column, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from outbox.migrate import OutboxError
from outbox.schema import sender_lease_table

log = structlog.get_logger("oracle")

LEASE_NAME = "sender"
# The holder stops broadcasting this long before its lease could expire (clock drift, a pause
# between the check and the write to the node).
BROADCAST_MARGIN = 0.2  # a fraction of the lease's ttl


class LeaseLost(OutboxError):
    """This instance no longer holds the sender lease (another one took over): it must not send."""


def instance_id() -> str:
    """A new id for this process: host, pid and a random part (a restarted process is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def db_now(dialect: str) -> ColumnElement[float]:
    """The database's clock in seconds since 1970, as an SQL expression."""
    if dialect == "postgresql":
        return literal_column("extract(epoch from clock_timestamp())::float8")
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)")


@dataclass(frozen=True, slots=True)
class LeaseState:
    holder: str | None
    epoch: int
    expires_in: float  # seconds by the database's clock (negative: expired)


class SenderLease:
    """This instance's side of the sender lease over ``engine`` (its own connections)."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float,
        renew_every: float,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew_every < ttl:
            raise ValueError(f"the lease's renew interval ({renew_every}s) must be shorter than its ttl ({ttl}s)")
        self.engine = engine
        self.ttl = ttl
        self.renew_every = renew_every
        self.holder = holder or instance_id()
        self.epoch: int | None = None  # the epoch this instance holds the lease at, or None
        self._clock = clock
        self._valid_until = 0.0  # by self._clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stood_by_for: tuple[str | None, int] | None = None
        self.acquired_at: float | None = None  # wall clock of the last takeover

    # ------------------------------------------------------------ reads

    def state(self) -> LeaseState:
        now = db_now(self.engine.dialect.name)
        t = sender_lease_table
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.holder, t.c.epoch, (t.c.expires_at - now).label("left")).where(t.c.name == LEASE_NAME)
            ).one()
        return LeaseState(row.holder, int(row.epoch), float(row.left))

    def held(self) -> bool:
        """Whether this instance holds the lease by its own clock (renewals keep it so)."""
        with self._lock:
            return self.epoch is not None and self._clock() < self._valid_until

    def may_broadcast(self) -> bool:
        """Whether the lease is safely this instance's for a moment more (see the module docstring)."""
        with self._lock:
            return self.epoch is not None and self._clock() < self._valid_until - BROADCAST_MARGIN * self.ttl

    # ------------------------------------------------------------ changes

    def acquire(self) -> bool:
        """Takes the lease if it is free or expired (a new epoch), or renews it if held; whether
        this instance holds it now. Logs one line on taking over and one on standing by."""
        if self.epoch is not None:
            return self.renew()
        started = self._clock()
        t = sender_lease_table
        with self.engine.begin() as conn:
            now = db_now(conn.dialect.name)
            before = conn.execute(select(t.c.holder, t.c.epoch).where(t.c.name == LEASE_NAME)).one()
            taken = conn.execute(
                update(t)
                .where(
                    t.c.name == LEASE_NAME, or_(t.c.expires_at < now, t.c.holder.is_(None)), t.c.epoch == before.epoch
                )
                .values(holder=self.holder, epoch=t.c.epoch + 1, expires_at=now + self.ttl, acquired_at=now)
                .returning(t.c.epoch)
            ).first()
        if taken is None:
            state = self.state()
            if self._stood_by_for != (state.holder, state.epoch):
                self._stood_by_for = (state.holder, state.epoch)
                log.info(
                    "sender_lease_standby",
                    instance=self.holder,
                    holder=state.holder,
                    epoch=state.epoch,
                    expires_in_s=round(state.expires_in, 3),
                )
            return False
        with self._lock:
            self.epoch = int(taken.epoch)
            self._valid_until = started + self.ttl
        self._stood_by_for = None
        self.acquired_at = time.time()
        log.info(
            "sender_lease_acquired",
            instance=self.holder,
            epoch=self.epoch,
            previous_holder=before.holder,
            ttl_s=self.ttl,
        )
        return True

    def renew(self) -> bool:
        """Extends the lease this instance holds; False (and logged) once it was lost."""
        epoch = self.epoch
        if epoch is None:
            return False
        started = self._clock()
        try:
            with self.engine.begin() as conn:
                now = db_now(conn.dialect.name)
                renewed = conn.execute(self._mine(epoch, now).values(expires_at=now + self.ttl)).rowcount == 1
        except Exception as err:  # the database out of reach: the lease runs out by our own clock
            log.warning("sender_lease_renew_failed", instance=self.holder, epoch=epoch, error=str(err))
            return self.held()
        if renewed:
            with self._lock:
                self._valid_until = started + self.ttl
            return True
        self._lost(epoch)
        return False

    def fence(self, conn: Connection) -> None:
        """In a transaction that records a send: LeaseLost unless this holder still holds the lease
        at its epoch, unexpired (the row stays locked until that transaction ends)."""
        epoch = self.epoch
        if epoch is None or not self.may_broadcast():
            raise LeaseLost(f"instance {self.holder} does not hold the sender lease: it must not send")
        now = db_now(conn.dialect.name)
        t = sender_lease_table
        if conn.execute(self._mine(epoch, now).values(expires_at=t.c.expires_at)).rowcount != 1:
            self._lost(epoch)
            raise LeaseLost(f"instance {self.holder} lost the sender lease (epoch {epoch}): it must not send")

    def release(self) -> None:
        """Gives the lease up at once (a clean stop): a standby takes over at its next poll."""
        self.stop_renewing()
        epoch = self.epoch
        if epoch is None:
            return
        with self.engine.begin() as conn:
            conn.execute(self._mine(epoch, db_now(conn.dialect.name)).values(expires_at=0.0))
        with self._lock:
            self.epoch = None
        log.info("sender_lease_released", instance=self.holder, epoch=epoch)

    def _mine(self, epoch: int, now: ColumnElement[float]):  # type: ignore[no-untyped-def]
        t = sender_lease_table
        return update(t).where(
            t.c.name == LEASE_NAME,
            t.c.holder == bindparam("me", self.holder),
            t.c.epoch == epoch,
            t.c.expires_at >= now,
        )

    def _lost(self, epoch: int) -> None:
        with self._lock:
            if self.epoch != epoch:
                return
            self.epoch = None
        log.warning("sender_lease_lost", instance=self.holder, epoch=epoch)

    # ------------------------------------------------------------ background renewal

    def start_renewing(self) -> None:
        """Renews the lease every ``renew_every`` seconds in a thread, while this instance holds it
        (a long send round must not lose it)."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(self.renew_every):
                if self.epoch is not None:
                    self.renew()

        self._thread = threading.Thread(target=loop, name="sender-lease", daemon=True)
        self._thread.start()

    def stop_renewing(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
