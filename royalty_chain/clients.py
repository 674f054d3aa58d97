"""One client per deployed contract: the only door from Python to the contracts.

Reads return ints, addresses, dataclasses and the enums of :mod:`royalty_chain.models`; writes
come in pairs, ``x_fn(...)`` (the call, for a caller that signs and sends it itself, like the
benchmarks' bulk sender) and ``x(..., sender)`` (simulated, signed and sent by
:meth:`royalty_chain.client.Chain.transact`, which raises the decoded ContractRevert). No code
outside this package builds a web3 contract call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from royalty_chain.eip712 import Domain
from royalty_chain.escalation import Clause, IndexStep
from royalty_chain.events import ChainEvent
from royalty_chain.fx import FixedTable
from royalty_chain.models import Settlement, SettlementContext, Status
from royalty_chain.reviews import Evidence, Review, ReviewClause, Trigger
from royalty_chain.terms import Report, Schedule, Terms

if TYPE_CHECKING:
    from royalty_chain.client import Chain


class _Client:
    name = ""

    def __init__(self, chain: Chain, address: str | None = None, abi: list[dict[str, Any]] | None = None) -> None:
        self.chain = chain
        if address is None or abi is None:
            deployed = chain.manifest.contracts[self.name]
            address, abi = deployed.address, deployed.abi
        self.contract: Any = chain.w3.eth.contract(address=to_checksum_address(address), abi=abi)
        self._domain: Domain | None = None

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def _call(self, fn: ContractFunction) -> Any:
        return self.chain.call(fn)

    def _send(self, fn: ContractFunction, sender: LocalAccount) -> TxReceipt:
        return self.chain.transact(fn, sender)

    def events(self, name: str, from_block: int | None = None, **indexed: Any) -> list[ChainEvent]:
        """This contract's ``name`` events from ``from_block`` (default: the deploy block) to the
        head, filtered on indexed arguments by their ABI names (``licenceId=3``), decoded."""
        event = self.chain.abis[self.name].events[name]
        known = {str(item["name"]): kind for item, kind in event.indexed}
        unknown = set(indexed) - set(known)
        if unknown:
            raise KeyError(f"{name} has no indexed argument {', '.join(sorted(unknown))}")
        topics: list[str | None] = ["0x" + event.topic.hex()]
        topics += [
            "0x" + abi_encode([kind], [indexed[arg]]).hex() if arg in indexed else None for arg, kind in known.items()
        ]
        start = self.chain.manifest.deploy_block if from_block is None else from_block
        query = {"address": self.address, "topics": topics, "fromBlock": hex(start), "toBlock": "latest"}
        logs = self.chain.transport.call("eth_getLogs", query)
        decoded = (self.chain.events.decode(entry) for entry in logs)
        return [e for e in decoded if e is not None and e.name == name]

    def domain_separator(self) -> bytes:
        """The contract's own EIP-712 domain separator (its ``domainSeparator()`` view)."""
        return bytes(self._call(self.contract.functions.domainSeparator()))

    def domain(self) -> Domain:
        """The contract's EIP-712 domain, as its ERC-5267 ``eip712Domain()`` reports it (asked once)."""
        if self._domain is None:
            self._domain = Domain.from_erc5267(self._call(self.contract.functions.eip712Domain()))
        return self._domain


