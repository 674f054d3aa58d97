"""The keeper's clock: what the next transaction's block will carry, on nodes with and without a
pending block of their own (Ganache, `make run`'s chain, answers "pending" with the latest block,
whose time stands still while the chain is idle)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from oracle.keeper import Keeper


class _Node:
    def __init__(self, blocks: dict[str, dict[str, Any] | None]) -> None:
        self.blocks = blocks

    def call(self, method: str, tag: str, _full: bool) -> dict[str, Any] | None:
        assert method == "eth_getBlockByNumber"
        return self.blocks[tag]


def _clock(blocks: dict[str, dict[str, Any] | None]) -> int:
    keeper = SimpleNamespace(chain=SimpleNamespace(transport=_Node(blocks)))
    return Keeper.chain_time(keeper)  # type: ignore[arg-type]


def test_a_pending_block_of_its_own_gives_the_time() -> None:
    """Anvil: the pending block (no hash yet) carries the next block's time, even a warped one."""
    latest = {"hash": "0x01", "timestamp": hex(1_000)}
    assert _clock({"pending": {"hash": None, "timestamp": hex(5_000_000_000)}, "latest": latest}) == 5_000_000_000


def test_a_pending_block_that_is_the_latest_one_does_not_stop_the_clock() -> None:
    """Ganache, idle for an hour: its next block will carry its clock's time, not the last block's."""
    hour_ago = int(time.time()) - 3_600
    latest = {"hash": "0x01", "timestamp": hex(hour_ago)}
    assert _clock({"pending": dict(latest), "latest": latest}) >= hour_ago + 3_600
    ahead = {"hash": "0x02", "timestamp": hex(5_000_000_000)}  # a chain moved into the future keeps its time
    assert _clock({"pending": dict(ahead), "latest": ahead}) == 5_000_000_000
