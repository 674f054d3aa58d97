"""What a payment token is called and how many decimals it has, as feeds and reports need it.

The deployment manifest names the tokens it deployed; any other token a licence pays in is
asked for its own ERC-20 ``symbol()`` and ``decimals()``, once. The oracle's licence directory
and the API's feed upload both read tokens here, so a licence whose token is not in the manifest
is the same licence to both (it used to be unknown to the API).
"""

from __future__ import annotations

from royalty_chain.client import Chain


class TokenBook:
    """Currency code and decimals per token address, cached for the life of the object
    (an ERC-20's symbol and decimals do not change)."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self._known: dict[str, tuple[str, int]] = {}

    def currency_and_decimals(self, address: str) -> tuple[str, int]:
        """The token's currency (manifest currency, else its ERC-20 symbol) and decimals."""
        key = address.lower()
        found = self._known.get(key)
        if found is None:
            listed = self._chain.manifest.token_by_address(address)
            if listed is not None:
                found = (listed.currency, listed.decimals)
            else:
                erc20 = self._chain.token(address)
                found = (erc20.symbol(), erc20.decimals())
            self._known[key] = found
        return found