class RegistryClient(_Client):
    """LicenceRegistry: terms, consent and lifecycle."""

    name = "LicenceRegistry"

    # ------------------------------------------------------------------ writes

    def register_fn(self, terms: Terms, deadline: int, licensor_sig: bytes, licensee_sig: bytes) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.register(terms.as_abi(), deadline, licensor_sig, licensee_sig)
        return fn

    def register(
        self, terms: Terms, deadline: int, licensor_sig: bytes, licensee_sig: bytes, sender: LocalAccount
    ) -> TxReceipt:
        """Registers consented terms; :meth:`licence_id_of` reads the new id from the receipt."""
        return self._send(self.register_fn(terms, deadline, licensor_sig, licensee_sig), sender)

    def licence_id_of(self, receipt: TxReceipt) -> int:
        """The id of the licence a register transaction created."""
        for event in self.chain.receipt_events(receipt):
            if event.name == "LicenceRegistered":
                return int(event.args["licenceId"])
        raise LookupError("the receipt has no LicenceRegistered event")

    def amend(
        self,
        licence_id: int,
        schedule: Schedule,
        new_end: int,
        deadline: int,
        licensor_sig: bytes,
        licensee_sig: bytes,
        sender: LocalAccount,
    ) -> TxReceipt:
        fn = self.contract.functions.amend(licence_id, schedule.as_abi(), new_end, deadline, licensor_sig, licensee_sig)
        return self._send(fn, sender)

    def terminate_by_consent(
        self, licence_id: int, deadline: int, licensor_sig: bytes, licensee_sig: bytes, sender: LocalAccount
    ) -> TxReceipt:
        fn = self.contract.functions.terminateByConsent(licence_id, deadline, licensor_sig, licensee_sig)
        return self._send(fn, sender)

    def notice_breach_fn(self, licence_id: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.noticeBreach(licence_id)
        return fn

    # ------------------------------------------------------------------ reads

    def register_digest(self, terms: Terms, deadline: int) -> bytes:
        return bytes(self._call(self.contract.functions.registerDigest(terms.as_abi(), deadline)))

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant, e.g. ``typehash("REGISTER")``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))

    def typed_data_address(self) -> str:
        """The LicenceTypedData the registry deployed (``typedData()``)."""
        return str(to_checksum_address(self._call(self.contract.functions.typedData())))

    def status(self, licence_id: int) -> Status:
        return Status(int(self._call(self.contract.functions.status(licence_id))))

    def parties(self, licence_id: int) -> tuple[str, str]:
        """(licensor, licensee); an unknown licence raises ContractRevert UnknownLicence."""
        licensor, licensee = self._call(self.contract.functions.parties(licence_id))
        return str(licensor), str(licensee)

    def licence_count(self) -> int:
        return int(self._call(self.contract.functions.licenceCount()))

    def schedule_count(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.scheduleCount(licence_id)))

    def schedule_at(self, licence_id: int, timestamp: int) -> Schedule:
        """The schedule version in force at ``timestamp`` (a period is priced by the one at its start)."""
        return Schedule.from_abi(self._call(self.contract.functions.scheduleAt(licence_id, timestamp)))

    def settlement_context(self, licence_id: int) -> SettlementContext:
        return SettlementContext.from_abi(self._call(self.contract.functions.settlementContext(licence_id)))

    # The licence's calendar as the chain computes it (royalty_chain.calendar gives the same
    # answers without a call; these are for checking it and for callers without the terms).

    def period_bounds(self, licence_id: int, period: int) -> tuple[int, int, int]:
        """(first second, first second after, due date) of a licence's reporting period."""
        start, end, due_at = self._call(self.contract.functions.periodBounds(licence_id, period))
        return int(start), int(end), int(due_at)

    def period_of(self, licence_id: int, timestamp: int) -> int:
        """The reporting period holding ``timestamp`` (a moment of the term or sell-off)."""
        return int(self._call(self.contract.functions.periodOf(licence_id, timestamp)))

    def contract_year_bounds(self, licence_id: int, year: int) -> tuple[int, int, int, int]:
        """(first second (cut at the start), first second after, guarantee due date, length in
        seconds of its whole 12-month step) of a licence's contract year."""
        start, end, due_at, full_length = self._call(self.contract.functions.contractYearBounds(licence_id, year))
        return int(start), int(end), int(due_at), int(full_length)

    def contract_year_of(self, licence_id: int, timestamp: int) -> int:
        """The contract year holding ``timestamp``."""
        return int(self._call(self.contract.functions.contractYearOf(licence_id, timestamp)))


