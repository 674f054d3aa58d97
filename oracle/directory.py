"""What the oracle knows about licences, read from the chain (never typed in by an operator).

The registry's settlement context gives term, sell-off, calendar rule (periods, contract years,
due dates) and scope; the ledger's
LicenceOpened event gives the payment token, and royalty_chain.tokens says which currency and
how many decimals that token has (the API's feed upload asks the same). Entries are cached
briefly, and dropped at once when the registry reports an amendment (a renewal moves the end of
term) or a termination (which shortens the effective end): the logs since the last look are read
before cached entries are served.

Logs are read in pages of ``log_block_span`` blocks, as nodes cap the block range of one
eth_getLogs; a page the node refuses is halved until it is accepted, and the smaller span is kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import structlog

from intake.validate import LicenceInfo
from royalty_chain.client import Chain
from royalty_chain.models import SettlementContext
from royalty_chain.tokens import TokenBook

DAY = 86_400
LOG_BLOCK_SPAN = 2_000  # blocks per eth_getLogs; public endpoints commonly allow 1k-10k
# Registry events after which a cached licence is stale: its term or effective end moved.
_CHANGES = ("LicenceAmended", "LicenceTerminated")

log = structlog.get_logger("oracle")


class LicenceDirectory:
    def __init__(self, chain: Chain, ttl_seconds: float = 30.0, log_block_span: int = LOG_BLOCK_SPAN) -> None:
        self._chain = chain
        self._ttl = ttl_seconds
        self._span = log_block_span
        self._cache: dict[int, tuple[float, LicenceInfo | None]] = {}
        self._tokens: dict[int, str] = {}
        self._tokens_book = TokenBook(chain)
        self._next_block = chain.manifest.deploy_block

    def get(self, licence_id: int) -> LicenceInfo | None:
        return self.many([licence_id]).get(licence_id)

    def many(self, licence_ids: Iterable[int]) -> dict[int, LicenceInfo]:
        ids = [i for i in licence_ids if i > 0]
        if ids:
            self._read_logs()
        now = time.monotonic()
        stale = [i for i in ids if not (i in self._cache and now - self._cache[i][0] < self._ttl)]
        if stale:
            self._load_many(stale)
        found = {}
        for licence_id in ids:
            info = self._cache[licence_id][1]
            if info is not None:
                found[licence_id] = info
        return found

    def all(self) -> dict[int, LicenceInfo]:
        return self.many(range(1, self._chain.registry.licence_count() + 1))

    def period_name(self, licence_id: int, period: int) -> str:
        """The period's name by the licence's calendar (``2025-Q1``), "" for an unknown licence."""
        info = self.get(licence_id)
        return info.rule.period_name(period) if info is not None else ""

    def token_of(self, licence_id: int) -> str:
        if licence_id not in self._tokens:
            self._read_logs()
        try:
            return self._tokens[licence_id]
        except KeyError as err:
            raise LookupError(f"licence {licence_id} has no LicenceOpened event") from err

    def _read_logs(self) -> None:
        """Licences opened, amended or terminated since the last look, page by page: new tokens
        are noted, amended and terminated licences leave the cache."""
        head = int(self._chain.w3.eth.block_number)
        events = self._chain.events
        query = {
            "address": [self._chain.ledger.address, self._chain.registry.address],
            "topics": [[events.topic(name) for name in ("LicenceOpened", *_CHANGES)]],
        }
        while self._next_block <= head:
            from_block = self._next_block
            entries, to_block = self._page(query, from_block, min(from_block + self._span - 1, head))
            for entry in entries:
                event = events.decode(entry)
                if event is None:
                    continue
                licence_id = int(event.args["licenceId"])
                if event.name == "LicenceOpened":
                    self._tokens[licence_id] = str(event.args["token"])
                elif event.name in _CHANGES:
                    self._cache.pop(licence_id, None)
            self._next_block = to_block + 1

    def _page(self, query: dict[str, Any], from_block: int, to_block: int) -> tuple[list[dict[str, Any]], int]:
        """The logs of one page and its last block, halving the page while the node refuses it."""
        refused = False
        while True:
            page = {**query, "fromBlock": hex(from_block), "toBlock": hex(to_block)}
            (answer,) = self._chain.rpc_batch([("eth_getLogs", [page])])
            if "error" not in answer:
                if refused:  # the node's cap: later pages start at this size
                    self._span = to_block - from_block + 1
                return list(answer["result"]), to_block
            if to_block == from_block:
                raise LookupError(f"eth_getLogs of block {from_block} failed: {answer['error']}")
            log.info("log_range_shrunk", from_block=from_block, to_block=to_block, error=str(answer["error"]))
            refused = True
            to_block = from_block + (to_block - from_block) // 2

    def _load_many(self, licence_ids: list[int]) -> None:
        """Settlement contexts of many licences in one JSON-RPC batch (unknown ids cost one call each)."""
        count = self._chain.registry.licence_count()
        known = [i for i in licence_ids if i <= count]
        for licence_id in licence_ids:
            if licence_id > count:
                self._cache[licence_id] = (time.monotonic(), None)
        if not known:
            return
        registry = self._chain.registry.address
        context_of = self._chain.codecs["LicenceRegistry"].fn("settlementContext")
        contexts = self._chain.call_many([(registry, context_of, (licence_id,)) for licence_id in known])
        for licence_id, context in zip(known, contexts, strict=True):
            self._cache[licence_id] = (time.monotonic(), self._info(licence_id, context))

    def _info(self, licence_id: int, answer: object) -> LicenceInfo:
        context = SettlementContext.from_abi(answer)
        currency, decimals = self._tokens_book.currency_and_decimals(self.token_of(licence_id))
        return LicenceInfo(
            licence_id=licence_id,
            licensee=context.licensee,
            currency=currency,
            decimals=decimals,
            scope=context.scope,
            term_start=context.start,
            term_end=context.effective_end,
            sell_off_days=(context.sell_off_end - context.effective_end) // DAY,
            period_seconds=context.period_seconds,
            calendar=context.calendar,
        )
