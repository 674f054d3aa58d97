"""The crash-injection seam: the oracle calls its fault hook at each stage where a crash matters.

The points are ``mid_file`` (a batch of lines was committed), ``after_sign`` (a report was
signed, not yet committed), ``after_mark_sent`` (a transaction hash is on record, the
transaction not yet broadcast) and ``after_send`` (it was broadcast); and in the watch service's
inbox (:mod:`oracle.inbox`) ``after_claim`` (a feed was claimed and its attempt recorded),
``after_ingest`` (its lines and rejections are committed to the outbox, its rejects file not yet
in place), ``after_rejects`` (the rejects file is in place) and ``before_move`` (its receipt is
written, the feed not yet moved to ``processed/``); and ``after_step_send`` (an escalation step
was broadcast, its receipt not read; :mod:`oracle.escalation`) and ``after_review_send`` (review
evidence was broadcast, its receipt not read; :mod:`oracle.reviews`). In production the hook does
nothing; the crash tests inject one that kills the process at a named point
(``tests/python/e2e/crashing_oracle.py``), so no production path reads a test switch.
"""

from __future__ import annotations

from collections.abc import Callable

FaultHook = Callable[[str], None]

FAULT_POINTS = (
    "mid_file",
    "after_sign",
    "after_mark_sent",
    "after_send",
    "after_claim",
    "after_ingest",
    "after_rejects",
    "before_move",
    "after_step_send",
    "after_review_send",
)


def no_fault(point: str) -> None:
    """The production hook: nothing happens at any point."""
