"""What the oracle knows about licences, read from the chain (never typed in by an operator).

The registry's settlement context gives term, sell-off, period and scope; the ledger's
LicenceOpened event gives the payment token, and royalty_chain.tokens says which currency and
how many decimals that token has (the API's feed upload asks the same). Entries are cached
briefly: a termination shortens a licence's effective end, and the oracle must see it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from intake.validate import LicenceInfo
from royalty_chain.client import Chain, settlement_context_from_abi
from royalty_chain.codes import Scope
from royalty_chain.tokens import TokenBook

DAY = 86_400


class LicenceDirectory:
    def __init__(self, chain: Chain, ttl_seconds: float = 30.0) -> None:
        self._chain = chain
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, LicenceInfo | None]] = {}
        self._tokens: dict[int, str] = {}
        self._tokens_book = TokenBook(chain)
        self._next_block = chain.manifest.deploy_block

    def get(self, licence_id: int) -> LicenceInfo | None:
        return self.many([licence_id]).get(licence_id)

    def many(self, licence_ids: Iterable[int]) -> dict[int, LicenceInfo]:
        ids = [i for i in licence_ids if i > 0]
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

    def token_of(self, licence_id: int) -> str:
        if licence_id not in self._tokens:
            self._fetch_tokens()
        try:
            return self._tokens[licence_id]
        except KeyError as err:
            raise LookupError(f"licence {licence_id} has no LicenceOpened event") from err

    def _fetch_tokens(self) -> None:
        """Every licence opened since the last look, in one eth_getLogs."""
        head = int(self._chain.w3.eth.block_number)
        query = {
            "address": self._chain.ledger.address,
            "topics": [self._chain.events.topic("LicenceOpened")],
            "fromBlock": hex(self._next_block),
            "toBlock": hex(head),
        }
        (answer,) = self._chain.rpc_batch([("eth_getLogs", [query])])
        if "error" in answer:
            raise LookupError(f"eth_getLogs for LicenceOpened failed: {answer['error']}")
        for entry in answer["result"]:
            event = self._chain.events.decode(entry)
            if event is not None and event.name == "LicenceOpened":
                self._tokens[int(event.args["licenceId"])] = str(event.args["token"])
        self._next_block = head + 1

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

    def _info(self, licence_id: int, context: Any) -> LicenceInfo:
        context = settlement_context_from_abi(context)
        currency, decimals = self._tokens_book.currency_and_decimals(self.token_of(licence_id))
        territories, fields, channels = context["scope"]
        effective_end = int(context["effective_end"])
        return LicenceInfo(
            licence_id=licence_id,
            licensee=str(context["licensee"]),
            currency=currency,
            decimals=decimals,
            scope=Scope(int(territories), int(fields), int(channels)),
            term_start=int(context["start"]),
            term_end=effective_end,
            sell_off_days=(int(context["sell_off_end"]) - effective_end) // DAY,
            period_seconds=int(context["period_seconds"]),
        )