class TypedDataClient(_Client):
    """LicenceTypedData: the struct hashes of consent and the report digest the oracles sign
    (in the registry's domain), deployed by the registry to keep it under EIP-170."""

    name = "LicenceTypedData"

    def report_digest(self, report: Report) -> bytes:
        """The SalesReport digest in the registry's domain, as the ledger recovers signers from it."""
        return bytes(self._call(self.contract.functions.reportDigest(report.as_abi())))

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant, e.g. ``typehash("REPORT")``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))

    def registry(self) -> str:
        return str(to_checksum_address(self._call(self.contract.functions.registry())))


class EscalatorClient(_Client):
    """LicenceEscalator: each licence's escalation clause and its steps (docs/escalation.md)."""

    name = "LicenceEscalator"

    def attach_fn(
        self, licence_id: int, clause: Clause, deadline: int, licensor_sig: bytes, licensee_sig: bytes
    ) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.attach(
            licence_id, clause.as_abi(), deadline, licensor_sig, licensee_sig
        )
        return fn

    def attach(
        self, licence_id: int, clause: Clause, deadline: int, licensor_sig: bytes, licensee_sig: bytes,
        sender: LocalAccount,
    ) -> TxReceipt:  # fmt: skip
        return self._send(self.attach_fn(licence_id, clause, deadline, licensor_sig, licensee_sig), sender)

    def step_fn(self, values: IndexStep, signatures: Sequence[bytes]) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.step(values.as_abi(), list(signatures))
        return fn

    def step(self, values: IndexStep, signatures: Sequence[bytes], sender: LocalAccount) -> TxReceipt:
        return self._send(self.step_fn(values, signatures), sender)

    def clause_of(self, licence_id: int) -> Clause | None:
        """The licence's clause, or None when it has none."""
        raw = self._call(self.contract.functions.clauseOf(licence_id))
        if bytes(raw[0]) == bytes(16):
            return None
        return Clause.from_abi(raw)

    def steps_applied(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.stepsApplied(licence_id)))

    def step_month(self, licence_id: int, n: int) -> int:
        return int(self._call(self.contract.functions.stepMonth(licence_id, n)))

    def attach_digest(self, licence_id: int, clause: Clause, deadline: int) -> bytes:
        return bytes(self._call(self.contract.functions.attachDigest(licence_id, clause.as_abi(), deadline)))

    def step_digest(self, values: IndexStep) -> bytes:
        return bytes(self._call(self.contract.functions.stepDigest(values.as_abi())))

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant: ``ATTACH`` or ``STEP``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))


