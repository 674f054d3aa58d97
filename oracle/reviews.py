"""Firing rate-review triggers: the oracle signs the evidence of each served licence's benchmark
and volume triggers once the data passes the clause's limit, and sends it (``LicenceReviews.fire``).

Every round, for each licence with a review clause that this oracle serves (it holds at least the
licence's threshold of oracle keys) and that is active, each trigger the clause names and the
chain has not fired (``fired(licence, kind)``: the chain is the only record of what fired):

- **benchmark**: the latest loaded value of the clause's benchmark (``royalty-oracle benchmarks
  load``; the value with the latest day). It is evidence when it is dated on or after the day
  the clause was attached (an older value was known when both parties signed the value at
  signing) and differs from the value at signing by more than the clause's move, either way
  (``ReviewMath.movedBeyond``). The evidence is that value as of the chain's time now;
- **volume**: the licence's cumulative net sales over the reports of this outbox that settled
  (``Outbox.settled_net_sales``: gross less deductions, less returns, in token units), at or
  above the clause's threshold, as of the chain's time now;
- **date**: needs no oracle (nothing is signed): the keeper fires it once the chain's clock
  reaches the date (``oracle.keeper``); here it is only held, so that ``status`` shows it.

Evidence (deadline: chain time + ``ttl_seconds``) is signed by ``threshold`` of this oracle's keys
of the licence, ascending by address, over the EIP-712 ``ReviewEvidence`` digest computed here in
the reviews contract's domain (as escalation steps are signed), simulated and sent from the
oracle's sender, and logged (``review_opened``). A trigger that does not fire yet is held in the
outbox (``review_holds``) and logged once per change of what it waits for
(``review_waits_for_benchmark``, ``review_waits_for_volume``); one the contract refuses is
logged with the contract's error name (``review_refused``, once per change) and the round goes
on with the others; TriggerAlreadyFired means another sender (or this one, before a crash
between send and receipt) fired it: done.

A fault hook is called at ``after_review_send`` (broadcast, receipt not read); the crash tests may
kill the process there: the next round reads ``fired`` and finds the trigger fired, or sends again
and is refused TriggerAlreadyFired if the first one lands later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import structlog
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy.engine import Connection
from web3.exceptions import TimeExhausted

from oracle.escalation import SignersOf
from oracle.hooks import FaultHook, no_fault
from outbox import Outbox
from royalty_chain.client import Chain, ChainError, ContractRevert
from royalty_chain.eip712 import REVIEW_EVIDENCE, sign_digest
from royalty_chain.models import Status
from royalty_chain.reviews import Evidence, Review, ReviewClause, Trigger, benchmark_text, moved_beyond

log = structlog.get_logger("oracle")

DEFAULT_EVIDENCE_TTL_SECONDS = 86_400
DONE_ERRORS = frozenset({"TriggerAlreadyFired"})
RECEIPT_TIMEOUT_SECONDS = 120.0
TRIGGER_NAMES = {Trigger.VOLUME: "volume", Trigger.BENCHMARK: "benchmark", Trigger.DATE: "date"}


@dataclass(frozen=True, slots=True)
class Opened:
    """A review this oracle's evidence opened."""

    licence_id: int
    review_id: int
    trigger: str
    observed: int
    reference: int
    current_rate_bps: int
    suggested_rate_bps: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class ReviewWaiting:
    """A trigger not fired: ``waits_for`` what would fire it, ``reason`` why it has not yet,
    ``error`` the contract's refusal ("" when none)."""

    licence_id: int
    trigger: str
    waits_for: str
    reason: str
    error: str = ""


@dataclass
class ReviewRound:
    opened: list[Opened] = field(default_factory=list)
    waiting: list[ReviewWaiting] = field(default_factory=list)
    done: list[tuple[int, str]] = field(default_factory=list)  # (licence, trigger) found fired already


@dataclass(frozen=True, slots=True)
class _Due:
    licence_id: int
    clause: ReviewClause
    threshold: int
    kinds: tuple[Trigger, ...]  # the clause's triggers the chain has not fired, in Trigger order


