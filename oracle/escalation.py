"""Stepping escalation clauses: the oracle signs each licence's next index step once the outbox
holds both of its months' values, and sends it (``LicenceEscalator.step``).

Every round, for each licence with a clause that this oracle serves (it holds at least the
licence's threshold of oracle keys) and that is active:

- the next step is ``n = stepsApplied + 1`` (the chain's count is the only record: nothing kept
  in memory or in the outbox decides whether a step is due); it is due while contract year
  ``n`` starts before the licence's effective end;
- its months are ``stepMonth(n - 1)`` and ``stepMonth(n)`` (base month + 12(n - 1), + 12n), on
  the clause's index or, when the index lacks them and the clause names a successor, on the
  successor; once a step has used the successor (the licence's last ``Escalated`` event), only
  the successor, as the escalator refuses the index then (IndexSuperseded);
- with both values stored, the IndexStep (deadline: chain time + ``ttl_seconds``) is signed by
  ``threshold`` of this oracle's keys of the licence, ascending by address, over the EIP-712
  digest computed here (``eip712.INDEX_STEP`` in the escalator's domain), simulated and sent
  from the oracle's sender, and logged (``escalation_stepped``). It is sent as soon as the
  values are loaded, before the anniversary: the step takes effect at contract year ``n``'s
  start anyway (or at once, if that has passed);
- without them, the licence is held in the outbox (``escalation_holds``: the step, each index
  tried and its months without a value) and ``escalation_waits_for_index`` is logged once per
  change of what it waits for, not every round; ``royalty-oracle status`` lists the holds;
- a step the escalator refuses is logged with the contract's error name
  (``escalation_refused``, once per change, held with the reason) and the round goes on with the
  other licences; StepAlreadyApplied means another sender (or this one, before a crash between
  send and receipt) stepped it: done.

A fault hook is called at ``after_step_send`` (broadcast, receipt not read); the crash tests may
kill the process there: the next round reads ``stepsApplied`` and finds the step applied, or
sends it again and is refused StepAlreadyApplied if the first one lands later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy.engine import Connection
from web3.exceptions import TimeExhausted

from oracle.hooks import FaultHook, no_fault
from outbox import Outbox
from royalty_chain.client import Chain, ChainError, ContractRevert
from royalty_chain.eip712 import INDEX_STEP, sign_digest
from royalty_chain.escalation import Clause, IndexStep, index_text, month_text, points
from royalty_chain.models import SettlementContext, Status

log = structlog.get_logger("oracle")

DEFAULT_STEP_TTL_SECONDS = 86_400
DONE_ERRORS = frozenset({"StepAlreadyApplied"})
RECEIPT_TIMEOUT_SECONDS = 120.0
# (licence id) -> (threshold, this oracle's keys of the licence's oracle set, ascending by address)
SignersOf = Callable[[int], tuple[int, list[LocalAccount]]]


@dataclass(frozen=True, slots=True)
class Stepped:
    """A step the escalator applied: the schedule version it appended, in force from ``effective_from``."""

    licence_id: int
    step: int
    index: str
    from_month: int
    from_value: int
    to_month: int
    to_value: int
    version: int
    effective_from: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class StepWaiting:
    """A licence whose next step is not sent: ``missing`` lists ``{"index", "months"}`` (empty
    when the escalator refused it, ``error`` naming the refusal)."""

    licence_id: int
    step: int
    missing: list[dict[str, Any]]
    reason: str
    error: str = ""


@dataclass
class StepRound:
    stepped: list[Stepped] = field(default_factory=list)
    waiting: list[StepWaiting] = field(default_factory=list)
    done: list[tuple[int, int]] = field(default_factory=list)  # (licence, step) found applied already


@dataclass(frozen=True, slots=True)
class _Due:
    licence_id: int
    clause: Clause
    step: int
    threshold: int


def index_step_digest(chain: Chain, values: IndexStep) -> bytes:
    """The IndexStep digest the escalator recovers signers from, computed here (its domain is
    asked of the contract once): what the oracle's keys sign."""
    return INDEX_STEP.digest(chain.escalator.domain(), values.message())


