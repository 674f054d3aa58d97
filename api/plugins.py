"""The seams between the API and the oracle's outbox: where sales lines are kept and where
uploaded feeds go. ``api.services`` plugs the outbox in when ``API_ORACLE_OUTBOX`` is set; the
defaults below serve an API that runs without one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from intake.validate import InMemorySeenLines, ReportedPeriods, SeenLines, ValidLine


@runtime_checkable
class LineStore(Protocol):
    """The sales lines behind settled reports (the oracle's outbox)."""

    configured: bool

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        """The line as a dict, its 32-byte leaf and its Merkle proof; None if unknown."""
        ...


@runtime_checkable
class FeedSink(Protocol):
    """Takes the valid lines of an uploaded feed (the oracle's outbox), and tells the intake
    what the oracle's own ingest would ask the same store, so an upload is judged as a feed
    file in the oracle's inbox would be. A view that is also a context manager (the outbox's
    hold a connection) is entered for the upload and left once its lines are stored."""

    def seen_lines(self) -> SeenLines:
        """The line ids already accepted, for one upload (claims stay in memory until stored)."""
        ...

    def reported_periods(self) -> ReportedPeriods | None:
        """The periods already reported, for one upload; None when the sink knows of none."""
        ...

    def accept(self, lines: Sequence[ValidLine]) -> dict[str, Any]:
        """Store the lines; answer with a summary shown to the operator."""
        ...


class NoLineStore:
    """The API without the oracle's outbox: knows no lines."""

    configured = False

    def get_line(self, licence_id: int, period: int, line_id: str) -> tuple[dict[str, Any], bytes, list[bytes]] | None:
        return None


class DiscardingFeedSink:
    """The API without the oracle's outbox: validates uploads only (ids checked within the
    upload, no period reported), stores nothing."""

    def seen_lines(self) -> SeenLines:
        return InMemorySeenLines()

    def reported_periods(self) -> ReportedPeriods | None:
        return None

    def accept(self, lines: Sequence[ValidLine]) -> dict[str, Any]:
        return {
            "stored": 0,
            "configured": False,
            "note": "no feed sink is configured: the lines were validated but not stored",
        }
