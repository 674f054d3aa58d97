"""What the keeper has to do, derived from the chain alone.

:class:`SettledLog` reads the ledger's ``Settled`` events page by page (from the deploy block
when the keeper starts, then only the new blocks): the settlements that began pending (a dispute
window) and the contract years whose guarantee shortfall is already a settlement. It is a cache
of the chain, rebuilt by every new keeper; nothing in it is the keeper's own record.

The pure functions decide from chain values and a time: which pending settlements have matured
(:func:`matured`), and which contract years have ended inside the term (:func:`ended_years`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from royalty_chain.client import Chain
from royalty_chain.models import Kind, Settlement, SettlementContext, State

log = structlog.get_logger("keeper")


@dataclass
class SettledLog:
    """The Settled events of the ledger so far, as the keeper needs them."""

    chain: Chain
    span: int = 2_000
    # licence id -> ids of its settlements that were created pending (a dispute window) or held
    # (a reserve against returns, until its release time)
    pending: dict[int, set[int]] = field(default_factory=dict)
    # (licence id, contract year) whose guarantee shortfall the ledger has charged
    charged: set[tuple[int, int]] = field(default_factory=set)
    next_block: int = -1

    def refresh(self) -> None:
        """Reads the Settled events of the blocks since the last look, up to the head."""
        if self.next_block < 0:
            self.next_block = self.chain.manifest.deploy_block
        head = int(self.chain.w3.eth.block_number)
        query = {"address": self.chain.ledger.address, "topics": [self.chain.events.topic("Settled")]}
        while self.next_block <= head:
            from_block = self.next_block
            entries, to_block = self._page(query, from_block, min(from_block + self.span - 1, head))
            for entry in entries:
                event = self.chain.events.decode(entry)
                if event is None or event.name != "Settled":
                    continue
                licence_id, settlement_id = int(event.args["licenceId"]), int(event.args["settlementId"])
                kind = Kind(int(event.args["kind"]))
                if event.args["pending"] or kind is Kind.RESERVE:
                    self.pending.setdefault(licence_id, set()).add(settlement_id)
                if kind is Kind.MINIMUM_GUARANTEE:
                    self.charged.add((licence_id, int(event.args["period"])))
            self.next_block = to_block + 1

    def forget(self, licence_id: int, settlement_ids: Iterable[int]) -> None:
        """Settlements that are final: no keeper action can concern them again."""
        ids = self.pending.get(licence_id)
        if ids is not None:
            ids.difference_update(settlement_ids)
            if not ids:
                del self.pending[licence_id]

    def _page(self, query: dict[str, Any], from_block: int, to_block: int) -> tuple[list[dict[str, Any]], int]:
        """The logs of one page and its last block, halving the page while the node refuses it."""
        while True:
            page = {**query, "fromBlock": hex(from_block), "toBlock": hex(to_block)}
            (answer,) = self.chain.rpc_batch([("eth_getLogs", [page])])
            if "error" not in answer:
                return list(answer["result"]), to_block
            if to_block == from_block:
                raise LookupError(f"eth_getLogs of block {from_block} failed: {answer['error']}")
            log.info("log_range_shrunk", from_block=from_block, to_block=to_block, error=str(answer["error"]))
            to_block = from_block + (to_block - from_block) // 2
            self.span = to_block - from_block + 1


def matured(settlements: dict[int, Settlement], now: int) -> list[int]:
    """Ids of the pending settlements whose dispute window has closed at ``now``, and of the held
    reserves whose release time has come (the ledger releases either once
    ``block.timestamp >= disputeUntil``: a reserve's disputeUntil is its release time)."""
    waiting = (State.PENDING, State.HELD)
    return sorted(i for i, s in settlements.items() if s.state in waiting and s.dispute_until <= now)


def closed(settlements: dict[int, Settlement]) -> list[int]:
    """Ids of the settlements no keeper action concerns any more (final)."""
    return sorted(i for i, s in settlements.items() if s.state is State.FINAL)


@dataclass(frozen=True, slots=True)
class EndedYear:
    """A contract year inside the term that has ended: ``start`` is its first second (what the
    guarantee in force is read at), ``end`` the first second after it (cut at the term's end)."""

    year: int
    start: int
    end: int


def ended_years(context: SettlementContext, now: int) -> list[EndedYear]:
    """The contract years of a licence that start inside its term and have ended by ``now``, as
    the ledger's chargeMinimumGuarantee bounds them (a year's end is cut at the effective end)."""
    rule = context.rule()
    years: list[EndedYear] = []
    year = 0
    while True:
        start, end, _ = rule.year_bounds(year)
        if start >= context.effective_end:
            return years
        end = min(end, context.effective_end)
        if end > now:
            return years
        years.append(EndedYear(year, start, end))
        year += 1


__all__ = ["EndedYear", "SettledLog", "closed", "ended_years", "matured"]