class EscalationStepper:
    """Signs and sends the next escalation step of every licence this oracle serves."""

    def __init__(
        self,
        chain: Chain,
        outbox: Outbox,
        conn: Connection,
        signers_of: SignersOf,
        sender: LocalAccount,
        *,
        ttl_seconds: int = DEFAULT_STEP_TTL_SECONDS,
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

    # ------------------------------------------------------------------ the round

    def round(self) -> StepRound:
        """One look at every licence with a clause; each is stepped, held, or left alone."""
        result = StepRound()
        for due in self._due():
            try:
                self._step(due, result)
            except ContractRevert as err:
                self._refused(due, err, result)
            except (ChainError, ValueError) as err:  # one licence's trouble is not the round's
                self.conn.rollback()
                log.error(
                    "escalation_failed", licence=due.licence_id, step=due.step, error=f"{type(err).__name__}: {err}"
                )
        return result

    def _due(self) -> list[_Due]:
        """The licences whose next step is due, by id: a clause, active, served by this oracle,
        and contract year n starting before the effective end."""
        count = self.chain.registry.licence_count()
        if count == 0:
            return []
        ids = range(1, count + 1)
        escalator, registry = self.chain.escalator.address, self.chain.registry.address
        esc, reg = self.chain.codecs["LicenceEscalator"], self.chain.codecs["LicenceRegistry"]
        answers = self.chain.call_many(
            [(escalator, esc.fn("clauseOf"), (i,)) for i in ids]
            + [(escalator, esc.fn("stepsApplied"), (i,)) for i in ids]
        )
        clauses = {i: a for i, a in zip(ids, answers[:count], strict=True) if bytes(_field(a, "index", 0)) != bytes(16)}
        applied = dict(zip(ids, (int(a) for a in answers[count:]), strict=True))
        with_clause = sorted(clauses)
        if not with_clause:
            return []
        more = self.chain.call_many(
            [(registry, reg.fn("settlementContext"), (i,)) for i in with_clause]
            + [(registry, reg.fn("status"), (i,)) for i in with_clause]
            + [(registry, reg.fn("contractYearBounds"), (i, applied[i] + 1)) for i in with_clause]
        )
        n = len(with_clause)
        due: list[_Due] = []
        for k, licence_id in enumerate(with_clause):
            context = SettlementContext.from_abi(more[k])
            if Status(int(more[n + k])) is not Status.ACTIVE:
                continue
            year_start = int(more[2 * n + k][0])
            if year_start >= context.effective_end:
                continue  # every step of the term is applied
            threshold, mine = self.signers_of(licence_id)
            if len(mine) < threshold:
                continue  # another oracle's licence
            due.append(_Due(licence_id, Clause.from_abi(clauses[licence_id]), applied[licence_id] + 1, threshold))
        return due

    # ------------------------------------------------------------------ one licence

    def _step(self, due: _Due, result: StepRound) -> None:
        clause, n = due.clause, due.step
        from_month, to_month = clause.step_month(n - 1), clause.step_month(n)
        found, missing = self._values(due, from_month, to_month)
        if found is None:
            self._wait(StepWaiting(due.licence_id, n, missing, _missing_reason(missing)), result)
            return
        index, from_value, to_value = found
        values = IndexStep(
            licence_id=due.licence_id,
            step=n,
            index=index,
            from_month=from_month,
            from_value=from_value,
            to_month=to_month,
            to_value=to_value,
            deadline=self._chain_time() + self.ttl_seconds,
        )
        _, mine = self.signers_of(due.licence_id)
        digest = index_step_digest(self.chain, values)
        signatures = [sign_digest(digest, account.key) for account in mine[: due.threshold]]
        tx_hash = self.chain.transact(self.chain.escalator.step_fn(values, signatures), self.sender, wait=False)
        self._fault("after_step_send")
        try:
            receipt = self.chain.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=self.receipt_timeout)
        except TimeExhausted:
            # Not held: the next round reads stepsApplied and sends again, or finds it applied.
            log.warning("escalation_tx_pending", licence=due.licence_id, step=n, tx="0x" + tx_hash.hex())
            return
        if receipt["status"] != 1:
            raise ContractRevert("TransactionFailed", ("0x" + tx_hash.hex(),), "0x")
        (event,) = [e for e in self.chain.receipt_events(receipt) if e.name == "Escalated"]
        applied = event.args["applied"]
        stepped = Stepped(
            due.licence_id, n, index, from_month, from_value, to_month, to_value,
            version=int(_field(applied, "version", 4)), effective_from=int(_field(applied, "effectiveFrom", 3)),
            tx_hash="0x" + tx_hash.hex(),
        )  # fmt: skip
        self.outbox.release_index_hold(self.conn, due.licence_id)
        self.conn.commit()
        result.stepped.append(stepped)
        log.info(
            "escalation_stepped",
            licence=due.licence_id,
            step=n,
            index=index,
            from_month=month_text(from_month),
            to_month=month_text(to_month),
            from_value=points(from_value),
            to_value=points(to_value),
            version=stepped.version,
            effective_from=stepped.effective_from,
            tx=stepped.tx_hash,
        )

    def _values(
        self, due: _Due, from_month: int, to_month: int
    ) -> tuple[tuple[str, int, int] | None, list[dict[str, Any]]]:
        """``((index, from value, to value), [])`` from the first series that has both months, else
        ``(None, what each series tried lacks)``."""
        missing: list[dict[str, Any]] = []
        for name in self._series(due):
            stored = self.outbox.index_values_of(self.conn, name, [from_month, to_month])
            if from_month in stored and to_month in stored:
                return (name, stored[from_month], stored[to_month]), []
            lacking = [month_text(m) for m in (from_month, to_month) if m not in stored]
            missing.append({"index": name, "months": lacking})
        return None, missing

    def _series(self, due: _Due) -> list[str]:
        """The indices the step may use, in the order tried: the clause's index, then its
        successor; only the successor once a step has used it."""
        clause = due.clause
        if not clause.successor:
            return [clause.index]
        if due.step > 1:
            stepped = self.chain.escalator.events("Escalated", licenceId=due.licence_id)
            if stepped and _index_name(stepped[-1].args["index"]) == clause.successor:
                return [clause.successor]
        return [clause.index, clause.successor]

    def _wait(self, waiting: StepWaiting, result: StepRound) -> None:
        """Holds the licence in the outbox; logs when that is news."""
        result.waiting.append(waiting)
        news = self.outbox.hold_for_index(self.conn, waiting.licence_id, waiting.step, waiting.missing, waiting.reason)
        self.conn.commit()
        if not news:
            return
        if waiting.error:
            log.warning(
                "escalation_refused",
                licence=waiting.licence_id,
                step=waiting.step,
                error=waiting.error,
                reason=waiting.reason,
            )
            return
        for m in waiting.missing:
            log.warning(
                "escalation_waits_for_index",
                licence=waiting.licence_id,
                step=waiting.step,
                index=m["index"],
                months=m["months"],
                reason=waiting.reason,
            )

    def _refused(self, due: _Due, err: ContractRevert, result: StepRound) -> None:
        self.conn.rollback()
        if err.error in DONE_ERRORS:
            result.done.append((due.licence_id, due.step))
            self.outbox.release_index_hold(self.conn, due.licence_id)
            self.conn.commit()
            log.info("escalation_already_stepped", licence=due.licence_id, step=due.step, reason=str(err))
            return
        reason = f"the escalator refuses step {due.step}: {err}"
        self._wait(StepWaiting(due.licence_id, due.step, [], reason, err.error), result)

    def _chain_time(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])


def _missing_reason(missing: list[dict[str, Any]]) -> str:
    """``no value of US-CPI-U for 2025-09; no values of US-CPI-R for 2024-09, 2025-09``."""
    parts = []
    for m in missing:
        months = m["months"]
        parts.append(f"no value{'s' if len(months) > 1 else ''} of {m['index']} for {', '.join(months)}")
    return "; ".join(parts)


def _field(value: Any, name: str, position: int) -> Any:
    """A struct member from a decoded answer, a tuple or a dict (web3 and events differ)."""
    return value[name] if isinstance(value, dict) else value[position]


def _index_name(value: Any) -> str:
    return index_text(value if isinstance(value, (bytes, str)) else bytes(value))


__all__ = [
    "DEFAULT_STEP_TTL_SECONDS",
    "EscalationStepper",
    "StepRound",
    "StepWaiting",
    "Stepped",
    "index_step_digest",
]