def evidence_digest(chain: Chain, evidence: Evidence) -> bytes:
    """The ReviewEvidence digest the reviews contract recovers signers from, computed here (its
    domain is asked of the contract once): what the oracle's keys sign."""
    return REVIEW_EVIDENCE.digest(chain.reviews.domain(), evidence.message())


def _day(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def _percent(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


def _waits_for(clause: ReviewClause, kind: Trigger) -> str:
    """What fires the trigger, in a few words (``status``'s "fires on")."""
    if kind is Trigger.BENCHMARK:
        reference = benchmark_text(clause.benchmark_at_signing)
        return f"{clause.benchmark} more than {_percent(clause.move_bps)} either way from {reference}"
    if kind is Trigger.VOLUME:
        return f"cumulative net sales of {clause.volume_threshold} token units"
    return f"the review date {_day(clause.review_at).isoformat()}"


class ReviewFirer:
    """Signs and sends the evidence of every served licence's review triggers that the data fires."""

    def __init__(
        self,
        chain: Chain,
        outbox: Outbox,
        conn: Connection,
        signers_of: SignersOf,
        sender: LocalAccount,
        *,
        ttl_seconds: int = DEFAULT_EVIDENCE_TTL_SECONDS,
        receipt_timeout: float = RECEIPT_TIMEOUT_SECONDS,
        fault: FaultHook = no_fault,
    ) -> None:
        self.chain = chain
        self.outbox = outbox
        self.conn = conn
        self.signers_of = signers_of
        self.sender = sender
        self.ttl_seconds = ttl_seconds
        self.receipt_timeout = receipt_timeout
        self._fault = fault
        self._attached_at: dict[int, int] = {}  # a clause's attach time never changes

    # ------------------------------------------------------------------ the round

    def round(self) -> ReviewRound:
        """One look at every served licence with a review clause; each trigger fires, waits, or is done."""
        result = ReviewRound()
        if "LicenceReviews" not in self.chain.manifest.contracts:
            return result  # a deployment from before rate reviews
        for due in self._due():
            for kind in due.kinds:
                try:
                    self._trigger(due, kind, result)
                except ContractRevert as err:
                    self._refused(due, kind, err, result)
                except (ChainError, ValueError) as err:  # one trigger's trouble is not the round's
                    self.conn.rollback()
                    log.error(
                        "review_failed", licence=due.licence_id, trigger=TRIGGER_NAMES[kind],
                        error=f"{type(err).__name__}: {err}",
                    )  # fmt: skip
        return result

    def _due(self) -> list[_Due]:
        """The served, active licences with a clause, and their triggers not fired, by id."""
        count = self.chain.registry.licence_count()
        if count == 0:
            return []
        ids = range(1, count + 1)
        reviews, registry = self.chain.reviews.address, self.chain.registry.address
        rev, reg = self.chain.codecs["LicenceReviews"], self.chain.codecs["LicenceRegistry"]
        answers = self.chain.call_many([(reviews, rev.fn("clauseOf"), (i,)) for i in ids])
        clauses = {
            i: clause
            for i, clause in ((i, ReviewClause.from_abi(a)) for i, a in zip(ids, answers, strict=True))
            if clause != ReviewClause()
        }
        with_clause = sorted(clauses)
        if not with_clause:
            return []
        kinds = list(Trigger)
        more = self.chain.call_many(
            [(registry, reg.fn("status"), (i,)) for i in with_clause]
            + [(reviews, rev.fn("fired"), (i, int(k))) for i in with_clause for k in kinds]
        )
        n = len(with_clause)
        due: list[_Due] = []
        for position, licence_id in enumerate(with_clause):
            if Status(int(more[position])) is not Status.ACTIVE:
                for name in TRIGGER_NAMES.values():  # nothing fires on it any more
                    self.outbox.release_review_hold(self.conn, licence_id, name)
                self.conn.commit()
                continue
            threshold, mine = self.signers_of(licence_id)
            if len(mine) < threshold:
                continue  # another oracle's licence
            clause = clauses[licence_id]
            fired = more[n + position * len(kinds) : n + (position + 1) * len(kinds)]
            open_kinds = []
            for kind, done in zip(kinds, fired, strict=True):
                if not clause.names(kind):
                    continue
                if done:
                    self.outbox.release_review_hold(self.conn, licence_id, TRIGGER_NAMES[kind])
                    continue
                open_kinds.append(kind)
            self.conn.commit()
            if open_kinds:
                due.append(_Due(licence_id, clause, threshold, tuple(open_kinds)))
        return due

    # ------------------------------------------------------------------ one trigger

    def _trigger(self, due: _Due, kind: Trigger, result: ReviewRound) -> None:
        if kind is Trigger.BENCHMARK:
            observed = self._benchmark(due, result)
        elif kind is Trigger.VOLUME:
            observed = self._volume(due, result)
        else:
            self._date(due, result)
            return
        if observed is not None:
            self._fire(due, kind, observed, result)

    def _benchmark(self, due: _Due, result: ReviewRound) -> int | None:
        """The benchmark value that fires the trigger, or None (held) when there is none."""
        clause, name = due.clause, due.clause.benchmark
        reference = benchmark_text(clause.benchmark_at_signing)
        waits_for = _waits_for(clause, Trigger.BENCHMARK)
        latest = self.outbox.latest_benchmark(self.conn, name)
        if latest is None:
            reason = f"no value of {name} is loaded (`royalty-oracle benchmarks load FILE`)"
            self._wait(ReviewWaiting(due.licence_id, "benchmark", waits_for, reason), result, latest_value=None)
            return None
        attached = _day(self._attached(due.licence_id))
        seen = f"{name} {latest.text} for {latest.day.isoformat()}"
        if latest.day < attached:
            reason = f"the latest value, {seen}, is dated before the clause was attached ({attached.isoformat()})"
            self._wait(ReviewWaiting(due.licence_id, "benchmark", waits_for, reason), result, latest_value=latest.text)
            return None
        if not moved_beyond(latest.value, clause.benchmark_at_signing, clause.move_bps):
            reason = f"the latest value, {seen}, is within {_percent(clause.move_bps)} of {reference}"
            self._wait(ReviewWaiting(due.licence_id, "benchmark", waits_for, reason), result, latest_value=latest.text)
            return None
        return latest.value

    def _volume(self, due: _Due, result: ReviewRound) -> int | None:
        """The cumulative net sales that fire the trigger, or None (held) below the threshold."""
        net, reports = self.outbox.settled_net_sales(self.conn, due.licence_id)
        threshold = due.clause.volume_threshold
        if net >= threshold:
            return net
        waits_for = _waits_for(due.clause, Trigger.VOLUME)
        reason = f"cumulative net sales are {net} token units over {reports} settled report(s), below {threshold}"
        self._wait(ReviewWaiting(due.licence_id, "volume", waits_for, reason), result, net=net)
        return None

    def _date(self, due: _Due, result: ReviewRound) -> None:
        """Held only: the keeper fires the date trigger (nothing to sign)."""
        review_day = _day(due.clause.review_at).isoformat()
        if self._chain_time() < due.clause.review_at:
            reason = f"the review date {review_day} has not come; the keeper fires it then (`royalty-oracle keep`)"
        else:
            reason = f"the review date {review_day} has come; the keeper fires it in its next round"
        self._wait(ReviewWaiting(due.licence_id, "date", _waits_for(due.clause, Trigger.DATE), reason), result)

    def _fire(self, due: _Due, kind: Trigger, observed: int, result: ReviewRound) -> None:
        now = self._chain_time()
        evidence = Evidence(due.licence_id, kind, observed, as_of=now, deadline=now + self.ttl_seconds)
        _, mine = self.signers_of(due.licence_id)
        digest = evidence_digest(self.chain, evidence)
        signatures = [sign_digest(digest, account.key) for account in mine[: due.threshold]]
        tx_hash = self.chain.transact(self.chain.reviews.fire_fn(evidence, signatures), self.sender, wait=False)
        self._fault("after_review_send")
        name = TRIGGER_NAMES[kind]
        try:
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=self.receipt_timeout)
        except TimeExhausted:
            # Not recorded: the next round reads fired() and finds it fired, or sends again.
            log.warning("review_tx_pending", licence=due.licence_id, trigger=name, tx="0x" + tx_hash.hex())
            return
        if receipt["status"] != 1:
            raise ContractRevert("TransactionFailed", ("0x" + tx_hash.hex(),), "0x")
        (event,) = [e for e in self.chain.receipt_events(receipt) if e.name == "ReviewOpened"]
        review = Review.from_abi(event.args["review"])
        opened = Opened(
            due.licence_id, int(event.args["reviewId"]), name, review.observed, review.reference_value,
            review.current_rate_bps, review.suggested_rate_bps, "0x" + tx_hash.hex(),
        )  # fmt: skip
        self.outbox.release_review_hold(self.conn, due.licence_id, name)
        self.conn.commit()
        result.opened.append(opened)
        shown = benchmark_text if kind is Trigger.BENCHMARK else str
        log.info(
            "review_opened",
            licence=due.licence_id,
            review=opened.review_id,
            trigger=name,
            observed=shown(review.observed),
            reference=shown(review.reference_value),
            current_rate_bps=review.current_rate_bps,
            suggested_rate_bps=review.suggested_rate_bps,
            signers=due.threshold,
            tx=opened.tx_hash,
        )

    # ------------------------------------------------------------------ holds

    def _wait(self, waiting: ReviewWaiting, result: ReviewRound, **extra: object) -> None:
        """Holds the trigger in the outbox; logs when that is news."""
        result.waiting.append(waiting)
        news = self.outbox.hold_review(
            self.conn, waiting.licence_id, waiting.trigger, waiting.waits_for, waiting.reason, waiting.error
        )
        self.conn.commit()
        if not news:
            return
        if waiting.error:
            log.warning(
                "review_refused", licence=waiting.licence_id, trigger=waiting.trigger, error=waiting.error,
                reason=waiting.reason,
            )  # fmt: skip
        elif waiting.trigger in ("benchmark", "volume"):
            log.info(
                f"review_waits_for_{waiting.trigger}", licence=waiting.licence_id, waits_for=waiting.waits_for,
                reason=waiting.reason, **extra,
            )  # fmt: skip

    def _refused(self, due: _Due, kind: Trigger, err: ContractRevert, result: ReviewRound) -> None:
        self.conn.rollback()
        name = TRIGGER_NAMES[kind]
        if err.error in DONE_ERRORS:
            result.done.append((due.licence_id, name))
            self.outbox.release_review_hold(self.conn, due.licence_id, name)
            self.conn.commit()
            log.info("review_already_fired", licence=due.licence_id, trigger=name, reason=str(err))
            return
        reason = f"the reviews contract refuses the {name} trigger: {err}"
        self._wait(ReviewWaiting(due.licence_id, name, _waits_for(due.clause, kind), reason, err.error), result)

    # ------------------------------------------------------------------ the chain

    def _attached(self, licence_id: int) -> int:
        """When the licence's clause was attached: its ReviewClauseAttached block's time."""
        if licence_id not in self._attached_at:
            (event,) = self.chain.reviews.events("ReviewClauseAttached", licenceId=licence_id)
            timestamp = event.block_timestamp
            if timestamp is None:
                timestamp = int(self.chain.w3.eth.get_block(event.block_number)["timestamp"])
            self._attached_at[licence_id] = int(timestamp)
        return self._attached_at[licence_id]

    def _chain_time(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])


__all__ = [
    "DEFAULT_EVIDENCE_TTL_SECONDS",
    "Opened",
    "ReviewFirer",
    "ReviewRound",
    "ReviewWaiting",
    "evidence_digest",
]
