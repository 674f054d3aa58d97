"""The keeper's round: every time-based action whose time has come, sent once.

A round reads everything from the chain (licences, their settlement contexts and statuses, the
ledger's Settled events, the settlements still pending) and then:

1. **release**: for each licence with a pending settlement whose dispute window has closed,
   ``releaseMatured(licence)``; the receipt's Released events say what was credited;
2. **guarantee**: for each contract year that has ended inside the term of a licence whose
   guarantee in force at the year's start is above zero, and that no Settled event shows charged,
   ``chargeMinimumGuarantee(licence, year)`` is simulated and sent when the simulation passes.
   The ledger's refusals are the answers: NoShortfall and GuaranteeAlreadyCharged mean done (kept
   in memory for this run only: a restart simply asks again), YearHasOpenSettlements means wait
   for the release, YearNotEnded means not yet;
3. **expiry**: a licence whose status is Expired, or whose sell-off has ended, is logged once per
   run; there is nothing to write on chain (``status`` is computed from the time);
4. **release reserves**: a reserve against returns is a settlement held until its release time
   (the end of the period the licence's reserve periods later); the same ``releaseMatured`` call
   releases it once that time has come, so step 1 does it: held reserves are followed like
   pending settlements. A reserve that returns consume entirely is final without a release.

5. **date reviews**: a licence with a rate-review clause naming a review date that the chain's
   clock has reached, whose date trigger has not fired (``LicenceReviews.fired``), is fired
   (``fire`` with the date evidence, which nothing signs: the clock is the evidence), opening a
   review (``review_opened``). TriggerAlreadyFired means done (another keeper, or this one
   before a crash); any other refusal is logged with the contract's error name
   (``review_refused``, once per run).

Interest on late payment needs no keeper: the ledger charges it when the payment arrives.

Nothing the keeper remembers matters: the chain is its record. A keeper killed at any moment and
started again repeats nothing (a release that happened leaves nothing pending; a charge is a
Settled event, and a second one reverts GuaranteeAlreadyCharged) and loses nothing (what was not
sent is still due). Two keepers at once cannot double-charge: the ledger refuses the second
charge, and a refusal is "done" to the keeper that sees it. Time is the pending block's
timestamp (what the next transaction will see); every transaction is simulated against the
pending block first and sent from the keeper's own key.

A fault hook (:mod:`oracle.hooks`'s type, a no-op by default) is called at ``after_simulate``
(the simulation passed, nothing sent) and ``after_send`` (broadcast, receipt not read); the
crash tests inject one that kills the process there.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3Exception
from web3.types import Nonce, TxParams, TxReceipt

from oracle.hooks import FaultHook, no_fault
from oracle.keeper.work import SettledLog, closed, ended_years, matured
from oracle.node import ChainNode
from royalty_chain.client import Chain, ChainError, ContractRevert, FeeCapExceeded, revert_data
from royalty_chain.models import Settlement, SettlementContext, Status
from royalty_chain.reviews import Evidence, Review, ReviewClause, Trigger

log = structlog.get_logger("keeper")

KEEPER_FAULT_POINTS = ("after_simulate", "after_send")

# chargeMinimumGuarantee's refusals, by what they mean to the keeper.
DONE_ERRORS = {"NoShortfall", "GuaranteeAlreadyCharged", "YearOutsideTerm"}
WAIT_ERRORS = {"YearHasOpenSettlements"}
NOT_YET_ERRORS = {"YearNotEnded"}
# LicenceReviews.fire's refusal of a date trigger that means done.
REVIEW_DONE_ERRORS = {"TriggerAlreadyFired"}
DATE_EVIDENCE_TTL_SECONDS = 3_600
# Gas limit over the simulation's estimate, as Chain.transact sets it.
GAS_MARGIN = 1.2
GAS_EXTRA = 20_000


@dataclass(frozen=True, slots=True)
class Release:
    licence_id: int
    matured: tuple[int, ...]  # the pending settlements past their window the keeper saw
    settlement_ids: tuple[int, ...]  # the ones whose release credited something (Released events)
    amount: int  # released, token units: the payees' credit plus the tax withheld
    tax: int  # of which withheld for the tax account
    tx_hash: str
    gas_used: int

    @property
    def to_payees(self) -> int:
        return self.amount - self.tax


@dataclass(frozen=True, slots=True)
class Charge:
    licence_id: int
    year: int
    settlement_id: int
    shortfall: int
    tx_hash: str
    gas_used: int


@dataclass
class RoundResult:
    released: list[Release] = field(default_factory=list)
    charged: list[Charge] = field(default_factory=list)
    waiting: list[tuple[int, int]] = field(default_factory=list)  # (licence, year) with open settlements
    expired: list[int] = field(default_factory=list)  # logged in this round
    reviews: list[tuple[int, int]] = field(default_factory=list)  # (licence, review id) date reviews opened
    failed: int = 0  # transactions sent that did not succeed (or whose receipt did not come)

    @property
    def sent(self) -> int:
        return len(self.released) + len(self.charged) + len(self.reviews) + self.failed


class Keeper:
    """Performs the time-based actions of every licence on one chain, from one account."""

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        *,
        receipt_timeout: float = 120.0,
        log_block_span: int = 2_000,
        fault: FaultHook = no_fault,
    ) -> None:
        self.chain = chain
        self.account = account
        self.receipt_timeout = receipt_timeout
        self._node = ChainNode(chain)
        self._fault = fault
        # Set by SIGTERM (or a test): the round finishes the action in hand and sends nothing more.
        self.stop = threading.Event()
        self._settled = SettledLog(chain, span=log_block_span)
        # For this run only (a restart asks the chain again): years the ledger said are done,
        # the (licence, year) last reported waiting, and the expiries already logged.
        self._done_years: set[tuple[int, int]] = set()
        self._waiting: set[tuple[int, int]] = set()
        self._logged_expiry: set[tuple[int, str]] = set()
        self._refused_reviews: set[tuple[int, str]] = set()  # (licence, error) logged

    # ------------------------------------------------------------------ the round

    def round(self) -> RoundResult:
        result = RoundResult()
        self._settled.refresh()
        now = self.chain_time()
        contexts, statuses = self._licences()
        try:
            self._release(now, result)
            self._charge_guarantees(contexts, now, result)
        except FeeCapExceeded as over:
            # The chain's fee caps (KEEPER_MAX_FEE_PER_GAS, KEEPER_MAX_PRIORITY_FEE_PER_GAS): the
            # round sends nothing more; the next round asks the chain again.
            log.warning(
                "fee_cap_exceeded", cap=over.cap, capped=over.capped, asked=over.asked, action="nothing sent this round"
            )
        self._log_expiry(contexts, statuses, now, result)
        try:
            self._fire_date_reviews(statuses, now, result)
        except FeeCapExceeded as over:
            log.warning(
                "fee_cap_exceeded", cap=over.cap, capped=over.capped, asked=over.asked, action="nothing sent this round"
            )
        return result

    def chain_time(self) -> int:
        """The pending block's timestamp: what the next transaction will see (on a chain that
        mines only when a transaction arrives, the latest block's time lags behind it); the
        latest block's on a node without a pending block.

        Ganache (`make run`'s chain) answers "pending" with the latest block itself, whose time
        stands still while the chain is idle, though the next block will carry its clock's time:
        a settlement whose dispute window closed after the last transaction was never released
        until another transaction came. There the later of that time and the wall clock is used
        (a Ganache clock set back behind the wall clock only makes a release refused, and logged)."""
        latest = self.chain.transport.call("eth_getBlockByNumber", "latest", False)
        pending = self.chain.transport.call("eth_getBlockByNumber", "pending", False)
        for block in (pending, latest):
            if block and block.get("timestamp") is not None:
                timestamp = int(str(block["timestamp"]), 16)
                if latest and block.get("hash") is not None and block.get("hash") == latest.get("hash"):
                    return max(timestamp, int(time.time()))  # no pending block of its own
                return timestamp
        raise LookupError("the node returned no pending and no latest block")

    def _licences(self) -> tuple[dict[int, SettlementContext], dict[int, Status]]:
        """Every licence's settlement context and status, in one batch of view calls."""
        count = self.chain.registry.licence_count()
        if count == 0:
            return {}, {}
        registry = self.chain.registry.address
        codec = self.chain.codecs["LicenceRegistry"]
        ids = range(1, count + 1)
        answers = self.chain.call_many(
            [(registry, codec.fn("settlementContext"), (i,)) for i in ids]
            + [(registry, codec.fn("status"), (i,)) for i in ids]
        )
        contexts = {i: SettlementContext.from_abi(a) for i, a in zip(ids, answers[:count], strict=True)}
        statuses = {i: Status(int(a)) for i, a in zip(ids, answers[count:], strict=True)}
        return contexts, statuses

    # ------------------------------------------------------------------ 1. release

    def _release(self, now: int, result: RoundResult) -> None:
        candidates = [(lid, sid) for lid, ids in sorted(self._settled.pending.items()) for sid in sorted(ids)]
        if not candidates:
            return
        ledger = self.chain.ledger.address
        settlement_of = self.chain.codecs["RoyaltyLedger"].fn("settlement")
        answers = self.chain.call_many([(ledger, settlement_of, (sid,)) for _, sid in candidates])
        by_licence: dict[int, dict[int, Settlement]] = {}
        for (licence_id, settlement_id), answer in zip(candidates, answers, strict=True):
            by_licence.setdefault(licence_id, {})[settlement_id] = Settlement.from_abi(answer)
        for licence_id, settlements in by_licence.items():
            if self.stop.is_set():
                return
            self._settled.forget(licence_id, closed(settlements))
            due = matured(settlements, now)
            if not due:
                continue
            try:
                gas = self._simulate(self.chain.ledger.release_matured_fn(licence_id))
            except ContractRevert as err:
                log.warning("release_refused", licence=licence_id, settlements=due, error=str(err))
                continue
            self._fault("after_simulate")
            receipt = self._send(self.chain.ledger.release_matured_fn(licence_id), gas, result, licence=licence_id)
            if receipt is None:
                continue
            released = [e for e in self.chain.receipt_events(receipt) if e.name == "Released"]
            ids = tuple(int(e.args["settlementId"]) for e in released)
            release = Release(
                licence_id=licence_id,
                matured=tuple(due),
                settlement_ids=ids,
                amount=sum(int(e.args["amount"]) for e in released),
                tax=sum(int(e.args["tax"]) for e in released),
                tx_hash=_hash(receipt),
                gas_used=int(receipt["gasUsed"]),
            )
            result.released.append(release)
            # Forgotten next round, once their state reads Final: only the chain says they are.
            log.info(
                "settlements_released",
                licence=licence_id,
                matured=due,
                settlements=list(ids),
                amount=release.amount,
                tax=release.tax,
                to_payees=release.to_payees,
                tx=release.tx_hash,
                gas=release.gas_used,
            )

    # ------------------------------------------------------------------ 2. minimum guarantee

    def _charge_guarantees(self, contexts: dict[int, SettlementContext], now: int, result: RoundResult) -> None:
        known = self._settled.charged | self._done_years
        open_years = [
            (licence_id, year)
            for licence_id, context in contexts.items()
            for year in ended_years(context, now)
            if (licence_id, year.year) not in known
        ]
        if not open_years:
            return
        registry = self.chain.registry.address
        guarantee_at = self.chain.codecs["LicenceRegistry"].fn("minimumGuaranteeAt")
        guarantees = self.chain.call_many([(registry, guarantee_at, (lid, y.start)) for lid, y in open_years])
        for (licence_id, year), guarantee in zip(open_years, guarantees, strict=True):
            if self.stop.is_set():
                return
            key = (licence_id, year.year)
            if int(guarantee) == 0:
                self._done_years.add(key)
                continue
            fn = self.chain.ledger.charge_minimum_guarantee_fn(licence_id, year.year)
            try:
                gas = self._simulate(fn)
            except ContractRevert as err:
                self._refused(key, err, result)
                continue
            self._fault("after_simulate")
            receipt = self._send(
                self.chain.ledger.charge_minimum_guarantee_fn(licence_id, year.year),
                gas,
                result,
                licence=licence_id,
                year=year.year,
            )
            if receipt is None:
                continue
            (settled,) = [e for e in self.chain.receipt_events(receipt) if e.name == "Settled"]
            charge = Charge(
                licence_id=licence_id,
                year=year.year,
                settlement_id=int(settled.args["settlementId"]),
                shortfall=int(settled.args["royalty"]),
                tx_hash=_hash(receipt),
                gas_used=int(receipt["gasUsed"]),
            )
            result.charged.append(charge)
            self._settled.charged.add(key)
            self._waiting.discard(key)
            log.info(
                "guarantee_charged",
                licence=licence_id,
                year=year.year,
                settlement=charge.settlement_id,
                shortfall=charge.shortfall,
                guarantee=int(guarantee),
                tx=charge.tx_hash,
                gas=charge.gas_used,
            )

    def _refused(self, key: tuple[int, int], err: ContractRevert, result: RoundResult) -> None:
        licence_id, year = key
        if err.error in DONE_ERRORS:
            self._done_years.add(key)
            self._waiting.discard(key)
            log.info("guarantee_not_due", licence=licence_id, year=year, reason=str(err))
        elif err.error in WAIT_ERRORS:
            result.waiting.append(key)
            if key not in self._waiting:  # said once while it waits, not every round
                self._waiting.add(key)
                log.info("guarantee_waiting", licence=licence_id, year=year, reason=str(err))
        elif err.error not in NOT_YET_ERRORS:
            log.warning("guarantee_refused", licence=licence_id, year=year, error=str(err))

    # ------------------------------------------------------------------ 3. expiry

    def _log_expiry(
        self, contexts: dict[int, SettlementContext], statuses: dict[int, Status], now: int, result: RoundResult
    ) -> None:
        for licence_id, context in contexts.items():
            if statuses[licence_id] is Status.EXPIRED and (licence_id, "expired") not in self._logged_expiry:
                self._logged_expiry.add((licence_id, "expired"))
                result.expired.append(licence_id)
                log.info("licence_expired", licence=licence_id, at=context.effective_end)
            if (
                context.sell_off_end > context.effective_end
                and context.sell_off_end <= now
                and (licence_id, "sell_off") not in self._logged_expiry
            ):
                self._logged_expiry.add((licence_id, "sell_off"))
                log.info("sell_off_ended", licence=licence_id, at=context.sell_off_end)

    # ------------------------------------------------------------------ 5. date reviews

    def _fire_date_reviews(self, statuses: dict[int, Status], now: int, result: RoundResult) -> None:
        """Fires each active licence's review date that has come and not fired (the chain says)."""
        if "LicenceReviews" not in self.chain.manifest.contracts or not statuses:
            return
        reviews = self.chain.reviews
        codec = self.chain.codecs["LicenceReviews"]
        active = [i for i, status in sorted(statuses.items()) if status is Status.ACTIVE]
        if not active:
            return
        answers = self.chain.call_many(
            [(reviews.address, codec.fn("clauseOf"), (i,)) for i in active]
            + [(reviews.address, codec.fn("fired"), (i, int(Trigger.DATE))) for i in active]
        )
        n = len(active)
        for position, licence_id in enumerate(active):
            if self.stop.is_set():
                return
            review_at = int(ReviewClause.from_abi(answers[position]).review_at)
            if review_at == 0 or review_at > now or bool(answers[n + position]):
                continue
            # Observed and asOf are not read for the date; the deadline only has to be ahead.
            evidence = Evidence(licence_id, Trigger.DATE, 0, 0, now + DATE_EVIDENCE_TTL_SECONDS)
            try:
                gas = self._simulate(reviews.fire_fn(evidence, []))
            except ContractRevert as err:
                self._review_refused(licence_id, err)
                continue
            self._fault("after_simulate")
            receipt = self._send(reviews.fire_fn(evidence, []), gas, result, licence=licence_id, trigger="date")
            if receipt is None:
                continue
            (opened,) = [e for e in self.chain.receipt_events(receipt) if e.name == "ReviewOpened"]
            review = Review.from_abi(opened.args["review"])
            result.reviews.append((licence_id, int(opened.args["reviewId"])))
            log.info(
                "review_opened",
                licence=licence_id,
                review=int(opened.args["reviewId"]),
                trigger="date",
                observed=review.observed,
                reference=review.reference_value,
                current_rate_bps=review.current_rate_bps,
                suggested_rate_bps=review.suggested_rate_bps,
                tx=_hash(receipt),
            )

    def _review_refused(self, licence_id: int, err: ContractRevert) -> None:
        if err.error in REVIEW_DONE_ERRORS:
            return  # fired by another keeper between the read and the simulation
        if (licence_id, err.error) in self._refused_reviews:
            return
        self._refused_reviews.add((licence_id, err.error))
        log.warning("review_refused", licence=licence_id, trigger="date", error=err.error, reason=str(err))

    # ------------------------------------------------------------------ sending

    def _simulate(self, fn: ContractFunction) -> int:
        """The gas the call takes against the pending block; its revert as ContractRevert."""
        try:
            return int(fn.estimate_gas({"from": self.account.address}, block_identifier="pending"))
        except (ContractCustomError, ContractLogicError) as err:
            raise self.chain.decoder.decode(revert_data(err)) from err

    def _send(self, fn: ContractFunction, gas: int, result: RoundResult, **what: Any) -> TxReceipt | None:
        """Signs and sends a simulated call; its receipt, or None (logged) when it did not succeed."""
        fees = self._node.fee_fields()  # within the chain's fee caps, or FeeCapExceeded
        params: TxParams = {
            "from": self.account.address,
            "chainId": self.chain.chain_id,
            "gas": int(gas * GAS_MARGIN) + GAS_EXTRA,
            "nonce": Nonce(self._node.pending_nonce(self.account.address)),
            **cast(TxParams, fees),
        }
        signed = self.account.sign_transaction(cast(dict[str, Any], fn.build_transaction(params)))
        tx_hash = self.chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        self._fault("after_send")
        try:
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        except TimeExhausted:
            result.failed += 1
            log.warning("tx_pending", tx="0x" + bytes(tx_hash).hex(), **what)
            return None
        if receipt["status"] != 1:
            result.failed += 1
            log.warning("tx_failed", tx=_hash(receipt), gas=int(receipt["gasUsed"]), **what)
            return None
        return receipt

    # ------------------------------------------------------------------ the service

    def run(self, interval: float) -> None:
        """Rounds every ``interval`` seconds until :attr:`stop` is set; a round that fails on the
        node's side (unreachable, refusing) is logged and tried again after the interval."""
        log.info("keeper_started", keeper=self.account.address, interval=interval)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.round()
            except (ChainError, Web3Exception, OSError, LookupError) as err:
                log.warning("round_failed", error=f"{type(err).__name__}: {err}")
            self.stop.wait(max(0.0, interval - (time.monotonic() - started)))
        log.info("keeper_stopped", keeper=self.account.address)


def _hash(receipt: TxReceipt) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


__all__ = ["KEEPER_FAULT_POINTS", "Charge", "Keeper", "Release", "RoundResult"]
