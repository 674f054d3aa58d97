"""What the oracle knows about licences, read from the chain (never typed in by an operator).

The registry's settlement context gives term, sell-off, period and scope; the ledger's
LicenceOpened event gives the payment token, and the deployment manifest says which currency
and how many decimals that token has. Entries are cached briefly: a termination shortens a
licence's effective end, and the oracle must see it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from oracle.validate import LicenceInfo
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import Scope

DAY = 86_400


class LicenceDirectory:
    def __init__(self, chain: Chain, ttl_seconds: float = 30.0) -> None:
        self._chain = chain
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, LicenceInfo | None]] = {}
        self._tokens: dict[int, str] = {}
        self._next_block = chain.manifest.deploy_block

    def get(self, licence_id: int) -> LicenceInfo | None:
        cached = self._cache.get(licence_id)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        info = self._load(licence_id)
        self._cache[licence_id] = (time.monotonic(), info)
        return info

    def many(self, licence_ids: Iterable[int]) -> dict[int, LicenceInfo]:
        found = {}
        for licence_id in licence_ids:
            info = self.get(licence_id)
            if info is not None:
                found[licence_id] = info
        return found

    def all(self) -> dict[int, LicenceInfo]:
        return self.many(range(1, self._chain.registry.licence_count() + 1))

    def token_of(self, licence_id: int) -> str:
        token = self._tokens.get(licence_id)
        if token is None:
            ledger = self._chain.ledger.contract
            logs = ledger.events.LicenceOpened().get_logs(
                from_block=self._chain.manifest.deploy_block,
                argument_filters={"licenceId": licence_id},
            )
            if not logs:
                raise LookupError(f"licence {licence_id} has no LicenceOpened event")
            token = str(logs[0]["args"]["token"])
            self._tokens[licence_id] = token
        return token

    def _load(self, licence_id: int) -> LicenceInfo | None:
        if licence_id <= 0:
            return None
        try:
            context = self._chain.registry.settlement_context(licence_id)
        except ContractRevert as err:
            if err.error == "UnknownLicence":
                return None
            raise
        token = self.token_of(licence_id)
        known = self._chain.manifest.token_by_address(token)
        if known is not None:
            currency, decimals = known.currency, known.decimals
        else:
            erc20 = self._chain.token(token)
            currency = str(erc20.functions.symbol().call())
            decimals = int(erc20.functions.decimals().call())
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
