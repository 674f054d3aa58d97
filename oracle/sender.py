"""Sending signed reports: the one sender's nonces, gas, receipts and refusals.

Every round first checks that the chain still holds the newest settlement the outbox recorded:
a node restored from an older state (Anvil killed between two writes of its state file) may have
lost the last blocks, and with them settlements the outbox calls settled. Those reports are
signed reports again and go out like any other (``chain_lost_settlements``, one log line).
Every unfinished report is then reconciled with the chain (settled already? its transaction
mined, pending or lost?). Then each batch is simulated against the latest state (eth_simulateV1,
or eth_estimateGas where the node lacks it; see ``_simulate``) and sent, its transaction hash
recorded before it is broadcast. Batches are pipelined: each gets the next locally counted nonce
and goes out without waiting for the receipts of the ones before it (up to MAX_IN_FLIGHT), except
that a batch touching a licence with a transaction in flight waits for it, so its simulation sees
that licence's state. A refusal is decoded: the ones that a fresh signature cures are re-signed,
the "not yet" ones wait for a later round, the rest are recorded as rejected and never retried.

An adjustment names the settlement it corrects: when another one settled first
(AdjustmentNotOfLatest), it is signed again naming the period's new latest settlement, as a
stale sequence is (an audit finding stays one, with its cost). Its settlement is told from its
period's original by the Settled event's kind (Adjustment, or Audit for an audit finding), and
the period's ``settledPeriod`` (the original's) never marks it settled.

The sender talks to the node only through :class:`SenderNode` (raw JSON-RPC answers throughout:
receipts are read as the node sends them, hex ``status`` and raw logs decoded with
:class:`royalty_chain.events.EventDecoder`), so its branches are unit-tested against a fake node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Connection

from oracle.conversion import records_of, with_conversions
from oracle.hooks import FaultHook, no_fault
from oracle.node import LedgerABI, SenderNode
from outbox import Outbox, StoredReport
from outbox.lease import LeaseLost, SenderLease
from royalty_chain.client import ContractRevert, FeeCapExceeded
from royalty_chain.models import Kind, Settlement
from royalty_chain.terms import Bucket, Conversion, Report

log = structlog.get_logger("oracle")

# Errors a fresh signature (new sequence, deadline, or the settlement an adjustment corrects)
# cures; anything else is final.
RESIGN_ERRORS = {"StaleSequence", "ReportExpired", "AdjustmentNotOfLatest"}
# Errors that mean "not yet": try again in a later round.
WAIT_ERRORS = {"PeriodNotEnded", "EnforcedPause", "PeriodNotSettled"}
# Settlement transactions the sender has in flight at once before it waits for their receipts.
MAX_IN_FLIGHT = 8
# Gas limit over the gas a simulation executed (about 1.38x): refunds hide up to 1/4 more
# (EIP-3529 caps them at a fifth of the gas used), and each nested call level needs 64/63 of its
# callee's gas.
SIMULATED_GAS_MARGIN = 1.25 * (64 / 63) ** 3 * 1.05
SIMULATED_GAS_EXTRA = 50_000
# eth_estimateGas already searched for a limit that works; this covers state moving meanwhile.
ESTIMATED_GAS_MARGIN = 1.2
ESTIMATED_GAS_EXTRA = 50_000
# A report is re-signed when its deadline is this close (seconds): it could expire in the pool.
DEADLINE_SLACK = 60
# Settled reports whose settlements are checked on chain per batch while walking back a loss.
HISTORY_PAGE = 64
# How long reconciliation waits for a pending transaction, and how often _drain polls receipts.
RECEIPT_WAIT_S = 60.0
DRAIN_TIMEOUT_S = 120.0
POLL_S = 0.02


@dataclass
class SendResult:
    sent: int = 0
    settled: list[StoredReport] = field(default_factory=list)
    rejected: list[StoredReport] = field(default_factory=list)
    waiting: int = 0
    # What each settled report's settlement drew from escrow (report id -> token units).
    paid: dict[int, int] = field(default_factory=dict)


@dataclass
class _Pipeline:
    """The sender's transactions of one round: its next nonce, fee fields, and what is in flight."""

    nonce: int
    fees: dict[str, int]
    in_flight: list[tuple[list[StoredReport], str]] = field(default_factory=list)
    _licences: set[int] = field(default_factory=set)

    def touches(self, batch: list[StoredReport]) -> bool:
        """Whether a report of ``batch`` is of a licence with a transaction in flight."""
        return any(s.licence_id in self._licences for s in batch)

    def sent(self, batch: list[StoredReport], tx_hash: str) -> None:
        self.in_flight.append((batch, tx_hash))
        self._licences.update(s.licence_id for s in batch)
        self.nonce += 1

    def landed(self) -> None:
        """Nothing is in flight any more (the receipts were read, or left to reconciliation)."""
        self.in_flight.clear()
        self._licences.clear()


