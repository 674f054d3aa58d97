"""The oracle's work: ingest feeds, sign reports for periods that are due, settle them once.

Three steps, each safe to interrupt at any point and to run again:

1. ``ingest``: parse and validate a feed line by line; good lines go to the outbox in batches,
   bad ones to ``<file>.rejects.csv`` with line, field, value and reason. Reading a file again
   finds its lines already stored (duplicates change nothing). See oracle.ingest.
2. ``build_reports``: a period is due once it ended (by chain time) plus the grace period, or
   once an operator closed it. Its waiting lines are aggregated into buckets and a Merkle root,
   signed by k oracle keys, and stored with the lines tied to it in one transaction.
3. ``send``: reconcile every unfinished report with the chain first (settled already? the
   transaction mined, pending or lost?), then simulate each batch against the latest state
   (eth_simulateV1, or eth_estimateGas where the node lacks it; see _simulate) and send the
   batches from the one sender, recording each transaction hash before it is broadcast.
   Batches are pipelined: each gets the next locally counted nonce and goes out without waiting
   for the receipts of the ones before it (up to MAX_IN_FLIGHT), except that a batch touching
   a licence with a transaction in flight waits for it, so its simulation sees that licence's
   state. A refusal is decoded; the ones that a fresh signature
   cures (stale sequence, passed deadline) are re-signed, the rest recorded as rejected and
   never retried blindly.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from intake.validate import ValidLine
from oracle.aggregate import Aggregator
from oracle.directory import LicenceDirectory
from oracle.ingest import IngestResult
from oracle.ingest import ingest as ingest_feed
from oracle.outbox import Outbox, StoredReport
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain, ContractRevert, revert_data, settlement_context_from_abi
from royalty_chain.terms import Bucket, Report

log = structlog.get_logger("oracle")

# Errors a fresh signature (new sequence or deadline) cures; anything else is final.
RESIGN_ERRORS = {"StaleSequence", "ReportExpired"}
# Errors that mean "not yet": try again in a later round.
WAIT_ERRORS = {"PeriodNotEnded", "EnforcedPause"}
# Settlement transactions the sender has in flight at once before it waits for their receipts.
MAX_IN_FLIGHT = 8
# Gas limit over the gas a simulation executed: refunds hide up to 1/4 more (EIP-3529 caps them at
# a fifth of the gas used), and each nested call level needs 64/63 of its callee's gas.
SIMULATED_GAS_MARGIN = 1.25 * (64 / 63) ** 3 * 1.05
SIMULATED_GAS_EXTRA = 50_000


_fault_hits: dict[str, int] = {}


def _fault(point: str) -> None:
    """Fault injection for the crash tests: ORACLE_FAULT=<point> kills this process the first
    time it reaches that point, ORACLE_FAULT=<point>@<n> the n-th time."""
    wanted = os.environ.get("ORACLE_FAULT")
    if not wanted or not wanted.startswith(point):
        return
    name, _, nth = wanted.partition("@")
    if name != point:
        return
    _fault_hits[point] = hits = _fault_hits.get(point, 0) + 1
    if hits == int(nth or 1):
        log.warning("fault_injected", point=point, hit=hits)
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class SendResult:
    sent: int = 0
    settled: list[StoredReport] = field(default_factory=list)
    rejected: list[StoredReport] = field(default_factory=list)
    waiting: int = 0


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
    ) -> None:
        self.chain = chain
        self.outbox = outbox
        self.signers = {a.address.lower(): a for a in signers}
        self.sender = sender
        self.grace_seconds = grace_seconds
        self.report_ttl_seconds = report_ttl_seconds
        self.batch_size = batch_size
        self.directory = LicenceDirectory(chain)
        self.conn = outbox.connect()
        self._signer_cache: dict[int, tuple[int, list[LocalAccount]]] = {}
        self._round_time = 0
        self._last_sequences: dict[int, int] = {}
        self._pipe: _Pipeline | None = None
        # How batches are simulated; falls back to "eth_estimateGas" (see _simulate).
        self.simulation = "eth_simulateV1"

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
            fault=_fault,
        )

    # ---------------------------------------------------------------- reports

    def chain_time(self) -> int:
        # RPC failures are retried with backoff by the provider (royalty_chain.client.Chain).
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def due_periods(self) -> list[tuple[int, int, int]]:
        now = self.chain_time()
        due = []
        for licence_id, period, count in self.outbox.waiting_periods(self.conn):
            info = self.directory.get(licence_id)
            if info is None:
                continue
            period_end = info.term_start + (period + 1) * info.period_seconds
            if now >= period_end + self.grace_seconds or self.outbox.is_closed(self.conn, licence_id, period):
                due.append((licence_id, period, count))
        return due

    def build_reports(self) -> list[int]:
        built = []
        self._round_time = self.chain_time()
        due = self.due_periods()
        # One JSON-RPC batch for what every report of the round needs from the chain.
        self._last_sequences = self._read_many("lastSequence", sorted({licence_id for licence_id, _, _ in due}))
        self._prefetch_signers([licence_id for licence_id, _, _ in due])
        for licence_id, period, _ in due:
            if self.outbox.report_for(self.conn, licence_id, period) is not None:
                late = self.outbox.mark_late(self.conn, licence_id, period)
                self.conn.commit()
                log.warning("late_lines", licence=licence_id, period=period, lines=late)
                continue
            built.append(self._build(licence_id, period))
        # One commit (one fsync) for the round: a crash before it loses only signatures.
        self.conn.commit()
        return built

    def _read_many(self, view: str, licence_ids: list[int]) -> dict[int, int]:
        """The ledger's ``view(licence_id)`` for many licences in one JSON-RPC batch."""
        fn = self.chain.codecs["RoyaltyLedger"].fn(view)
        ledger = self.chain.ledger.address
        answers = self.chain.call_many([(ledger, fn, (licence_id,)) for licence_id in licence_ids])
        return {licence_id: int(answer) for licence_id, answer in zip(licence_ids, answers, strict=True)}

    def _prefetch_signers(self, licence_ids: list[int]) -> None:
        """Thresholds and oracle sets of licences not seen before, in one JSON-RPC batch."""
        new = sorted({i for i in licence_ids if i not in self._signer_cache})
        if not new:
            return
        codec = self.chain.codecs["LicenceRegistry"]
        context_of, is_oracle = codec.fn("settlementContext"), codec.fn("isOracle")
        registry = self.chain.registry.address
        addresses = [self.chain.w3.to_checksum_address(a) for a in self.signers]
        calls: list[tuple[str, Any, tuple[Any, ...]]] = []
        for licence_id in new:
            calls.append((registry, context_of, (licence_id,)))
            calls.extend((registry, is_oracle, (licence_id, address)) for address in addresses)
        answers = iter(self.chain.call_many(calls))
        for licence_id in new:
            threshold = int(settlement_context_from_abi(next(answers))["threshold"])
            mine = [self.signers[a.lower()] for a in addresses if next(answers)]
            self._signer_cache[licence_id] = (threshold, sorted(mine, key=lambda a: int(a.address, 16)))

    def _build(self, licence_id: int, period: int) -> int:
        aggregator = Aggregator()
        for row in self.outbox.waiting_lines(self.conn, licence_id, period):
            aggregator.add(
                ValidLine(
                    row["line_number"],
                    row["line_id"],
                    licence_id,
                    period,
                    row["sale_day"],
                    row["territory"],
                    row["field"],
                    row["channel"],
                    int(row["units"]),
                    int(row["gross"]),
                    int(row["deductions"]),
                    bytes(row["leaf"]),
                    bool(row["in_scope"]),
                )
            )
        (totals,) = aggregator.finish()
        buckets = [[b.territory, b.field, b.channel, b.units, b.gross, b.deductions] for b in totals.buckets]
        chain_last = self._last_sequences.get(licence_id)
        if chain_last is None:
            chain_last = self.chain.ledger.last_sequence(licence_id)
        sequence = self.outbox.next_sequence(self.conn, licence_id, chain_last)
        deadline = self._round_time + self.report_ttl_seconds
        report = _report(licence_id, period, sequence, deadline, totals.lines_root, totals.line_count, buckets)
        signatures = self._sign(report)
        report_id = self.outbox.add_report(
            self.conn,
            licence_id=licence_id,
            period=period,
            sequence=sequence,
            deadline=deadline,
            lines_root=totals.lines_root,
            line_count=totals.line_count,
            buckets=buckets,
            signatures=signatures,
            commit=False,
        )
        log.info(
            "report_signed",
            report=report_id,
            licence=licence_id,
            period=period,
            sequence=sequence,
            lines=totals.line_count,
            buckets=len(buckets),
        )
        _fault("after_sign")
        return report_id

    def _sign(self, report: Report) -> list[bytes]:
        threshold, mine = self._signers_for(report.licence_id)
        if len(mine) < threshold:
            raise RuntimeError(
                f"licence {report.licence_id} needs {threshold} oracle signatures; this oracle holds "
                f"{len(mine)} of its signer keys"
            )
        return sign_report(report_digest(self.chain, report), mine[:threshold])

    def _signers_for(self, licence_id: int) -> tuple[int, list[LocalAccount]]:
        """The licence's threshold and the keys this oracle holds of its oracle set.

        Both are fixed at registration, so they are read from the chain once per licence."""
        self._prefetch_signers([licence_id])
        return self._signer_cache[licence_id]

    def close_period(self, licence_id: int, period: int) -> None:
        self.outbox.close_period(self.conn, licence_id, period)
        log.info("period_closed", licence=licence_id, period=period)

    # ---------------------------------------------------------------- send

    def send(self) -> SendResult:
        result = SendResult()
        self._reconcile(result)
        now = self.chain_time()
        ready: list[StoredReport] = []
        signed = self.outbox.reports_in(self.conn, "signed")
        lasts = self._read_many("lastSequence", sorted({s.licence_id for s in signed}))
        for stored in signed:
            last = lasts[stored.licence_id]
            if stored.sequence <= last or stored.deadline <= now + 60:
                stored = self._resign(stored)
            ready.append(stored)
        if ready:
            self._pipe = _Pipeline(self._next_nonce(), self._fee_fields())
            try:
                for start in range(0, len(ready), self.batch_size):
                    self._send_batch(ready[start : start + self.batch_size], result)
            finally:
                self._drain(result)
        result.waiting = len(self.outbox.reports_in(self.conn, "signed", "sent"))
        return result

    def _reconcile(self, result: SendResult) -> None:
        """Before sending anything: what does the chain say about unfinished reports?"""
        unfinished = self.outbox.reports_in(self.conn, "signed", "sent")
        settled_period = self.chain.codecs["RoyaltyLedger"].fn("settledPeriod")
        ledger = self.chain.ledger.address
        settled_ids = self.chain.call_many([(ledger, settled_period, (s.licence_id, s.period)) for s in unfinished])
        for stored, settlement_id in zip(unfinished, settled_ids, strict=True):
            if settlement_id:
                self._settled(stored, int(settlement_id), None, result)
                continue
            if stored.state != "sent" or not stored.tx_hash:
                continue
            receipt = self._receipt(stored.tx_hash, wait=True)
            if receipt is not None and receipt["status"] == 1:
                settlement_id = self.chain.ledger.settled_period(stored.licence_id, stored.period)
                if settlement_id:
                    self._settled(stored, settlement_id, receipt, result)
                    continue
            # Mined and failed, or lost (dropped, or the chain restarted without it): send again.
            log.warning("report_resend", report=stored.id, tx=stored.tx_hash, found=receipt is not None)
            self.outbox.resign(self.conn, stored.id, stored.sequence, stored.deadline, stored.signatures)

    def _receipt(self, tx_hash: str, wait: bool) -> Any:
        w3 = self.chain.w3
        try:
            return w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            pass
        try:
            w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return None
        if not wait:
            return None
        try:
            return w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=60)
        except Exception:  # still pending after a minute: leave it for the next round
            return None

    def _resign(self, stored: StoredReport) -> StoredReport:
        sequence = self.outbox.next_sequence(
            self.conn, stored.licence_id, self.chain.ledger.last_sequence(stored.licence_id)
        )
        deadline = self.chain_time() + self.report_ttl_seconds
        report = _report(
            stored.licence_id, stored.period, sequence, deadline, stored.lines_root, stored.line_count, stored.buckets
        )
        signatures = self._sign(report)
        self.outbox.resign(self.conn, stored.id, sequence, deadline, signatures)
        log.info("report_resigned", report=stored.id, sequence=sequence, deadline=deadline)
        return self._reload(stored.id)

    # The sender pipelines its transactions: each batch is simulated and sent with the next local
    # nonce without waiting for the receipts of the ones before it, up to MAX_IN_FLIGHT at once.

    def _next_nonce(self) -> int:
        return int(self.chain.w3.eth.get_transaction_count(self.sender.address, "pending"))

    def _fee_fields(self) -> dict[str, int]:
        """Fee fields for the round's transactions, as web3 would fill them, asked once a round."""
        base_fee = self.chain.w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:  # a chain without EIP-1559
            return {"gasPrice": int(self.chain.w3.eth.gas_price)}
        priority = int(self.chain.w3.eth.max_priority_fee)
        return {"maxFeePerGas": 2 * int(base_fee) + priority, "maxPriorityFeePerGas": priority}

    def _simulate(self, calldata: bytes) -> int:
        """Runs a settleReports call against the chain's latest state and returns the gas limit
        to send it with, or raises the decoded ContractRevert (ChainError with no revert data).

        eth_simulateV1 executes the call once and reports its gas; eth_estimateGas searches for
        the smallest gas that works by executing it a dozen times or more (86% of the send
        stage on Anvil). So simulateV1 is used where the node has it, with a limit that covers
        what the executed gas can hide: refunds (at most a fifth of the gas, EIP-3529) and the
        63/64 rule of nested calls. A node without it, or a transaction that failed on chain
        after such a simulation, switches this service to eth_estimateGas.
        """
        call = {"from": self.sender.address, "to": self.chain.ledger.address, "data": "0x" + calldata.hex()}
        if self.simulation == "eth_simulateV1":
            (answer,) = self.chain.rpc_batch([("eth_simulateV1", [{"blockStateCalls": [{"calls": [call]}]}, "latest"])])
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
                    raise self.chain.decoder.decode(returned)
                raise self.chain.rpc_error(outcome.get("error"), "settleReports simulation failed without revert data")
        (answer,) = self.chain.rpc_batch([("eth_estimateGas", [call])])
        if "error" not in answer:
            return int(int(answer["result"], 16) * 1.2) + 50_000
        raise self.chain.rpc_error(answer["error"], "settleReports simulation failed without revert data")

    def _send_batch(self, batch: list[StoredReport], result: SendResult) -> None:
        pipe = self._pipe
        if pipe is None:
            raise RuntimeError("_send_batch runs inside send(), which sets up the round's pipeline")
        if pipe.touches(batch):
            # The simulation must see the state this licence's earlier transaction leaves.
            self._drain(result)
        reports = [
            _report(s.licence_id, s.period, s.sequence, s.deadline, s.lines_root, s.line_count, s.buckets)
            for s in batch
        ]
        settle = self.chain.codecs["RoyaltyLedger"].fn("settleReports")
        calldata = settle.encode([r.as_abi() for r in reports], [list(s.signatures) for s in batch])
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
            "to": self.chain.ledger.address,
            "data": calldata,
            "value": 0,
            "gas": gas,
            "nonce": pipe.nonce,
            "chainId": self.chain.chain_id,
            **pipe.fees,
        }
        signed = self.sender.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        # Write-ahead: the hash is on record before the transaction can exist anywhere.
        self.outbox.mark_sent(self.conn, [s.id for s in batch], tx_hash)
        _fault("after_mark_sent")
        self.chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        pipe.sent(batch, tx_hash)
        result.sent += len(batch)
        log.info("reports_sent", tx=tx_hash, nonce=tx["nonce"], reports=[s.id for s in batch])
        _fault("after_send")
        if len(pipe.in_flight) >= MAX_IN_FLIGHT:
            self._drain(result)

    def _drain(self, result: SendResult, timeout: float = 120.0) -> None:
        """Waits for the receipts of every transaction in flight (one JSON-RPC batch per poll)
        and records what settled. A receipt still missing after ``timeout`` is left for the next
        round's reconciliation."""
        pipe = self._pipe
        if pipe is None or not pipe.in_flight:
            return
        waiting = list(pipe.in_flight)
        mined: list[int] = []
        deadline = time.monotonic() + timeout
        while waiting:
            answers = self.chain.rpc_batch([("eth_getTransactionReceipt", [tx]) for _, tx in waiting])
            still = []
            for (batch, tx_hash), answer in zip(waiting, answers, strict=True):
                receipt = answer.get("result")
                if receipt is None:
                    still.append((batch, tx_hash))
                else:
                    self._mined(batch, tx_hash, receipt, mined)
            waiting = still
            if waiting:
                if time.monotonic() > deadline:
                    log.warning("receipts_pending", txs=[tx for _, tx in waiting], waited_s=timeout)
                    break
                time.sleep(0.02)
        pipe.landed()
        self.conn.commit()
        result.settled.extend(self.outbox.get_reports(self.conn, mined))

    def _mined(self, batch: list[StoredReport], tx_hash: str, receipt: dict[str, Any], mined: list[int]) -> None:
        """Records the settlements of one mined transaction; appends their report ids to ``mined``."""
        if int(receipt["status"], 16) != 1:
            for stored in batch:
                self.outbox.note_error(self.conn, stored.id, f"transaction {tx_hash} failed")
            if self.simulation != "eth_estimateGas":  # the simulation did not foresee it
                log.warning("simulation_fallback", method="eth_estimateGas", reason=f"transaction {tx_hash} failed")
                self.simulation = "eth_estimateGas"
            return
        by_period = {}
        for entry in receipt["logs"]:
            event = self.chain.events.decode(entry)
            if event is not None and event.name == "Settled" and event.contract == "RoyaltyLedger":
                by_period[int(event.args["licenceId"]), int(event.args["period"])] = event.args
        for stored in batch:
            args = by_period.get((stored.licence_id, stored.period))
            if args is None:
                continue
            self.outbox.mark_settled(
                self.conn,
                stored.id,
                int(args["settlementId"]),
                int(args["royalty"]),
                int(args["paid"]),
                tx_hash,
                commit=False,
            )
            mined.append(stored.id)
        log.info("reports_mined", tx=tx_hash, settled=sum((s.licence_id, s.period) in by_period for s in batch))

    def _decode(self, err: Exception) -> ContractRevert | None:
        data = revert_data(err)
        if data == "0x":
            return None
        return self.chain.decoder.decode(data)

    def _refused(self, stored: StoredReport, revert: ContractRevert, result: SendResult) -> None:
        if revert.error == "PeriodAlreadySettled":
            self._settled(stored, int(revert.args[2]), None, result)
        elif revert.error in RESIGN_ERRORS:
            self._send_batch([self._resign(stored)], result)
        elif revert.error in WAIT_ERRORS:
            self.outbox.note_error(self.conn, stored.id, str(revert))
        else:
            self.outbox.mark_rejected(self.conn, stored.id, str(revert))
            log.error(
                "report_rejected", report=stored.id, licence=stored.licence_id, period=stored.period, error=str(revert)
            )
            result.rejected.append(self._reload(stored.id))

    def _settled(self, stored: StoredReport, settlement_id: int, receipt: Any, result: SendResult) -> None:
        settlement = self.chain.ledger.settlement(settlement_id)
        self.outbox.mark_settled(
            self.conn,
            stored.id,
            settlement_id,
            int(settlement["royalty"]),
            int(settlement["paid"]),
            receipt["transactionHash"].hex() if receipt is not None else None,
        )
        log.info("report_settled", report=stored.id, settlement=settlement_id, royalty=int(settlement["royalty"]))
        result.settled.append(self._reload(stored.id))

    def _reload(self, report_id: int) -> StoredReport:
        return self.outbox.get_report(self.conn, report_id)

    # ---------------------------------------------------------------- all together

    def run(self, paths: Iterable[Path]) -> tuple[list[IngestResult], list[int], SendResult]:
        ingested = [self.ingest(p) for p in paths]
        built = self.build_reports()
        sent = self.send()
        return ingested, built, sent


def _report(
    licence_id: int, period: int, sequence: int, deadline: int, root: bytes, count: int, buckets: list[list[int]]
) -> Report:
    return Report(
        licence_id=licence_id,
        period=period,
        sequence=sequence,
        deadline=deadline,
        lines_root=root,
        line_count=count,
        buckets=tuple(Bucket(*b) for b in buckets),
    )
