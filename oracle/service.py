"""The oracle's work: ingest feeds, sign reports for periods that are due, settle them once.

Three stages, each safe to interrupt at any point and to run again; this class coordinates them
over one outbox connection and keeps the public methods the CLI, scripts, bench and tests use:

1. ``ingest``: parse and validate a feed line by line; good lines go to the outbox in batches,
   bad ones to ``<file>.rejects.csv`` with line, field, value and reason. Reading a file again
   finds its lines already stored (duplicates change nothing). ``ingest_inbox`` does a round
   of the watch service's inbox (:mod:`oracle.inbox`: each feed claimed, read and moved once).
2. ``build_reports`` (:mod:`oracle.reports`): a period is due once it ended (by chain time and
   the licence's calendar rule) plus the grace period, or once an operator closed it; its lines
   are aggregated, signed by k oracle keys and stored with the lines tied to it. A served
   licence's ended period without lines gets a nil report (no buckets), unless ``nil_reports``
   is off.
3. ``send`` (:mod:`oracle.sender`): reconcile every unfinished report with the chain, then
   simulate and send the batches from the one sender, pipelined, recording each transaction hash
   before it is broadcast; refusals are decoded, re-signed, deferred or recorded as rejected.

Alongside them, ``step_escalations`` (:mod:`oracle.escalation`) signs and sends the next index
step of each licence with an escalation clause once the outbox holds its index values, and
``fire_reviews`` (:mod:`oracle.reviews`) signs and sends the evidence of each served licence's
review triggers (a loaded benchmark value beyond the clause's move, the settled volume past its
threshold) once.

An audit finding (``queue_audit``, :mod:`oracle.audit`) takes a shortcut past the first two:
its feed is judged whole, and its lines and its signed audit report are stored in one
transaction (they never wait), for ``send`` to settle.

A fault hook (:mod:`oracle.hooks`, a no-op by default) is called at the points where a crash
matters; the crash tests inject one that kills the process there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import structlog
from eth_account.signers.local import LocalAccount

from oracle.audit import QueuedAudit, queue_audit
from oracle.directory import LicenceDirectory
from oracle.escalation import EscalationStepper, StepRound
from oracle.hooks import FaultHook, no_fault
from oracle.inbox import FeedInbox, FeedOutcome
from oracle.ingest import IngestResult
from oracle.ingest import ingest as ingest_feed
from oracle.node import ChainNode, ledger_abi
from oracle.reports import DEFAULT_NIL_REPORTS_PER_LICENCE, ReportBuilder
from oracle.reviews import ReviewFirer, ReviewRound
from oracle.sender import ReportSender, SendResult
from outbox import Outbox
from outbox.lease import SenderLease
from royalty_chain.client import Chain

__all__ = ["FeedOutcome", "IngestResult", "OracleService", "ReviewRound", "SendResult", "StepRound"]

log = structlog.get_logger("oracle")


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
        nil_reports: bool = True,
        nil_reports_per_licence: int = DEFAULT_NIL_REPORTS_PER_LICENCE,
        fault: FaultHook = no_fault,
        lease: SenderLease | None = None,
    ) -> None:
        self.chain = chain
        self.lease = lease
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
            nil_reports=nil_reports,
            nil_reports_per_licence=nil_reports_per_licence,
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
            period_name=self.builder.period_name,
            lease=lease,
        )
        self.stepper = EscalationStepper(chain, outbox, self.conn, self.builder.signers_of, sender, fault=fault)
        self.reviewer = ReviewFirer(chain, outbox, self.conn, self.builder.signers_of, sender, fault=fault)

    @property
    def fault(self) -> FaultHook:
        """The fault hook this service calls (a no-op but in the crash tests)."""
        return self._fault

    @property
    def simulation(self) -> str:
        """How the sender simulates batches: "eth_simulateV1", or "eth_estimateGas" after a fallback."""
        return self.report_sender.simulation

    # ---------------------------------------------------------------- ingest

    def ingest(self, path: Path, on_progress: Callable[[int], None] | None = None) -> IngestResult:
        """Judge a feed and store its lines and rejections (oracle.ingest)."""
        return ingest_feed(
            path,
            self.outbox,
            self.conn,
            self.directory.all(),
            chain_time=self.chain_time(),
            on_progress=on_progress,
            fault=self._fault,
        )

    def ingest_inbox(self, inbox: FeedInbox) -> list[FeedOutcome]:
        """One round of the inbox. The licences and the chain's time are read before any feed is
        claimed, so that a chain out of reach fails the round (and the service) and is never
        counted against a feed."""
        if not inbox.has_work():
            return []
        licences, chain_time = self.directory.all(), self.chain_time()

        def read(path: Path) -> IngestResult:
            return ingest_feed(
                path, self.outbox, self.conn, licences, chain_time=chain_time, fault=self._fault, resume=True
            )

        return inbox.run_round(read)

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

    def step_escalations(self) -> StepRound:
        """Signs and sends each served licence's next escalation step whose index values are
        stored (oracle.escalation); holds and logs the ones still waiting for values."""
        return self.stepper.round()

    def fire_reviews(self) -> ReviewRound:
        """Signs and sends the evidence of each served licence's review triggers that the loaded
        benchmark values or the settled volume fire (oracle.reviews); holds and logs the others."""
        return self.reviewer.round()

    def queue_audit(
        self, path: Path, *, licence_id: int, period: int, cost: str, finding_ref: str | None = None
    ) -> QueuedAudit:
        """Signs the audit finding in ``path`` for a settled period into the outbox, with its lines
        (oracle.audit); ``send`` settles it. AuditError, and nothing stored, for bad input."""
        return queue_audit(
            self.chain,
            self.outbox,
            self.conn,
            self.directory,
            self.builder,
            path,
            licence_id=licence_id,
            period=period,
            cost=cost,
            finding_ref=finding_ref,
            chain_time=self.chain_time(),
        )

    # ---------------------------------------------------------------- all together

    def run(self, paths: Iterable[Path]) -> tuple[list[IngestResult], list[int], SendResult]:
        ingested = [self.ingest(p) for p in paths]
        built = self.build_reports()
        sent = self.send()
        return ingested, built, sent
