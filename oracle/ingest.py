"""The oracle's ingest stage: a feed file judged by the sales intake, stored in the outbox.

Good lines go to the outbox in batches, bad ones to ``<file>.rejects.csv`` beside the file
(line, field, value, reason) and to the outbox's rejections. Reading a file again finds its lines
already stored (duplicates change nothing); the watch service reads a feed it claimed again with
``resume``, so that its rejections are stored once too. Which line is good is decided by ``intake.judge``, the same
function ``POST /feeds`` calls; this module only stores and counts what it decided.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy.engine import Connection

from intake.feed import Rejection
from intake.judge import judge
from intake.rejects import RejectsFile
from intake.validate import LicenceInfo, PendingLines, ValidLine
from oracle.hooks import FaultHook, no_fault
from outbox import Outbox, OutboxSeenLines, ReportedPeriods

log = structlog.get_logger("oracle")

BATCH_LINES = 5_000
# Rejections an IngestResult keeps for display; all of them go to the rejects file and the outbox.
SHOWN_REJECTIONS = 100


@dataclass
class IngestResult:
    path: str
    lines_read: int = 0
    valid: int = 0
    rejected: int = 0
    duplicates: int = 0
    out_of_scope: int = 0
    rejects_file: str | None = None
    rejections: list[Rejection] = field(default_factory=list)  # the first SHOWN_REJECTIONS


def ingest(
    path: Path,
    outbox: Outbox,
    conn: Connection,
    licences: Mapping[int, LicenceInfo],
    *,
    chain_time: int,
    on_progress: Callable[[int], None] | None = None,
    fault: FaultHook = no_fault,
    resume: bool = False,
) -> IngestResult:
    """Judge the feed at ``path`` against ``licences`` and store the verdicts; ``fault`` is
    called at "mid_file" after each stored batch and at "after_ingest" once everything is
    committed, before the rejects file replaces the previous one. With ``resume`` the outbox's
    record of an earlier reading of ``path`` is taken over (``Outbox.start_file``)."""
    result = IngestResult(path=str(path))
    file_id = outbox.start_file(conn, str(path), resume=resume)
    seen = OutboxSeenLines(outbox, conn)
    licensee_of = {lid: info.licensee.lower() for lid, info in licences.items()}
    batch: list[ValidLine] = []
    pending = PendingLines(batch)  # a cancel, replace or return may name a line of this batch
    rejected: list[Rejection] = []  # since the last store, for the outbox
    rejects = RejectsFile(path)

    def store() -> None:
        """Good lines and rejections read since the last store, in one transaction."""
        if not batch and not rejected:
            return
        outbox.store_lines(conn, licensee_of, batch, str(path))
        outbox.store_rejections(conn, file_id, rejected)
        conn.commit()
        seen.flushed()
        batch.clear()
        rejected.clear()
        pending.cleared()

    try:
        # Parsing and the licence checks run in a forked process; this one claims, stores
        # and reports (intake.twostage). Duplicates are only counted, never yielded.
        verdicts, stats = judge(
            path, licences, seen, ReportedPeriods(outbox, conn), chain_time=chain_time, pending=pending
        )
        progress_at = 1000
        for item in verdicts:
            if type(item) is Rejection:
                rejects.add(item)
                rejected.append(item)
                if len(result.rejections) < SHOWN_REJECTIONS:
                    result.rejections.append(item)
            else:
                batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= BATCH_LINES or len(rejected) >= BATCH_LINES:
                store()
                fault("mid_file")
            if on_progress and (done := stats.valid + stats.rejected + stats.duplicates) >= progress_at:
                on_progress(done)
                progress_at = done - done % 1000 + 1000
        store()
    except BaseException:
        with contextlib.suppress(Exception):  # the error in hand is the one to raise
            conn.rollback()  # a half-stored batch is not committed with the next feed's first one
        rejects.discard()
        raise
    result.lines_read = stats.valid + stats.rejected + stats.duplicates  # every line read is one of these
    result.valid, result.rejected = stats.valid, stats.rejected
    result.duplicates, result.out_of_scope = stats.duplicates, stats.out_of_scope
    outbox.finish_file(
        conn,
        file_id,
        {
            "lines_read": result.lines_read,
            "valid": result.valid,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
        },
    )
    try:
        fault("after_ingest")
    except BaseException:
        rejects.discard()
        raise
    result.rejects_file = str(rejects.close())
    if on_progress:
        on_progress(result.lines_read)
    log.info(
        "feed_ingested",
        path=str(path),
        lines=result.lines_read,
        valid=result.valid,
        rejected=result.rejected,
        duplicates=result.duplicates,
        out_of_scope=result.out_of_scope,
    )
    return result
