"""The oracle's work: ingest feeds, sign reports for periods that are due, settle them once.

Three stages, each safe to interrupt at any point and to run again; this class coordinates them
over one outbox connection and keeps the public methods the CLI, scripts, bench and tests use:

1. ``ingest``: parse and validate a feed line by line; good lines go to the outbox in batches,
   bad ones to ``<file>.rejects.csv`` with line, field, value and reason. Reading a file again
   finds its lines already stored (duplicates change nothing).
2. ``build_reports`` (:mod:`oracle.reports`): a period is due once it ended (by chain time) plus
   the grace period, or once an operator closed it; its lines are aggregated, signed by k oracle
   keys and stored with the lines tied to it.
3. ``send`` (:mod:`oracle.sender`): reconcile every unfinished report with the chain, then
   simulate and send the batches from the one sender, pipelined, recording each transaction hash
   before it is broadcast; refusals are decoded, re-signed, deferred or recorded as rejected.

A fault hook (:mod:`oracle.hooks`, a no-op by default) is called at the points where a crash
matters; the crash tests inject one that kills the process there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import structlog
from eth_account.signers.local import LocalAccount

from oracle.directory import LicenceDirectory
from oracle.feed import Rejection
from oracle.hooks import FaultHook, no_fault
from oracle.node import ChainNode, ledger_abi
from oracle.reports import ReportBuilder
from oracle.sender import ReportSender, SendResult
from oracle.twostage import validate_two_stage
from oracle.validate import LicenceInfo, RejectsFile, Validator, ValidLine
from outbox import Outbox, OutboxSeenLines, ReportedPeriods
from royalty_chain.client import Chain

__all__ = ["IngestResult", "OracleService", "SendResult"]

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


class OracleService:
    def __init__(
        self,
        chain: Chain,
        outbox: Outbox,
        signers: list[LocalAccount],
        sender: LocalAccount,
        *,
        grace_seconds: int = 0,
        report_ttl_seconds: int = 86_400,
        batch_size: int = 25,
        fault: FaultHook = no_fault,
    ) -> None:
        self.chain = chain
        self.outbox = outbox
        self.sender = sender
        self.batch_size = batch_size
        self._fault = fault
        self.directory = LicenceDirectory(chain)
        self.conn = outbox.connect()
        self.builder = ReportBuilder(
            chain,
            outbox,
            self.conn,
            self.directory,
            signers,
            grace_seconds=grace_seconds,
            report_ttl_seconds=report_ttl_seconds,
            fault=fault,
        )
        self.report_sender = ReportSender(
            ChainNode(chain),
            ledger_abi(chain),
            outbox,
            self.conn,
            sender,
            self.builder.resign,
            batch_size=batch_size,
            fault=fault,
        )

    @property
    def simulation(self) -> str:
        """How the sender simulates batches: "eth_simulateV1", or "eth_estimateGas" after a fallback."""
        return self.report_sender.simulation

    # ---------------------------------------------------------------- ingest

    def ingest(self, path: Path, on_progress: Callable[[int], None] | None = None) -> IngestResult:
        result = IngestResult(path=str(path))
        file_id = self.outbox.start_file(self.conn, str(path))
        licences = self.directory.all()
        seen = OutboxSeenLines(self.outbox, self.conn)
        validator = Validator(licences, seen)
        chain_today = datetime.fromtimestamp(self.chain_time(), UTC).date()
        today = max(chain_today, date.today())
        batch: list[ValidLine] = []
        rejected: list[Rejection] = []  # since the last store, for the outbox
        rejects = RejectsFile(path)
        reported = ReportedPeriods(self.outbox, self.conn)
        stats = validator.stats

        def reject(r: Rejection) -> None:
            rejects.add(r)
            rejected.append(r)
            if len(result.rejections) < SHOWN_REJECTIONS:
                result.rejections.append(r)

        try:
            progress_at = 1000
            # Parsing and the licence checks run in a forked process; this one claims, stores
            # and reports (oracle.twostage). Duplicates are only counted, never yielded.
            for item in validate_two_stage(path, validator, today=today):
                if type(item) is Rejection:
                    reject(item)
                else:
                    line: ValidLine = item  # type: ignore[assignment]
                    late = reported.late(line)
                    if late is not None:
                        reject(validator.count_rejection(late))
                        stats.valid -= 1
                    else:
                        batch.append(line)
                if len(batch) >= BATCH_LINES or len(rejected) >= BATCH_LINES:
                    self._store(batch, rejected, file_id, licences, seen, str(path))
                    self._fault("mid_file")
                    batch, rejected = [], []
                if on_progress and (done := stats.valid + stats.rejected + stats.duplicates) >= progress_at:
                    on_progress(done)
                    progress_at = done - done % 1000 + 1000
            self._store(batch, rejected, file_id, licences, seen, str(path))
        except BaseException:
            rejects.discard()
            raise
        result.lines_read = stats.valid + stats.rejected + stats.duplicates  # every line read is one of these
        result.valid, result.rejected = stats.valid, stats.rejected
        result.duplicates, result.out_of_scope = stats.duplicates, stats.out_of_scope
        self.outbox.finish_file(
            self.conn,
            file_id,
            {
                "lines_read": result.lines_read,
                "valid": result.valid,
                "rejected": result.rejected,
                "duplicates": result.duplicates,
            },
        )
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

    def _store(
        self,
        batch: list[ValidLine],
        rejected: list[Rejection],
        file_id: int,
        licences: dict[int, LicenceInfo],
        seen: OutboxSeenLines,
        source: str,
    ) -> None:
        """Good lines and rejections read since the last store, in one transaction."""
        if not batch and not rejected:
            return
        licensee_of = {lid: info.licensee.lower() for lid, info in licences.items()}
        self.outbox.store_lines(self.conn, licensee_of, batch, source)
        self.outbox.store_rejections(self.conn, file_id, rejected)
        self.conn.commit()
        seen.flushed()

    # ---------------------------------------------------------------- reports and sending

    def chain_time(self) -> int:
        return self.builder.chain_time()

    def due_periods(self) -> list[tuple[int, int, int]]:
        return self.builder.due_periods()

    def build_reports(self) -> list[int]:
        return self.builder.build_reports()

    def close_period(self, licence_id: int, period: int) -> None:
        self.builder.close_period(licence_id, period)

    def send(self) -> SendResult:
        return self.report_sender.send()

    # ---------------------------------------------------------------- all together

    def run(self, paths: Iterable[Path]) -> tuple[list[IngestResult], list[int], SendResult]:
        ingested = [self.ingest(p) for p in paths]
        built = self.build_reports()
        sent = self.send()
        return ingested, built, sent
