"""Seams the oracle's outbox will plug into: where sales lines are kept and where feeds go."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from intake.validate import ValidLine


@runtime_checkable
class LineStore(Protocol):
    """The sales lines behind settled reports (the oracle's outbox)."""

    configured: bool

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        """The line as a dict, its 32-byte leaf and its Merkle proof; None if unknown."""
        ...


@runtime_checkable
class FeedSink(Protocol):
    """Takes the valid lines of an uploaded feed (the oracle's outbox)."""

    def accept(self, lines: Sequence[ValidLine]) -> dict[str, Any]:
        """Store the lines; answer with a summary shown to the operator."""
        ...


class NoLineStore:
    """Default until the oracle's store is wired in: knows no lines."""

    configured = False

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        return None


class DiscardingFeedSink:
    """Default until the oracle's outbox is wired in: validates only, stores nothing."""

    def accept(self, lines: Sequence[ValidLine]) -> dict[str, Any]:
        return {
            "stored": 0,
            "configured": False,
            "note": "no feed sink is configured: the lines were validated but not stored",
        }
