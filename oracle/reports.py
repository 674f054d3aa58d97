"""Building reports: which periods are due, their buckets and Merkle root, k oracle signatures.

A period is due once it ended (by chain time) plus the grace period, or once an operator closed
it. Its waiting lines are aggregated into buckets and a Merkle root, signed by k oracle keys, and
stored with the lines tied to it in one transaction (one commit a round). A report whose
sequence went stale or whose deadline nears is signed again (``resign``) before it is sent.
"""

from __future__ import annotations

from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Connection

from intake.validate import ValidLine
from oracle.aggregate import Aggregator
from oracle.directory import LicenceDirectory
from oracle.hooks import FaultHook, no_fault
from outbox import Outbox, StoredReport
from royalty_chain.actions import report_digest, sign_report
from royalty_chain.client import Chain
from royalty_chain.models import SettlementContext
from royalty_chain.terms import Bucket, Report

log = structlog.get_logger("oracle")


class ReportBuilder:
    """Signs the reports of due periods into the outbox; holds this oracle's signer keys."""

    def __init__(
        self,
        chain: Chain,
        outbox: Outbox,
        conn: Connection,
        directory: LicenceDirectory,
        signers: list[LocalAccount],
        *,
        grace_seconds: int = 0,
        report_ttl_seconds: int = 86_400,
        fault: FaultHook = no_fault,
    ) -> None:
        self.chain = chain
        self.outbox = outbox
        self.conn = conn
        self.directory = directory
        self.signers = {a.address.lower(): a for a in signers}
        self.grace_seconds = grace_seconds
        self.report_ttl_seconds = report_ttl_seconds
        self._fault = fault
        self._signer_cache: dict[int, tuple[int, list[LocalAccount]]] = {}
        self._round_time = 0
        self._last_sequences: dict[int, int] = {}

    def chain_time(self) -> int:
        # RPC failures are retried with backoff by the provider (royalty_chain.client.Chain).
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def due_periods(self) -> list[tuple[int, int, int]]:
        now = self.chain_time()
        waiting = self.outbox.waiting_periods(self.conn)
        licences = self.directory.many(sorted({licence_id for licence_id, _, _ in waiting}))
        due = []
        for licence_id, period, count in waiting:
            info = licences.get(licence_id)
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

    def close_period(self, licence_id: int, period: int) -> None:
        self.outbox.close_period(self.conn, licence_id, period)
        log.info("period_closed", licence=licence_id, period=period)

    def resign(self, stored: StoredReport) -> StoredReport:
        """Signs ``stored`` again with the next sequence and a fresh deadline."""
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
        return self.outbox.get_report(self.conn, stored.id)

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
            threshold = SettlementContext.from_abi(next(answers)).threshold
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
        self._fault("after_sign")
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