def as_report(stored: StoredReport) -> Report:
    """The signed report a stored row stands for; ValueError for a legacy report (signed for the
    ledger before contract years), which no current ledger can settle."""
    if stored.legacy:
        raise ValueError(f"report {stored.id} was signed for the ledger before contract years: it cannot be sent")
    report = Report(
        licence_id=stored.licence_id,
        period=stored.period,
        sequence=stored.sequence,
        deadline=stored.deadline,
        lines_root=stored.lines_root,
        line_count=stored.line_count,
        buckets=tuple(Bucket(*b) for b in stored.buckets),
        returned=tuple(Bucket(*b) for b in stored.returned),
        corrects=stored.corrects,
        audit=stored.audit,
        audit_cost=stored.audit_cost,
        fx=tuple(Conversion(**c) for c in stored.fx),  # oracle.conversion.ConversionRecord's fields
    )
    return with_conversions(report, records_of(stored))


# The kinds of the Settled events that settle a report (an original, an adjustment, an audit
# finding); the Interest, Reserve and AuditCost settlements a report makes are not its own.
_REPORT_KINDS = (Kind.REPORT, Kind.ADJUSTMENT, Kind.AUDIT)


def _settled_kind(stored: StoredReport) -> int:
    """The kind of the Settled event that settles ``stored``."""
    if stored.audit:
        return Kind.AUDIT
    return Kind.ADJUSTMENT if stored.adjustment else Kind.REPORT


