"""Which chains are local development chains.

Anvil (31337) and Ganache (1337) are the only chains on which the services fall back to the
well-known development keys when none are configured, and on which the deploy script adds a demo
token. One definition, so the oracle, the API and the deploy script cannot disagree.
"""

from __future__ import annotations

LOCAL_CHAIN_IDS: frozenset[int] = frozenset({31337, 1337})


def is_local_chain(chain_id: int) -> bool:
    """True for a local development chain (Anvil's or Ganache's default chain id)."""
    return chain_id in LOCAL_CHAIN_IDS


__all__ = ["LOCAL_CHAIN_IDS", "is_local_chain"]
