"""Follows the registry's and the ledger's events into the index, surviving reorgs and resets.

Each round: (0) if the projection tables were built by another ``Projector.VERSION``, they are
replayed from the stored events (no chain reads: it works with the node down); (1) if the
chain is not the one the index was built from (chain id, contract addresses or deploy block
differ), or the index holds the events of other contracts than this code follows (a contract
added to the deployment's watched set), the index is wiped and rebuilt from the deploy block;
(2) the hash of the last indexed block is compared with the chain's; on a mismatch the stored
hashes are walked back to the newest block the chain still has, everything after it is rolled
back (events deleted, affected licences replayed from the remaining events) and indexing
resumes from there; when no stored block matches, the chain was reset and the index is rebuilt; (3) new blocks are read
with eth_getLogs in ranges, one transaction per range.

The genesis hash is stored but does not tell chains apart: Anvil regenerates its genesis block
on some restarts from its state file while keeping every other block, and the block hashes of
step (2) tell a reset or a loss anyway. A chain that came back shorter than the index (a node
restored from an older state: its head below the last indexed block) is logged as
``chain_lost_blocks``, any other rollback as ``reorg_rolled_back``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.models import (
    PROJECTIONS,
    BlockRecord,
    BucketRow,
    ConversionRow,
    EscalationClauseRow,
    EscalationStepRow,
    EventRecord,
    IndexState,
    LicenceRow,
    PayeeRow,
    ReleaseRow,
    ReturnRow,
    ReviewClauseRow,
    ReviewRow,
    ScheduleVersionRow,
    SettlementRow,
    SettlementYearRow,
)
from api.indexer.projector import Projector
from api.indexer.rows import event_settlement_id, licence_of
from royalty_chain.events import ChainEvent, EventDecoder
from royalty_chain.manifest import Manifest
from royalty_chain.transport import RpcError, Transport

log = structlog.get_logger("api.indexer")
RECHECK_DEPTH = 64  # blocks below the tip whose hashes are re-read with every range


@dataclass
class SyncReport:
    """What one round did."""

    head: int
    indexed_to: int
    events: int = 0
    ranges: int = 0
    rolled_back_to: int | None = None
    reset: bool = False
    replayed: int = 0  # stored events replayed because the projector's version changed
    seconds: float = 0.0


class Indexer:
    def __init__(
        self,
        rpc: Transport,
        manifest: Manifest,
        sessions: sessionmaker[Session],
        batch_blocks: int = 2_000,
        confirmations: int = 0,
        projector: type[Projector] = Projector,
    ) -> None:
        self.rpc = rpc
        self.projector = projector
        self.manifest = manifest
        self.sessions = sessions
        self.batch_blocks = batch_blocks
        self.confirmations = confirmations
        self.decoder = EventDecoder.from_manifest(manifest)
        self._addresses = self.decoder.addresses
        self._watched = ",".join(sorted(a.lower() for a in self._addresses))
        self._topics = self.decoder.topics()
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self.last_round_at: float | None = None

    # ------------------------------------------------------------------ rounds

    def sync(self, max_ranges: int | None = None) -> SyncReport:
        """One round: check for a reset or reorg, then index up to the head."""
        with self._lock:
            started = time.perf_counter()
            replayed = self.reproject()
            chain_id = self.rpc.chain_id()
            head = self.rpc.block_number()
            genesis = self.rpc.block(0)
            genesis_hash = str(genesis["hash"]) if genesis else ""
            head_block = self.rpc.block(head)
            report = SyncReport(head=head, indexed_to=0, replayed=replayed)
            with self.sessions() as session, session.begin():
                state = session.get(IndexState, 1)
                if state is None or not self._same_chain(state, chain_id):
                    if state is not None:
                        log.warning("chain_reset", chain_id=chain_id, genesis=genesis_hash)
                        report.reset = True
                    state = self._rebuild(session, state, chain_id, genesis_hash)
                elif state.watched_contracts != self._watched:
                    log.warning("index_rebuilt", reason="the index follows other contracts now",
                                was=state.watched_contracts, now=self._watched)  # fmt: skip
                    state = self._rebuild(session, state, chain_id, genesis_hash)
                else:
                    fork = self._fork_point(session, state, head)
                    if fork is not None:
                        if fork < 0:
                            log.warning("chain_reset", reason="no indexed block is on the chain any more")
                            report.reset = True
                            state = self._rebuild(session, state, chain_id, genesis_hash)
                        else:
                            self._roll_back(session, state, fork, head)
                            report.rolled_back_to = fork
                state.head_block = head
                state.head_timestamp = int(head_block["timestamp"], 16) if head_block else 0
                target = head - self.confirmations
                next_block = state.last_block + 1
            ranges = 0
            while next_block <= target and (max_ranges is None or ranges < max_ranges):
                to_block = min(next_block + self.batch_blocks - 1, target)
                logs, to_block = self._fetch_logs(next_block, to_block)
                report.events += self._index_range(next_block, to_block, logs)
                next_block = to_block + 1
                ranges += 1
            report.ranges = ranges
            report.indexed_to = next_block - 1
            report.seconds = time.perf_counter() - started
            self.last_round_at = time.time()
            self.last_error = None
            if report.events or report.rolled_back_to is not None or report.reset or report.replayed:
                log.info("indexed", **dataclasses.asdict(report))
            return report

    async def run(self, poll_seconds: float = 1.0) -> None:
        """Index forever (the API's lifespan runs this in the background)."""
        delay = poll_seconds
        while True:
            try:
                await asyncio.to_thread(self.sync)
                delay = poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as err:  # keep the API up; report through /health
                self.last_error = f"{type(err).__name__}: {err}"
                log.error("index_round_failed", error=self.last_error)
                delay = min(delay * 2, 30.0)
            await asyncio.sleep(delay)

    def reproject(self) -> int:
        """Replays every projection from the stored events if they were built by another
        projector version; the number of events replayed (0: nothing to do). Reads no chain.

        Stored events this projector cannot read (events of older contracts, say an index kept
        while the chain under it was redeployed from scratch) are not a dead end: the index is
        dropped and the next round rebuilds it from the chain."""
        try:
            return self._reproject()
        except (KeyError, TypeError, ValueError) as error:
            log.warning(
                "stored_events_unreadable",
                error=f"{type(error).__name__}: {error}",
                action="the index is dropped and rebuilt from the chain",
            )
            with self.sessions() as session, session.begin():
                for table in PROJECTIONS:
                    session.execute(delete(table))
                session.execute(delete(EventRecord))
                session.execute(delete(IndexState))
            return 0

    def _reproject(self) -> int:
        with self.sessions() as session, session.begin():
            state = session.get(IndexState, 1)
            if state is None or state.projection_version == self.projector.VERSION:
                return 0
            for table in PROJECTIONS:
                session.execute(delete(table))
            session.flush()
            replayed = self._apply_stored(session, select(EventRecord))
            log.warning(
                "projections_replayed", stored_version=state.projection_version, version=self.projector.VERSION,
                events=replayed,
            )  # fmt: skip
            state.projection_version = self.projector.VERSION
            return replayed

    # ------------------------------------------------------------------ chain identity

    def _same_chain(self, state: IndexState, chain_id: int) -> bool:
        # Not the genesis hash: see the module docstring.
        return (
            state.chain_id == chain_id
            and state.registry_address.lower() == self.manifest.registry.address.lower()
            and state.ledger_address.lower() == self.manifest.ledger.address.lower()
            and state.deploy_block == self.manifest.deploy_block
        )

    def _rebuild(self, session: Session, state: IndexState | None, chain_id: int, genesis_hash: str) -> IndexState:
        resets = 0 if state is None else state.resets + 1
        tables: tuple[type[Any], ...] = (*PROJECTIONS, EventRecord, BlockRecord, IndexState)
        for table in tables:
            session.execute(delete(table))
        fresh = IndexState(
            id=1,
            chain_id=chain_id,
            genesis_hash=genesis_hash,
            registry_address=self.manifest.registry.address,
            ledger_address=self.manifest.ledger.address,
            deploy_block=self.manifest.deploy_block,
            last_block=self.manifest.deploy_block - 1,
            last_block_hash=None,
            head_block=0,
            head_timestamp=0,
            events_indexed=0,
            reorgs=0,
            resets=resets,
            projection_version=self.projector.VERSION,
            watched_contracts=self._watched,
        )
        session.add(fresh)
        session.flush()
        return fresh

    def _fork_point(self, session: Session, state: IndexState, head: int) -> int | None:
        """None when the last indexed block is still on the chain; else the newest stored block
        that is (-1 when none is: the chain was reset)."""
        if state.last_block_hash is None:
            return None
        if state.last_block <= head:
            block = self.rpc.block(state.last_block)
            if block is not None and block["hash"] == state.last_block_hash:
                return None
        upper = min(state.last_block, head)
        while True:
            stored = list(
                session.execute(
                    select(BlockRecord.number, BlockRecord.hash)
                    .where(BlockRecord.number <= upper)
                    .order_by(BlockRecord.number.desc())
                    .limit(64)
                )
            )
            if not stored:
                return -1
            blocks = self.rpc.blocks([number for number, _ in stored])
            for (number, stored_hash), block in zip(stored, blocks, strict=True):
                if block is not None and block["hash"] == stored_hash:
                    return int(number)
            upper = stored[-1][0] - 1

    def _roll_back(self, session: Session, state: IndexState, fork: int, head: int) -> None:
        """Forget everything after block ``fork`` and replay the licences it touched."""
        indexed_to = state.last_block
        affected = set(
            session.scalars(select(EventRecord.licence_id).where(EventRecord.block_number > fork).distinct())
        )
        affected.discard(None)
        session.execute(delete(EventRecord).where(EventRecord.block_number > fork))
        session.execute(delete(BlockRecord).where(BlockRecord.number > fork))
        self._replay(session, sorted(int(i) for i in affected if i is not None))
        state.last_block = fork
        state.last_block_hash = session.scalar(select(BlockRecord.hash).where(BlockRecord.number == fork))
        state.reorgs += 1
        event = "chain_lost_blocks" if head < indexed_to else "reorg_rolled_back"
        log.warning(
            event, fork_block=fork, indexed_to=indexed_to, head=head, licences=len(affected),
            action=f"index rolled back to block {fork}; rebuilding from block {fork + 1}",
        )  # fmt: skip

    def _replay(self, session: Session, licence_ids: list[int]) -> None:
        if not licence_ids:
            return
        settlement_ids = select(SettlementRow.id).where(SettlementRow.licence_id.in_(licence_ids))
        session.execute(delete(BucketRow).where(BucketRow.settlement_id.in_(settlement_ids)))
        session.execute(delete(ReturnRow).where(ReturnRow.settlement_id.in_(settlement_ids)))
        session.execute(delete(ConversionRow).where(ConversionRow.settlement_id.in_(settlement_ids)))
        for table, column in (
            (SettlementRow, SettlementRow.licence_id),
            (SettlementYearRow, SettlementYearRow.licence_id),
            (ReleaseRow, ReleaseRow.licence_id),
            (PayeeRow, PayeeRow.licence_id),
            (ScheduleVersionRow, ScheduleVersionRow.licence_id),
            (EscalationClauseRow, EscalationClauseRow.licence_id),
            (EscalationStepRow, EscalationStepRow.licence_id),
            (ReviewClauseRow, ReviewClauseRow.licence_id),
            (ReviewRow, ReviewRow.licence_id),
            (LicenceRow, LicenceRow.id),
        ):
            session.execute(delete(table).where(column.in_(licence_ids)))
        session.flush()
        self._apply_stored(session, select(EventRecord).where(EventRecord.licence_id.in_(licence_ids)))

    def _apply_stored(self, session: Session, query: Select[EventRecord]) -> int:
        """Applies the stored events ``query`` selects, in chain order; how many there were."""
        projector = self.projector(session)
        rows = session.scalars(query.order_by(EventRecord.block_number, EventRecord.log_index))
        count = 0
        for row in rows:
            count += 1
            projector.apply(
                ChainEvent(
                    name=row.name,
                    contract=row.contract,
                    block_number=row.block_number,
                    block_hash="",
                    block_timestamp=row.block_timestamp,
                    log_index=row.log_index,
                    tx_hash=row.tx_hash,
                    args=json.loads(row.args),
                )
            )
        return count

    # ------------------------------------------------------------------ ranges

    def _fetch_logs(self, from_block: int, to_block: int) -> tuple[list[dict[str, Any]], int]:
        """Logs of the range, shrinking it when the node refuses a range that large."""
        while True:
            try:
                return self.rpc.logs(self._addresses, self._topics, from_block, to_block), to_block
            except RpcError as err:
                if to_block == from_block:
                    raise
                log.info("log_range_shrunk", from_block=from_block, to_block=to_block, error=str(err))
                to_block = from_block + (to_block - from_block) // 2

    def _index_range(self, from_block: int, to_block: int, logs: list[dict[str, Any]]) -> int:
        events = [e for e in (self.decoder.decode(entry) for entry in logs) if e is not None]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        missing = sorted({e.block_number for e in events if e.block_timestamp is None})
        # Blocks near the tip can still be replaced while this range is read: their logs must come
        # from the same chain as the tip stored below, or a later round could not notice.
        recent = sorted({e.block_number for e in events if e.block_number > to_block - RECHECK_DEPTH} - set(missing))
        headers = self.rpc.blocks([*missing, *recent, to_block])
        tip = headers[-1]
        if tip is None:
            raise RpcError(f"block {to_block} is not available")
        by_number = {n: h for n, h in zip([*missing, *recent], headers, strict=False) if h}
        for event in events:
            header = by_number.get(event.block_number)
            if header is not None and header["hash"] != event.block_hash:
                raise RpcError(f"block {event.block_number} changed while it was read: retrying the range")
        timestamps = {n: int(h["timestamp"], 16) for n, h in by_number.items()}
        hashes: dict[int, tuple[str, int]] = {}
        filled: list[ChainEvent] = []
        for event in events:
            if event.block_timestamp is None:
                event = dataclasses.replace(event, block_timestamp=timestamps[event.block_number])
            hashes[event.block_number] = (event.block_hash, event.block_timestamp or 0)
            filled.append(event)
        hashes[to_block] = (str(tip["hash"]), int(tip["timestamp"], 16))
        with self.sessions() as session, session.begin():
            state = session.get(IndexState, 1)
            assert state is not None
            if state.last_block != from_block - 1:
                return 0  # another round got here first
            projector = self.projector(session)
            records = []
            for event in filled:
                projector.apply(event)
                records.append(
                    {
                        "block_number": event.block_number,
                        "log_index": event.log_index,
                        "block_timestamp": event.block_timestamp,
                        "tx_hash": event.tx_hash,
                        "contract": event.contract,
                        "name": event.name,
                        "licence_id": licence_of(event, projector.settlement_licence),
                        "settlement_id": event_settlement_id(event),
                        "args": json.dumps(event.args, separators=(",", ":")),
                    }
                )
            session.flush()
            if records:
                session.execute(insert(EventRecord), records)
            session.execute(
                insert(BlockRecord),
                [{"number": n, "hash": h, "timestamp": t} for n, (h, t) in sorted(hashes.items())],
            )
            state.last_block = to_block
            state.last_block_hash = str(tip["hash"])
            state.events_indexed += len(records)
        return len(records)