class ReportSender:
    """Sends the outbox's signed reports from one account and records what the chain did."""

    def __init__(
        self,
        node: SenderNode,
        ledger: LedgerABI,
        outbox: Outbox,
        conn: Connection,
        account: LocalAccount,
        resign: Callable[[StoredReport], StoredReport],
        *,
        batch_size: int = 25,
        fault: FaultHook = no_fault,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        period_name: Callable[[int, int], str] | None = None,
        lease: SenderLease | None = None,
    ) -> None:
        self.node = node
        self.lease = lease
        self.ledger = ledger
        self.outbox = outbox
        self.conn = conn
        self.account = account
        self.resign = resign
        self.batch_size = batch_size
        self._fault = fault
        self._clock = clock
        self._sleep = sleep
        self._period_name = period_name
        self._pipe: _Pipeline | None = None
        self._landed: list[int] = []  # reports recorded as settled, not yet in a SendResult
        # How batches are simulated; falls back to "eth_estimateGas" (see _simulate).
        self.simulation = "eth_simulateV1"

    def send(self) -> SendResult:
        result = SendResult()
        self._recover_lost_settlements()
        self._reconcile(result)
        now = self.node.chain_time()
        ready: list[StoredReport] = []
        signed = self.outbox.reports_in(self.conn, "signed")
        lasts = self._views("lastSequence", [(i,) for i in sorted({s.licence_id for s in signed})])
        latest = self._views("latestOfPeriod", sorted({(s.licence_id, s.period) for s in signed if s.adjustment}))
        for stored in signed:
            if stored.adjustment and not int(latest[(stored.licence_id, stored.period)]):
                # Its period is not settled on chain (the chain lost that settlement too): the
                # original goes first, and this adjustment is signed afresh for it in a later round.
                continue
            if (
                stored.sequence <= lasts[(stored.licence_id,)]
                or stored.deadline <= now + DEADLINE_SLACK
                or (stored.adjustment and int(latest[(stored.licence_id, stored.period)]) != stored.corrects)
            ):
                stored = self.resign(stored)
            ready.append(stored)
        if ready:
            try:
                fees = self.node.fee_fields()
            except FeeCapExceeded as over:
                # Nothing is sent this round: the reports stay signed in the outbox for a later one.
                log.warning(
                    "fee_cap_exceeded", cap=over.cap, capped=over.capped, asked=over.asked, reports=len(ready),
                    action="reports stay queued",
                )  # fmt: skip
                result.waiting = len(self.outbox.reports_in(self.conn, "signed", "sent"))
                return result
            self._pipe = _Pipeline(self.node.pending_nonce(self.account.address), fees)
            try:
                for start in range(0, len(ready), self.batch_size):
                    self._send_batch(ready[start : start + self.batch_size], result)
            finally:
                self._drain(result)
        result.waiting = len(self.outbox.reports_in(self.conn, "signed", "sent"))
        return result

    def _named(self, stored: StoredReport) -> dict[str, Any]:
        """The report's licence and period for a log line, with the period's name when known."""
        names: dict[str, Any] = {"licence": stored.licence_id, "period": stored.period}
        if self._period_name is not None:
            names["period_name"] = self._period_name(stored.licence_id, stored.period)
        return names

    # ---------------------------------------------------------------- chain reads

    def _views(self, view: str, keys: list[tuple[int, ...]]) -> dict[tuple[int, ...], Any]:
        """The ledger's ``view(*key)`` for many keys in one JSON-RPC batch (none asked for none)."""
        if not keys:
            return {}
        fn = self.ledger.codec.fn(view)
        answers = self.node.call_many([(self.ledger.address, fn, key) for key in keys])
        return dict(zip(keys, answers, strict=True))

    def _receipt(self, tx_hash: str) -> tuple[dict[str, Any] | None, bool]:
        """The raw receipt (None while there is none) and whether the node knows the transaction.
        A pending one is waited for up to RECEIPT_WAIT_S."""
        receipt: dict[str, Any] | None
        receipt, tx = self._batch([("eth_getTransactionReceipt", [tx_hash]), ("eth_getTransactionByHash", [tx_hash])])
        if receipt is not None or tx is None:
            return receipt, tx is not None
        deadline = self._clock() + RECEIPT_WAIT_S
        while self._clock() < deadline:
            self._sleep(POLL_S * 5)
            (receipt,) = self._batch([("eth_getTransactionReceipt", [tx_hash])])
            if receipt is not None:
                break
        return receipt, True

    def _batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        answers = self.node.rpc_batch(requests)
        for (method, params), answer in zip(requests, answers, strict=True):
            if "error" in answer:
                raise self.node.rpc_error(answer["error"], f"{method}{params}")
        return [answer.get("result") for answer in answers]

    # ---------------------------------------------------------------- history

    def _recover_lost_settlements(self) -> None:
        """Settled reports whose settlements the chain no longer holds become signed again.

        The chain numbers settlements in order and a lost stretch of blocks is its newest
        stretch, so the outbox's settled reports are checked from the newest settlement down:
        the first one the chain still holds (the same licence, period and kind under its id)
        vouches for every older one. A round costs two view calls once anything settled."""
        page = self.outbox.settled_newest_first(self.conn, None, 1)
        if not page:
            return
        (count,) = self._views("settlementCount", [()]).values()
        lost: list[StoredReport] = []
        while page:
            ids = [int(s.settlement_id or 0) for s in page]  # settled reports all have one
            on_chain = self._views("settlement", [(i,) for i in ids if i <= int(count)])
            intact = False
            for stored, settlement_id in zip(page, ids, strict=True):
                found = on_chain.get((settlement_id,))
                if found is not None and self._holds(stored, Settlement.from_abi(found)):
                    intact = True
                    break
                lost.append(stored)
            if intact:
                break
            page = self.outbox.settled_newest_first(self.conn, ids[-1], HISTORY_PAGE)
        if not lost:
            return
        self.outbox.reopen_lost(self.conn, [s.id for s in lost])
        log.warning(
            "chain_lost_settlements",
            reports=[s.id for s in lost],
            settlements=[s.settlement_id for s in lost],
            chain_settlements=int(count),
            action="sending these reports again",
        )

    @staticmethod
    def _holds(stored: StoredReport, settlement: Settlement) -> bool:
        """Whether ``settlement`` is the one ``stored`` was recorded with (not its royalty: a
        dispute's resolution changes that)."""
        return (
            settlement.licence_id == stored.licence_id
            and settlement.period == stored.period
            and int(settlement.kind) == _settled_kind(stored)
        )

    # ---------------------------------------------------------------- reconciliation

    def _reconcile(self, result: SendResult) -> None:
        """Before sending anything: what does the chain say about unfinished reports?"""
        unfinished = self.outbox.reports_in(self.conn, "signed", "sent")
        originals = [s for s in unfinished if not s.adjustment]  # an adjustment's period is settled already
        settled_ids = self._views("settledPeriod", [(s.licence_id, s.period) for s in originals])
        done = {s.id: int(settled_ids[(s.licence_id, s.period)]) if not s.adjustment else 0 for s in unfinished}
        self._record_settled([(s, done[s.id]) for s in unfinished if done[s.id]], result)
        receipts: dict[str, tuple[dict[str, Any] | None, bool]] = {}
        for stored in unfinished:
            if done[stored.id] or stored.state != "sent" or not stored.tx_hash:
                continue
            if stored.tx_hash not in receipts:
                receipts[stored.tx_hash] = self._receipt(stored.tx_hash)
            receipt, known = receipts[stored.tx_hash]
            if receipt is None and known:
                # Still in the pool: sending the report again would only race it with a second
                # transaction (the next nonce) that fails on chain. The next round looks again.
                log.warning(
                    "report_pending",
                    report=stored.id,
                    **self._named(stored),
                    tx=stored.tx_hash,
                    waited_s=RECEIPT_WAIT_S,
                )
                continue
            if receipt is not None and int(receipt["status"], 16) == 1:
                args = self._settled_events(receipt).get((stored.licence_id, stored.period, _settled_kind(stored)))
                if args is not None:
                    self._record(stored, args, stored.tx_hash, result)
                    self._flush(result)
                    continue
            # Mined and failed, or lost (dropped, or the chain restarted without it): send again.
            log.warning(
                "report_resend", report=stored.id, **self._named(stored), tx=stored.tx_hash, found=receipt is not None
            )
            self.outbox.resign(self.conn, stored.id, stored.sequence, stored.deadline, stored.signatures)

    def _record_settled(self, found: list[tuple[StoredReport, int]], result: SendResult) -> None:
        """Reports the chain settled by a transaction not at hand: their settlements, read in one batch."""
        if not found:
            return
        settlements = self._views("settlement", [(settlement_id,) for _, settlement_id in found])
        for stored, settlement_id in found:
            settlement = Settlement.from_abi(settlements[(settlement_id,)])
            args = {"settlementId": settlement_id, "royalty": settlement.royalty, "paid": settlement.paid}
            self._record(stored, args, None, result)
            log.info(
                "report_settled",
                report=stored.id,
                **self._named(stored),
                settlement=settlement_id,
                royalty=settlement.royalty,
            )
        self._flush(result)

    def _record(self, stored: StoredReport, args: dict[str, Any], tx_hash: str | None, result: SendResult) -> None:
        """Marks one report settled as the chain says (uncommitted: see _flush)."""
        paid = int(args["paid"])
        self.outbox.mark_settled(
            self.conn, stored.id, int(args["settlementId"]), int(args["royalty"]), paid, tx_hash, commit=False
        )
        result.paid[stored.id] = paid
        self._landed.append(stored.id)

    def _flush(self, result: SendResult) -> None:
        """Commits what was recorded and adds those reports to the result, read in one query."""
        self.conn.commit()
        result.settled.extend(self.outbox.get_reports(self.conn, self._landed))
        self._landed = []

    def _settled_events(self, receipt: dict[str, Any]) -> dict[tuple[int, int, int], dict[str, Any]]:
        """The report settlements (Settled events of kind Report, Adjustment or Audit) of a raw
        receipt, by (licence, period, kind). A report paid after its due date is followed by an
        Interest settlement with the same licence and period, and an audit finding above the
        threshold by its AuditCost settlement: those are not the report's."""
        found = {}
        for entry in receipt["logs"]:
            event = self.ledger.events.decode(entry)
            if event is None or event.name != "Settled" or event.contract != "RoyaltyLedger":
                continue
            kind = int(event.args["kind"])
            if kind in _REPORT_KINDS:
                found[int(event.args["licenceId"]), int(event.args["period"]), kind] = event.args
        return found

    # ---------------------------------------------------------------- sending

    def _simulate(self, calldata: bytes) -> int:
        """Runs a settleReports call against the chain's latest state and returns the gas limit
        to send it with, or raises the decoded ContractRevert (ChainError with no revert data).

        eth_simulateV1 executes the call once and reports its gas; eth_estimateGas searches for
        the smallest gas that works by executing it a dozen times or more (86% of the send
        stage on Anvil). So simulateV1 is used where the node has it, with a limit that covers
        what the executed gas can hide: refunds (at most a fifth of the gas, EIP-3529) and the
        63/64 rule of nested calls. A node without it, or a transaction that failed on chain
        after such a simulation, switches this sender to eth_estimateGas.
        """
        call = {"from": self.account.address, "to": self.ledger.address, "data": "0x" + calldata.hex()}
        if self.simulation == "eth_simulateV1":
            (answer,) = self.node.rpc_batch([("eth_simulateV1", [{"blockStateCalls": [{"calls": [call]}]}, "latest"])])
            result = answer.get("result")
            if "error" in answer or not result or not result[0].get("calls"):
                log.info("simulation_fallback", method="eth_estimateGas", reason=str(answer.get("error") or result))
                self.simulation = "eth_estimateGas"
            else:
                outcome = result[0]["calls"][0]
                if int(outcome["status"], 16) == 1:
                    return int(int(outcome["gasUsed"], 16) * SIMULATED_GAS_MARGIN) + SIMULATED_GAS_EXTRA
                returned = outcome.get("returnData")
                if isinstance(returned, str) and returned.startswith("0x") and len(returned) >= 10:
                    raise self.ledger.errors.decode(returned)
                raise self.node.rpc_error(outcome.get("error"), "settleReports simulation failed without revert data")
        (answer,) = self.node.rpc_batch([("eth_estimateGas", [call])])
        if "error" not in answer:
            return int(int(answer["result"], 16) * ESTIMATED_GAS_MARGIN) + ESTIMATED_GAS_EXTRA
        raise self.node.rpc_error(answer["error"], "settleReports simulation failed without revert data")

    def _send_batch(self, batch: list[StoredReport], result: SendResult) -> None:
        pipe = self._pipe
        if pipe is None:
            raise RuntimeError("_send_batch runs inside send(), which sets up the round's pipeline")
        if pipe.touches(batch):
            # The simulation must see the state this licence's earlier transaction leaves.
            self._drain(result)
        settle = self.ledger.codec.fn("settleReports")
        calldata = settle.encode([as_report(s).as_abi() for s in batch], [list(s.signatures) for s in batch])
        try:
            gas = self._simulate(calldata)
        except ContractRevert as revert:
            self._drain(result)  # refusals are sorted out one report at a time on settled state
            if len(batch) > 1:
                log.info("batch_refused_splitting", size=len(batch), error=str(revert))
                for stored in batch:
                    self._send_batch([stored], result)
                return
            self._refused(batch[0], revert, result)
            return
        tx: dict[str, Any] = {
            "to": self.ledger.address,
            "data": calldata,
            "value": 0,
            "gas": gas,
            "nonce": pipe.nonce,
            "chainId": self.node.chain_id,
            **pipe.fees,
        }
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        # Write-ahead: the hash is on record before the transaction can exist anywhere.
        # Fenced: with a lease, only its holder at its epoch records (and so sends) anything.
        self.outbox.mark_sent(
            self.conn, [s.id for s in batch], tx_hash, fence=self.lease.fence if self.lease is not None else None
        )
        self._fault("after_mark_sent")
        if self.lease is not None and not self.lease.may_broadcast():
            # Recorded, not broadcast: whoever holds the lease next finds it lost and sends it again.
            raise LeaseLost(f"instance {self.lease.holder} lost the sender lease before broadcasting {tx_hash}")
        self.node.send_raw_transaction(bytes(signed.raw_transaction))
        pipe.sent(batch, tx_hash)
        result.sent += len(batch)
        log.info("reports_sent", tx=tx_hash, nonce=tx["nonce"], reports=[s.id for s in batch])
        self._fault("after_send")
        if len(pipe.in_flight) >= MAX_IN_FLIGHT:
            self._drain(result)

    def _drain(self, result: SendResult, timeout: float = DRAIN_TIMEOUT_S) -> None:
        """Waits for the receipts of every transaction in flight (one JSON-RPC batch per poll)
        and records what settled. A receipt still missing after ``timeout`` is left for the next
        round's reconciliation."""
        pipe = self._pipe
        if pipe is None or not pipe.in_flight:
            return
        waiting = list(pipe.in_flight)
        deadline = self._clock() + timeout
        while waiting:
            answers = self.node.rpc_batch([("eth_getTransactionReceipt", [tx]) for _, tx in waiting])
            still = []
            for (batch, tx_hash), answer in zip(waiting, answers, strict=True):
                receipt = answer.get("result")  # an error answer counts as "not yet"
                if receipt is None:
                    still.append((batch, tx_hash))
                else:
                    self._mined(batch, tx_hash, receipt, result)
            waiting = still
            if waiting:
                if self._clock() > deadline:
                    log.warning("receipts_pending", txs=[tx for _, tx in waiting], waited_s=timeout)
                    break
                self._sleep(POLL_S)
        pipe.landed()
        self._flush(result)

    def _mined(self, batch: list[StoredReport], tx_hash: str, receipt: dict[str, Any], result: SendResult) -> None:
        """Records the settlements of one mined transaction (uncommitted: _drain flushes)."""
        if int(receipt["status"], 16) != 1:
            for stored in batch:
                self.outbox.note_error(self.conn, stored.id, f"transaction {tx_hash} failed")
            if self.simulation != "eth_estimateGas":  # the simulation did not foresee it
                log.warning("simulation_fallback", method="eth_estimateGas", reason=f"transaction {tx_hash} failed")
                self.simulation = "eth_estimateGas"
            return
        by_period = self._settled_events(receipt)
        settled = 0
        for stored in batch:
            args = by_period.get((stored.licence_id, stored.period, _settled_kind(stored)))
            if args is not None:
                self._record(stored, args, tx_hash, result)
                settled += 1
        log.info("reports_mined", tx=tx_hash, settled=settled)

    def _refused(self, stored: StoredReport, revert: ContractRevert, result: SendResult) -> None:
        if revert.error == "PeriodAlreadySettled":
            self._record_settled([(stored, int(revert.args[2]))], result)
        elif revert.error in RESIGN_ERRORS:
            self._send_batch([self.resign(stored)], result)
        elif revert.error in WAIT_ERRORS:
            self.outbox.note_error(self.conn, stored.id, str(revert))
        else:
            self.outbox.mark_rejected(self.conn, stored.id, str(revert))
            log.error("report_rejected", report=stored.id, **self._named(stored), error=str(revert))
            result.rejected.append(self.outbox.get_report(self.conn, stored.id))