class ReviewsClient(_Client):
    """LicenceReviews: each licence's review clause, the reviews its triggers open and their
    decisions (acceptance is the registry's amendment, relayed)."""

    name = "LicenceReviews"

    # ------------------------------------------------------------------ writes

    def attach_fn(
        self, licence_id: int, clause: ReviewClause, deadline: int, licensor_sig: bytes, licensee_sig: bytes
    ) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.attach(
            licence_id, clause.as_abi(), deadline, licensor_sig, licensee_sig
        )
        return fn

    def attach(
        self, licence_id: int, clause: ReviewClause, deadline: int, licensor_sig: bytes, licensee_sig: bytes,
        sender: LocalAccount,
    ) -> TxReceipt:  # fmt: skip
        return self._send(self.attach_fn(licence_id, clause, deadline, licensor_sig, licensee_sig), sender)

    def fire_fn(self, evidence: Evidence, signatures: Sequence[bytes]) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.fire(evidence.as_abi(), list(signatures))
        return fn

    def fire(self, evidence: Evidence, signatures: Sequence[bytes], sender: LocalAccount) -> TxReceipt:
        """Fires a trigger (the date trigger with no signatures); :meth:`review_id_of` reads the id."""
        return self._send(self.fire_fn(evidence, signatures), sender)

    def review_id_of(self, receipt: TxReceipt) -> int:
        """The id of the review a fire transaction opened."""
        for event in self.chain.receipt_events(receipt):
            if event.name == "ReviewOpened":
                return int(event.args["reviewId"])
        raise LookupError("the receipt has no ReviewOpened event")

    def decline_fn(self, review_id: int, party: str, deadline: int, signature: bytes) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.decline(
            review_id, to_checksum_address(party), deadline, signature
        )
        return fn

    def decline(self, review_id: int, party: str, deadline: int, signature: bytes, sender: LocalAccount) -> TxReceipt:
        """``party`` declines: its DeclineReview signature, or empty when ``sender`` is the party."""
        return self._send(self.decline_fn(review_id, party, deadline, signature), sender)

    def accept_fn(
        self,
        review_id: int,
        schedule: Schedule,
        new_end: int,
        deadline: int,
        licensor_sig: bytes,
        licensee_sig: bytes,
    ) -> ContractFunction:
        """Both parties' AmendLicence signatures (the registry's digest; neither may be empty)."""
        fn: ContractFunction = self.contract.functions.accept(
            review_id, schedule.as_abi(), new_end, deadline, licensor_sig, licensee_sig
        )
        return fn

    def accept(
        self, review_id: int, schedule: Schedule, new_end: int, deadline: int, licensor_sig: bytes,
        licensee_sig: bytes, sender: LocalAccount,
    ) -> TxReceipt:  # fmt: skip
        return self._send(self.accept_fn(review_id, schedule, new_end, deadline, licensor_sig, licensee_sig), sender)

    # ------------------------------------------------------------------ reads

    def review_of(self, review_id: int) -> Review | None:
        """The review, or None when there is none of that id."""
        review = Review.from_abi(self._call(self.contract.functions.reviewOf(review_id)))
        return None if review.licence_id == 0 else review

    def review_count(self) -> int:
        return int(self._call(self.contract.functions.reviewCount()))

    def clause_of(self, licence_id: int) -> ReviewClause | None:
        """The licence's review clause, or None when it has none."""
        clause = ReviewClause.from_abi(self._call(self.contract.functions.clauseOf(licence_id)))
        return None if clause == ReviewClause() else clause

    def fired(self, licence_id: int, kind: Trigger) -> bool:
        return bool(self._call(self.contract.functions.fired(licence_id, int(kind))))

    def attach_digest(self, licence_id: int, clause: ReviewClause, deadline: int) -> bytes:
        return bytes(self._call(self.contract.functions.attachDigest(licence_id, clause.as_abi(), deadline)))

    def evidence_digest(self, evidence: Evidence) -> bytes:
        return bytes(self._call(self.contract.functions.evidenceDigest(evidence.as_abi())))

    def decline_digest(self, review_id: int, party: str, deadline: int) -> bytes:
        return bytes(self._call(self.contract.functions.declineDigest(review_id, to_checksum_address(party), deadline)))

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant: ``ATTACH_REVIEW``, ``EVIDENCE`` or ``DECLINE``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))


class FxClient(_Client):
    """LicenceFx: the check of reports' conversions, and each fixed-rate licence's tables of
    contractual rates both parties signed (docs/currencies.md)."""

    name = "LicenceFx"

    def agree_fn(
        self, licence_id: int, effective_from: int, rates: Mapping[str, int], deadline: int,
        licensor_sig: bytes, licensee_sig: bytes,
    ) -> ContractFunction:  # fmt: skip
        table = FixedTable(0, effective_from, rates).as_abi()
        fn: ContractFunction = self.contract.functions.agree(
            licence_id, effective_from, table, deadline, licensor_sig, licensee_sig
        )
        return fn

    def agree(
        self, licence_id: int, effective_from: int, rates: Mapping[str, int], deadline: int,
        licensor_sig: bytes, licensee_sig: bytes, sender: LocalAccount,
    ) -> TxReceipt:  # fmt: skip
        return self._send(
            self.agree_fn(licence_id, effective_from, rates, deadline, licensor_sig, licensee_sig), sender
        )

    def table_count(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.tableCount(licence_id)))

    def table(self, licence_id: int, version: int) -> FixedTable:
        effective_from, rates = self._call(self.contract.functions.table(licence_id, version))
        return FixedTable.from_abi(version, effective_from, rates)

    def tables(self, licence_id: int) -> list[FixedTable]:
        """Every table the licence's parties agreed, by version."""
        return [self.table(licence_id, v) for v in range(self.table_count(licence_id))]

    def rate_of(self, licence_id: int, currency: str, at: int) -> tuple[int, int]:
        """(rate, version) of ``currency`` in the table in force at ``at``; rate 0 when none agrees one."""
        rate, version = self._call(self.contract.functions.rateOf(licence_id, currency.encode("ascii"), at))
        return int(rate), int(version)

    def agree_digest(
        self, licence_id: int, version: int, effective_from: int, rates: Mapping[str, int], deadline: int
    ) -> bytes:
        table = FixedTable(version, effective_from, rates).as_abi()
        return bytes(
            self._call(self.contract.functions.agreeDigest(licence_id, version, effective_from, table, deadline))
        )

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant: ``FIXED_RATE`` or ``AGREE``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))


class LedgerClient(_Client):
    """RoyaltyLedger: escrow, settlement, balances, disputes."""

    name = "RoyaltyLedger"

    # ------------------------------------------------------------------ writes

    def settle_fn(self, reports: Sequence[Report], signatures: Sequence[Sequence[bytes]]) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.settleReports(
            [r.as_abi() for r in reports], [list(s) for s in signatures]
        )
        return fn

    def deposit_fn(self, licence_id: int, amount: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.deposit(licence_id, amount)
        return fn

    def deposit(self, licence_id: int, amount: int, sender: LocalAccount) -> TxReceipt:
        return self._send(self.deposit_fn(licence_id, amount), sender)

    def withdraw_fn(self, licence_id: int, payee: str) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.withdraw(licence_id, to_checksum_address(payee))
        return fn

    def withdraw(self, licence_id: int, payee: str, sender: LocalAccount) -> TxReceipt:
        return self._send(self.withdraw_fn(licence_id, payee), sender)

    def withdraw_tax_fn(self, licence_id: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.withdrawTax(licence_id)
        return fn

    def withdraw_tax(self, licence_id: int, sender: LocalAccount) -> TxReceipt:
        """Pays the licence's withheld tax to its tax account (anyone may send it)."""
        return self._send(self.withdraw_tax_fn(licence_id), sender)

    def deposit_with_permit_fn(self, licence_id: int, amount: int, deadline: int, signature: bytes) -> ContractFunction:
        """``depositWithPermit`` from the licensee's 65-byte (r, s, v) EIP-2612 permit signature."""
        r, s, v = signature[:32], signature[32:64], signature[64]
        fn: ContractFunction = self.contract.functions.depositWithPermit(
            licence_id, amount, deadline, v if v >= 27 else v + 27, r, s
        )
        return fn

    def deposit_with_permit(
        self, licence_id: int, amount: int, deadline: int, signature: bytes, sender: LocalAccount
    ) -> TxReceipt:
        """A permit deposit from the licensee's wallet, relayed by ``sender``."""
        return self._send(self.deposit_with_permit_fn(licence_id, amount, deadline, signature), sender)

    def withdraw_many_fn(self, licence_ids: list[int], payee: str) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.withdrawMany(licence_ids, to_checksum_address(payee))
        return fn

    def withdraw_many(self, licence_ids: list[int], payee: str, sender: LocalAccount) -> TxReceipt:
        """Pay `payee` its balance on every licence named (one transfer per run of one token)."""
        return self._send(self.withdraw_many_fn(licence_ids, payee), sender)

    def distribute_fn(self, licence_id: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.distribute(licence_id)
        return fn

    def distribute(self, licence_id: int, sender: LocalAccount) -> TxReceipt:
        """Pay every payee of a licence what it can claim; failed transfers stay claimable."""
        return self._send(self.distribute_fn(licence_id), sender)

    def publish_payees_fn(self, licence_id: int, payees: list[str], shares_bps: list[int]) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.publishPayees(
            licence_id, [to_checksum_address(p) for p in payees], shares_bps
        )
        return fn

    def publish_payees(
        self, licence_id: int, payees: list[str], shares_bps: list[int], sender: LocalAccount
    ) -> TxReceipt:
        """Deploy a long payee list (as the LicenceOpened event gives it) so payouts can read it."""
        return self._send(self.publish_payees_fn(licence_id, payees, shares_bps), sender)

    def payout_of(self, licence_id: int) -> tuple[int, int, bool, str]:
        """(paid up to, payee count, list published, address of the list's code)."""
        paid_up_to, count, published, holder = self._call(self.contract.functions.payoutOf(licence_id))
        return int(paid_up_to), int(count), bool(published), str(holder)

    def unpaid_of(self, licence_id: int, payee: str) -> int:
        return int(self._call(self.contract.functions.unpaidOf(licence_id, to_checksum_address(payee))))

    def charge_minimum_guarantee_fn(self, licence_id: int, year: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.chargeMinimumGuarantee(licence_id, year)
        return fn

    def charge_minimum_guarantee(self, licence_id: int, year: int, sender: LocalAccount) -> TxReceipt:
        return self._send(self.charge_minimum_guarantee_fn(licence_id, year), sender)

    def release_matured_fn(self, licence_id: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.releaseMatured(licence_id)
        return fn

    def release_matured(self, licence_id: int, sender: LocalAccount) -> TxReceipt:
        """Makes the licence's settlements whose dispute window has passed final and credits them."""
        return self._send(self.release_matured_fn(licence_id), sender)

    def dispute(self, settlement_id: int, sender: LocalAccount) -> TxReceipt:
        """A party disputes a settlement from its own account."""
        return self._send(self.contract.functions.dispute(settlement_id), sender)

    def dispute_for_fn(self, settlement_id: int, party: str, deadline: int, signature: bytes) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.disputeFor(settlement_id, party, deadline, signature)
        return fn

    def dispute_for(
        self, settlement_id: int, party: str, deadline: int, signature: bytes, sender: LocalAccount
    ) -> TxReceipt:
        """A relayed dispute: ``party``'s DisputeSettlement signature, sent by ``sender``."""
        return self._send(self.dispute_for_fn(settlement_id, party, deadline, signature), sender)

    def resolve_dispute(self, settlement_id: int, final_amount: int, sender: LocalAccount) -> TxReceipt:
        """The arbiter decides a disputed settlement's final amount."""
        return self._send(self.contract.functions.resolveDispute(settlement_id, final_amount), sender)

    def resolve_by_parties(
        self,
        settlement_id: int,
        final_amount: int,
        deadline: int,
        licensor_sig: bytes,
        licensee_sig: bytes,
        sender: LocalAccount,
    ) -> TxReceipt:
        """Both parties' ResolveDispute signatures, relayed to resolveDisputeByParties."""
        fn = self.contract.functions.resolveDisputeByParties(
            settlement_id, final_amount, deadline, licensor_sig, licensee_sig
        )
        return self._send(fn, sender)

    # ------------------------------------------------------------------ reads

    def typehash(self, name: str) -> bytes:
        """A public ``*_TYPEHASH`` constant, e.g. ``typehash("DISPUTE")``."""
        return bytes(self._call(getattr(self.contract.functions, f"{name}_TYPEHASH")()))

    def settled_period(self, licence_id: int, period: int) -> int:
        return int(self._call(self.contract.functions.settledPeriod(licence_id, period)))

    def last_sequence(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.lastSequence(licence_id)))

    def latest_of_period(self, licence_id: int, period: int) -> int:
        """The period's last settlement: its original report's or its latest adjustment's (0: none).
        An adjustment must name it in ``corrects``."""
        return int(self._call(self.contract.functions.latestOfPeriod(licence_id, period)))

    def credit_of(self, licence_id: int) -> int:
        """The licensee's credit from returns and downward adjustments, not used yet (token units)."""
        return int(self._call(self.contract.functions.creditOf(licence_id)))

    def settlement(self, settlement_id: int) -> Settlement:
        return Settlement.from_abi(self._call(self.contract.functions.settlement(settlement_id)))

    def settlement_count(self) -> int:
        return int(self._call(self.contract.functions.settlementCount()))

    def escrow_of(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.escrowOf(licence_id)))

    def arrears_of(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.arrearsOf(licence_id)))

    def advance_remaining(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.advanceRemaining(licence_id)))

    def claimable(self, licence_id: int, payee: str) -> int:
        return int(self._call(self.contract.functions.claimable(licence_id, to_checksum_address(payee))))

    def tax_claimable(self, licence_id: int) -> int:
        return int(self._call(self.contract.functions.taxClaimable(licence_id)))


class TokenClient(_Client):
    """An ERC-20 payment token (the demo's TestToken adds ``mint``)."""

    def __init__(self, chain: Chain, address: str) -> None:
        test_token = chain.manifest.contracts.get("TestToken")
        super().__init__(chain, address, test_token.abi if test_token is not None else ERC20_ABI)

    def mint_fn(self, to: str, amount: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.mint(to_checksum_address(to), amount)
        return fn

    def mint(self, to: str, amount: int, sender: LocalAccount) -> TxReceipt:
        return self._send(self.mint_fn(to, amount), sender)

    def approve_fn(self, spender: str, amount: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.approve(to_checksum_address(spender), amount)
        return fn

    def approve(self, spender: str, amount: int, sender: LocalAccount) -> TxReceipt:
        return self._send(self.approve_fn(spender, amount), sender)

    def transfer_fn(self, to: str, amount: int) -> ContractFunction:
        fn: ContractFunction = self.contract.functions.transfer(to_checksum_address(to), amount)
        return fn

    def balance_of(self, account: str) -> int:
        return int(self._call(self.contract.functions.balanceOf(to_checksum_address(account))))

    def allowance(self, owner: str, spender: str) -> int:
        fn = self.contract.functions.allowance(to_checksum_address(owner), to_checksum_address(spender))
        return int(self._call(fn))

    def nonces(self, owner: str) -> int:
        """The owner's next EIP-2612 permit nonce."""
        return int(self._call(self.contract.functions.nonces(to_checksum_address(owner))))

    def permit_domain(self) -> Domain:
        """The token's EIP-712 domain for permits, checked against its own ``DOMAIN_SEPARATOR()``
        (a token whose ERC-5267 answer and separator disagree raises ValueError)."""
        domain = self.domain()
        separator = bytes(self._call(self.contract.functions.DOMAIN_SEPARATOR()))
        if separator != domain.separator:
            raise ValueError(f"the token's DOMAIN_SEPARATOR 0x{separator.hex()} is not its eip712Domain's")
        return domain

    def symbol(self) -> str:
        return str(self._call(self.contract.functions.symbol()))

    def decimals(self) -> int:
        return int(self._call(self.contract.functions.decimals()))


_ERC5267_OUTPUTS = [
    ("fields", "bytes1"), ("name", "string"), ("version", "string"), ("chainId", "uint256"),
    ("verifyingContract", "address"), ("salt", "bytes32"), ("extensions", "uint256[]"),
]  # fmt: skip

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": out}],
    }
    for name, mutability, inputs, out in [
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("decimals", "view", [], "uint8"),
        ("symbol", "view", [], "string"),
        ("approve", "nonpayable", [("spender", "address"), ("amount", "uint256")], "bool"),
        ("transfer", "nonpayable", [("to", "address"), ("amount", "uint256")], "bool"),
        ("allowance", "view", [("owner", "address"), ("spender", "address")], "uint256"),
        # EIP-2612, where the token has it
        ("nonces", "view", [("owner", "address")], "uint256"),
        ("DOMAIN_SEPARATOR", "view", [], "bytes32"),
    ]
] + [
    {
        "type": "function",
        "name": "eip712Domain",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": n, "type": t} for n, t in _ERC5267_OUTPUTS],
    }
]

__all__ = ["ERC20_ABI", "LedgerClient", "RegistryClient", "TokenClient"]
