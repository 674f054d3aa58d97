"""Relayed licence actions: typed data to sign, signature checks, simulation, then sending.

The API holds only its relayer key. Every submission is checked in three steps before anything
is sent: each party's signature must recover to that party (contract wallets are left to the
contract's ERC-1271 check), the call is simulated (the typed client's transact estimates its gas,
which runs it) so a rule the contract enforces comes back as a 422 naming the custom error, and
only then is the transaction signed and sent.

Each of the relayed actions is one :class:`Action` (the EIP-712 table, domain and message,
the signers, and the typed client's call); :func:`draft` and :func:`submit` are shared by all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from sqlalchemy.orm import Session
from web3.types import TxReceipt

from api.errors import (
    ApiError,
    ContractRejected,
    InvalidInput,
    NotFound,
    SignatureInvalid,
    Unavailable,
    contract_rejected,
)
from api.indexer.models import LicenceRow, ReviewRow, SettlementRow
from api.inputs import (
    EscalationIn,
    ScheduleIn,
    TermsIn,
    clause_doc,
    schedule_doc,
    terms_doc,
    to_clause,
    to_schedule,
    to_terms,
)
from api.queries import get_licence_row
from api.queries.reviews import amendment_basis, schedule_versions, suggested_amendment, suggested_schedule
from api.relay_schemas import (
    AmendDraft,
    Draft,
    EscalationDraft,
    FixedRatesAgreeIn,
    FixedRatesDraft,
    FixedRatesDraftIn,
    FixedRatesIn,
    RegisterDraft,
    Relayed,
    ReviewAcceptDraft,
)
from api.services import Services
from intake.fx import RATE_DECIMALS, parse_rate
from royalty_chain import eip712
from royalty_chain.client import ContractRevert
from royalty_chain.eip712 import Domain, StructType, recover_signer
from royalty_chain.escalation import Clause
from royalty_chain.events import ChainEvent
from royalty_chain.reviews import ReviewStatus
from royalty_chain.terms import DAY, Schedule, Terms
from royalty_chain.units import format_amount

DEFAULT_DEADLINE = DAY


@dataclass(frozen=True, slots=True)
class Signer:
    """A party whose signature an action needs: its role, its address and the request field."""

    role: str
    address: str
    field: str


@dataclass(frozen=True, slots=True)
class Action:
    """One relayed action: the typed message the signers sign, and the client call that sends it
    (given the checked signatures, in ``signers`` order, and the relayer's account)."""

    struct: StructType
    domain: Domain
    message: dict[str, Any]
    signers: tuple[Signer, ...]
    send: Callable[[list[bytes], LocalAccount], TxReceipt]

    @property
    def digest(self) -> bytes:
        return self.struct.digest(self.domain, self.message)


def draft(action: Action, deadline: int) -> dict[str, Any]:
    """What every draft answers: the wallet's typed data, its digest and the deadline."""
    return {
        "typed_data": action.struct.typed_data(action.domain, action.message),
        "digest": "0x" + action.digest.hex(),
        "deadline": deadline,
    }


def submit(services: Services, action: Action, signatures: Sequence[str]) -> tuple[str, int, list[ChainEvent]]:
    """Checks the deadline and each signer's signature, then simulates and sends the action from
    the relayer."""
    check_deadline(services, int(action.message["deadline"]))
    digest = action.digest
    raw = [
        _check_signature(services, signer.role, signer.address, digest, signature, signer.field)
        for signer, signature in zip(action.signers, signatures, strict=True)
    ]
    relayer = _relayer(services)
    with services.relay_lock:
        try:
            receipt = action.send(raw, relayer)  # simulated first: a revert sends nothing
        except ContractRevert as revert:
            raise _rejected(services, revert) from revert
    events = services.chain.receipt_events(receipt)
    return "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"]), events


def _error_names(services: Services) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for abi in services.chain.abis.values():
        for error in abi.errors.values():
            names[error.name] = list(error.names)
    return names


def _deadline(services: Services, deadline: int | None) -> int:
    if deadline is not None:
        return deadline
    latest = services.chain.w3.eth.get_block("latest")
    return max(int(time.time()), int(latest["timestamp"])) + DEFAULT_DEADLINE


def _relayer(services: Services) -> LocalAccount:
    if services.relayer is None:
        raise Unavailable("relaying is disabled: set API_RELAYER_KEY (only a local dev chain has a default)")
    return services.relayer


def _rejected(services: Services, revert: ContractRevert) -> ApiError:
    if revert.error in ("UnknownLicence", "UnknownSettlement", "UnknownReview"):
        return NotFound(str(revert))
    return contract_rejected(revert, _error_names(services).get(revert.error))


def _check_signature(
    services: Services, role: str, party: str, digest: bytes, signature: str, field: str | None = None
) -> bytes:
    raw = bytes.fromhex(signature[2:])
    if services.chain.w3.eth.get_code(to_checksum_address(party)):
        return raw  # a contract wallet: the contract asks it (ERC-1271) during the simulation
    field = field or f"{role}_signature"
    try:
        signer = recover_signer(digest, raw)
    except Exception:  # eth-keys raises several types for malformed signatures
        raise SignatureInvalid(
            f"{field} is not a valid signature of the {role} {party}",
            errors=[{"field": field, "message": "is not a valid 65-byte signature"}],
            party=role,
            address=party,
        ) from None
    if signer.lower() != party.lower():
        raise SignatureInvalid(
            f"{field} was not made by the {role} {party} (it recovers to {signer})",
            errors=[{"field": field, "message": f"does not recover to the {role} {party}"}],
            party=role,
            address=party,
            recovered=signer,
        )
    return raw


def _both(licensor: str, licensee: str) -> tuple[Signer, ...]:
    return (
        Signer("licensor", licensor, "licensor_signature"),
        Signer("licensee", licensee, "licensee_signature"),
    )


# ------------------------------------------------------------------ register


def check_sizes(services: Services, value: TermsIn) -> None:
    """Relayed terms stay within the API's size limits (the relayer pays for every payee)."""
    settings = services.settings
    limits = [
        ("terms.payees", len(value.payees), settings.relay_max_payees, "API_RELAY_MAX_PAYEES"),
        ("terms.asset_ids", len(value.asset_ids), settings.relay_max_assets, "API_RELAY_MAX_ASSETS"),
        ("terms.oracles", len(value.oracles), settings.relay_max_oracles, "API_RELAY_MAX_ORACLES"),
        ("terms.schedule.tiers", len(value.schedule.tiers), settings.relay_max_tiers, "API_RELAY_MAX_TIERS"),
        (
            "terms.schedule.field_rates",
            len(value.schedule.field_rates),
            settings.relay_max_tiers,
            "API_RELAY_MAX_TIERS",
        ),
    ]
    for field, count, limit, setting in limits:
        if count > limit:
            raise InvalidInput(
                f"{field}: {count} is more than the relayer takes ({setting} = {limit})",
                errors=[{"field": field, "message": f"at most {limit} ({setting}); got {count}"}],
                limit=setting,
                allowed=limit,
                got=count,
            )


def check_deadline(services: Services, deadline: int, field: str = "deadline") -> None:
    """A deadline the chain could pass before the transaction is mined would cost the relayer a
    failed transaction (finding F6): it must be API_RELAY_DEADLINE_MARGIN_SECONDS past the chain's time."""
    now = int(services.chain.w3.eth.get_block("latest")["timestamp"])
    margin = services.settings.relay_deadline_margin_seconds
    if deadline < now + margin:
        raise InvalidInput.field(
            field,
            f"{deadline} is less than {margin} s after the chain's time {now} (API_RELAY_DEADLINE_MARGIN_SECONDS): "
            "it could pass before the transaction is mined",
        )


def _terms(services: Services, value: TermsIn) -> Terms:
    check_sizes(services, value)
    try:
        return to_terms(value, services.manifest)
    except ValueError as err:  # a bitmap or code problem the input models did not catch
        raise InvalidInput.field("terms", str(err)) from err


def _register(services: Services, terms: Terms, deadline: int) -> Action:
    registry = services.chain.registry
    return Action(
        eip712.REGISTER,
        registry.domain(),
        eip712.register_message(terms, deadline),
        _both(terms.licensor, terms.licensee),
        lambda sigs, relayer: registry.register(terms, deadline, sigs[0], sigs[1], relayer),
    )


def draft_register(services: Services, value: TermsIn, deadline: int | None) -> RegisterDraft:
    terms = _terms(services, value)
    deadline = _deadline(services, deadline)
    return RegisterDraft(terms=terms_doc(terms), **draft(_register(services, terms, deadline), deadline))


def submit_register(services: Services, value: TermsIn, deadline: int, licensor_sig: str, licensee_sig: str) -> Relayed:
    terms = _terms(services, value)
    tx_hash, block, events = submit(services, _register(services, terms, deadline), [licensor_sig, licensee_sig])
    licence_id = next((int(e.args["licenceId"]) for e in events if e.name == "LicenceRegistered"), None)
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


# ------------------------------------------------------------------ amend and terminate


def _parties(services: Services, licence_id: int) -> tuple[str, str]:
    try:
        return services.chain.registry.parties(licence_id)
    except ContractRevert as revert:
        raise _rejected(services, revert) from revert


def _decimals_if_needed(services: Services, licence_id: int, schedule: ScheduleIn) -> int | None:
    """The decimals of the licence's token when the schedule gives an amount as a decimal."""
    amounts = [schedule.fixed_fee_per_period, schedule.per_unit, schedule.minimum_guarantee]
    if all(isinstance(a, int) for a in [*amounts, *(t.threshold for t in schedule.tiers)]):
        return None
    with services.sessions() as session:
        token = get_licence_row(session, licence_id).token
    return services.tokens.currency_and_decimals(token)[1]


def _amend(
    services: Services, licence_id: int, parties: tuple[str, str], schedule: ScheduleIn, new_end: int, deadline: int
) -> tuple[Action, int, Schedule]:
    if schedule.effective_from is None:
        raise InvalidInput.field("schedule.effective_from", "is required for an amendment")
    registry = services.chain.registry
    version = registry.schedule_count(licence_id)
    parsed = to_schedule(
        schedule, schedule.effective_from, "schedule", _decimals_if_needed(services, licence_id, schedule)
    )
    action = Action(
        eip712.AMEND,
        registry.domain(),
        eip712.amend_message(licence_id, version, parsed, new_end, deadline),
        _both(*parties),
        lambda sigs, relayer: registry.amend(licence_id, parsed, new_end, deadline, sigs[0], sigs[1], relayer),
    )
    return action, version, parsed


def draft_amend(
    services: Services, licence_id: int, schedule: ScheduleIn, new_end: int, deadline: int | None
) -> AmendDraft:
    parties = _parties(services, licence_id)
    deadline = _deadline(services, deadline)
    action, version, parsed = _amend(services, licence_id, parties, schedule, new_end, deadline)
    return AmendDraft(**draft(action, deadline), version=version, schedule=schedule_doc(parsed), new_end=new_end)


def submit_amend(
    services: Services,
    licence_id: int,
    schedule: ScheduleIn,
    new_end: int,
    deadline: int,
    licensor_sig: str,
    licensee_sig: str,
) -> Relayed:
    parties = _parties(services, licence_id)
    action, _, _ = _amend(services, licence_id, parties, schedule, new_end, deadline)
    tx_hash, block, _ = submit(services, action, [licensor_sig, licensee_sig])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


def _terminate(services: Services, licence_id: int, parties: tuple[str, str], deadline: int) -> Action:
    registry = services.chain.registry
    return Action(
        eip712.TERMINATE,
        registry.domain(),
        eip712.terminate_message(licence_id, deadline),
        _both(*parties),
        lambda sigs, relayer: registry.terminate_by_consent(licence_id, deadline, sigs[0], sigs[1], relayer),
    )


def draft_terminate(services: Services, licence_id: int, deadline: int | None) -> Draft:
    parties = _parties(services, licence_id)
    deadline = _deadline(services, deadline)
    return Draft(**draft(_terminate(services, licence_id, parties, deadline), deadline))


def submit_terminate(
    services: Services, licence_id: int, deadline: int, licensor_sig: str, licensee_sig: str
) -> Relayed:
    action = _terminate(services, licence_id, _parties(services, licence_id), deadline)
    tx_hash, block, _ = submit(services, action, [licensor_sig, licensee_sig])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


# ------------------------------------------------------------------ escalation clause


def _licence_decimals(services: Services, licence_id: int) -> int:
    with services.sessions() as session:
        token = get_licence_row(session, licence_id).token
    return services.tokens.currency_and_decimals(token)[1]


def _attach(services: Services, licence_id: int, parties: tuple[str, str], clause: Clause, deadline: int) -> Action:
    escalator = services.chain.escalator
    return Action(
        eip712.ATTACH_ESCALATION,
        escalator.domain(),
        clause.message(licence_id, deadline),  # JSON-safe: a wallet's eth_signTypedData_v4 takes it
        _both(*parties),
        lambda sigs, relayer: escalator.attach(licence_id, clause, deadline, sigs[0], sigs[1], relayer),
    )


def _clause(services: Services, licence_id: int, value: EscalationIn) -> tuple[Clause, int]:
    """The exact clause (a 422 naming the field and the escalator's error for a rule it would
    revert on) and the decimals of the licence's token its round_to was read with."""
    decimals = _licence_decimals(services, licence_id)
    return to_clause(value, decimals, "clause"), decimals


def draft_escalation(services: Services, licence_id: int, value: EscalationIn, deadline: int | None) -> EscalationDraft:
    parties = _parties(services, licence_id)
    clause, decimals = _clause(services, licence_id, value)
    deadline = _deadline(services, deadline)
    action = _attach(services, licence_id, parties, clause, deadline)
    return EscalationDraft(**draft(action, deadline), clause=clause_doc(clause, decimals))


def submit_escalation(
    services: Services, licence_id: int, value: EscalationIn, deadline: int, licensor_sig: str, licensee_sig: str
) -> Relayed:
    """Both parties' AttachEscalation signatures, relayed to escalator.attach."""
    parties = _parties(services, licence_id)
    clause, _ = _clause(services, licence_id, value)
    action = _attach(services, licence_id, parties, clause, deadline)
    tx_hash, block, _ = submit(services, action, [licensor_sig, licensee_sig])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


# ------------------------------------------------------------------ fixed contractual rates


def _fixed_table(services: Services, licence_id: int, value: FixedRatesIn) -> tuple[int, int, dict[str, int]]:
    """(version, effective_from, rates scaled by 10^18) of the licence's next table: each rate a
    422 naming its field for anything LicenceFx or the terms would refuse."""
    with services.sessions() as session:
        row = get_licence_row(session, licence_id)
    licence_currency = services.tokens.currency_and_decimals(row.token)[0]
    rates: dict[str, int] = {}
    for code, text in value.rates.items():  # codes and rates checked by the schema (FixedRatesIn)
        if code == licence_currency:  # known only once the licence's token is
            raise InvalidInput.field(
                f"rates.{code}", f"{code} is the licence's own currency: its rate is 1 by definition"
            )
        rates[code] = parse_rate(text)
    fx = services.chain.fx
    version = fx.table_count(licence_id)
    effective_from = value.effective_from
    if effective_from is None:
        registry = services.chain.registry
        if version == 0:
            effective_from = int(row.start)
        else:
            now = int(services.chain.w3.eth.get_block("latest")["timestamp"])
            effective_from = registry.period_bounds(licence_id, registry.period_of(licence_id, now) + 1)[0]
    return version, effective_from, rates


def _agree(
    services: Services, licence_id: int, parties: tuple[str, str], table: tuple[int, int, dict[str, int]], deadline: int
) -> Action:
    fx = services.chain.fx
    version, effective_from, rates = table
    return Action(
        eip712.AGREE_FIXED_RATES,
        fx.domain(),
        eip712.fixed_rates_message(licence_id, version, effective_from, rates, deadline),
        _both(*parties),
        lambda sigs, relayer: fx.agree(licence_id, effective_from, rates, deadline, sigs[0], sigs[1], relayer),
    )


def draft_fixed_rates(services: Services, licence_id: int, value: FixedRatesDraftIn) -> FixedRatesDraft:
    parties = _parties(services, licence_id)
    table = _fixed_table(services, licence_id, value)
    deadline = _deadline(services, value.deadline)
    action = _agree(services, licence_id, parties, table, deadline)
    version, effective_from, rates = table
    canonical = {code: format_amount(rate, RATE_DECIMALS) for code, rate in sorted(rates.items())}
    return FixedRatesDraft(**draft(action, deadline), version=version, effective_from=effective_from, rates=canonical)


def submit_fixed_rates(services: Services, licence_id: int, value: FixedRatesAgreeIn) -> Relayed:
    """Both parties' AgreeFixedRates signatures, relayed to LicenceFx.agree (checked by simulation first)."""
    parties = _parties(services, licence_id)
    table = _fixed_table(services, licence_id, value)
    action = _agree(services, licence_id, parties, table, value.deadline)
    tx_hash, block, _ = submit(services, action, [value.licensor_signature, value.licensee_signature])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


# ------------------------------------------------------------------ disputes


def _dispute_party(session: Session, settlement_id: int, party: str) -> str:
    settlement = session.get(SettlementRow, settlement_id)
    if settlement is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    licence = get_licence_row(session, settlement.licence_id)
    if party == licence.licensor:
        return "licensor"
    if party == licence.licensee:
        return "licensee"
    raise InvalidInput.field("party", f"{party} is neither the licensor nor the licensee of licence {licence.id}")


def _dispute(services: Services, settlement_id: int, role: str, party: str, deadline: int) -> Action:
    ledger = services.chain.ledger
    return Action(
        eip712.DISPUTE,
        ledger.domain(),
        eip712.dispute_message(settlement_id, party, deadline),
        (Signer(role, party, "signature"),),
        lambda sigs, relayer: ledger.dispute_for(settlement_id, party, deadline, sigs[0], relayer),
    )


def draft_dispute(services: Services, session: Session, settlement_id: int, party: str, deadline: int | None) -> Draft:
    role = _dispute_party(session, settlement_id, party)
    deadline = _deadline(services, deadline)
    return Draft(**draft(_dispute(services, settlement_id, role, party, deadline), deadline))


def submit_dispute(
    services: Services, session: Session, settlement_id: int, party: str, deadline: int, signature: str
) -> Relayed:
    role = _dispute_party(session, settlement_id, party)
    tx_hash, block, _ = submit(services, _dispute(services, settlement_id, role, party, deadline), [signature])
    return Relayed(tx_hash=tx_hash, block_number=block, settlement_id=settlement_id)


def _settlement_parties(services: Services, session: Session, settlement_id: int) -> tuple[str, str]:
    settlement = session.get(SettlementRow, settlement_id)
    if settlement is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    return _parties(services, settlement.licence_id)


def _resolve(
    services: Services, settlement_id: int, parties: tuple[str, str], final_amount: int, deadline: int
) -> Action:
    ledger = services.chain.ledger
    return Action(
        eip712.RESOLVE,
        ledger.domain(),
        eip712.resolve_message(settlement_id, final_amount, deadline),
        _both(*parties),
        lambda sigs, relayer: ledger.resolve_by_parties(
            settlement_id, final_amount, deadline, sigs[0], sigs[1], relayer
        ),
    )


def draft_resolution(
    services: Services, session: Session, settlement_id: int, final_amount: int, deadline: int | None
) -> Draft:
    parties = _settlement_parties(services, session, settlement_id)
    deadline = _deadline(services, deadline)
    return Draft(**draft(_resolve(services, settlement_id, parties, final_amount, deadline), deadline))


def submit_resolution(
    services: Services,
    session: Session,
    settlement_id: int,
    final_amount: int,
    deadline: int,
    licensor_sig: str,
    licensee_sig: str,
) -> Relayed:
    """Both parties' ResolveDispute signatures, relayed to ledger.resolveDisputeByParties."""
    parties = _settlement_parties(services, session, settlement_id)
    action = _resolve(services, settlement_id, parties, final_amount, deadline)
    tx_hash, block, _ = submit(services, action, [licensor_sig, licensee_sig])
    return Relayed(tx_hash=tx_hash, block_number=block, settlement_id=settlement_id)


# ------------------------------------------------------------------ rate reviews


def _review_row(services: Services, licence_id: int, review_id: int) -> tuple[ReviewRow, LicenceRow]:
    """The indexed review of the licence (404 when the index has no such review of it)."""
    with services.sessions() as session:
        licence = get_licence_row(session, licence_id)
        row = session.get(ReviewRow, review_id)
        if row is None or row.licence_id != licence_id:
            raise NotFound(f"review {review_id} of licence {licence_id} is not known (or not indexed yet)")
        session.expunge(row)
        session.expunge(licence)
        return row, licence


def _decline_role(licence: LicenceRow, party: str) -> str:
    if party.lower() == licence.licensor.lower():
        return "licensor"
    if party.lower() == licence.licensee.lower():
        return "licensee"
    raise InvalidInput.field("party", f"{party} is neither the licensor nor the licensee of licence {licence.id}")


def _decline(services: Services, review_id: int, role: str, party: str, deadline: int) -> Action:
    reviews = services.chain.reviews
    return Action(
        eip712.DECLINE_REVIEW,
        reviews.domain(),
        {"reviewId": review_id, "party": to_checksum_address(party), "deadline": deadline},
        (Signer(role, party, "signature"),),
        lambda sigs, relayer: reviews.decline(review_id, party, deadline, sigs[0], relayer),
    )


def draft_decline(services: Services, licence_id: int, review_id: int, party: str, deadline: int | None) -> Draft:
    _, licence = _review_row(services, licence_id, review_id)
    role = _decline_role(licence, party)
    deadline = _deadline(services, deadline)
    return Draft(**draft(_decline(services, review_id, role, party, deadline), deadline))


def submit_decline(
    services: Services, licence_id: int, review_id: int, party: str, deadline: int, signature: str
) -> Relayed:
    """One party's DeclineReview signature, relayed to reviews.decline (the contract refuses a
    decided review: ReviewDecided)."""
    _, licence = _review_row(services, licence_id, review_id)
    role = _decline_role(licence, party)
    tx_hash, block, _ = submit(services, _decline(services, review_id, role, party, deadline), [signature])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


def _accept(
    services: Services, licence_id: int, review_id: int, schedule: Schedule, new_end: int, deadline: int
) -> tuple[Action, int]:
    """The registry's AmendLicence of version ``scheduleCount`` both parties sign; the reviews
    contract relays it (accept) and records the review accepted."""
    registry, reviews = services.chain.registry, services.chain.reviews
    version = registry.schedule_count(licence_id)
    action = Action(
        eip712.AMEND,
        registry.domain(),
        eip712.amend_message(licence_id, version, schedule, new_end, deadline),
        _both(*_parties(services, licence_id)),
        lambda sigs, relayer: reviews.accept(review_id, schedule, new_end, deadline, sigs[0], sigs[1], relayer),
    )
    return action, version


def draft_accept(
    services: Services, licence_id: int, review_id: int, effective_from: int | None, deadline: int | None
) -> ReviewAcceptDraft:
    """The amendment an open review suggests (api.queries.reviews.suggested_amendment), from
    ``effective_from`` when given, as AmendLicence typed data both parties sign."""
    row, licence = _review_row(services, licence_id, review_id)
    if row.status != "open":  # what LicenceReviews.accept would revert with
        status = ReviewStatus[row.status.upper()]
        raise ContractRejected(
            f"review {review_id} is {row.status}: the contract would revert with ReviewDecided",
            error="ReviewDecided",
            arguments={"reviewId": str(review_id), "status": str(int(status))},
        )
    with services.sessions() as session:
        versions = schedule_versions(session, licence_id)
        suggested = suggested_amendment(licence, row, versions, effective_from)
        basis = amendment_basis(versions, suggested.schedule.effective_from)
        schedule = suggested_schedule(row, basis, suggested.schedule.effective_from)
    deadline = _deadline(services, deadline)
    action, version = _accept(services, licence_id, review_id, schedule, suggested.new_end, deadline)
    return ReviewAcceptDraft(
        **draft(action, deadline),
        review_id=review_id,
        version=version,
        schedule=schedule_doc(schedule),
        new_end=suggested.new_end,
    )


def submit_accept(
    services: Services,
    licence_id: int,
    review_id: int,
    schedule: ScheduleIn,
    new_end: int,
    deadline: int,
    licensor_sig: str,
    licensee_sig: str,
) -> Relayed:
    """Both parties' AmendLicence signatures of the schedule posted (the draft's, or another they
    agreed), relayed through reviews.accept."""
    _review_row(services, licence_id, review_id)
    if schedule.effective_from is None:
        raise InvalidInput.field("schedule.effective_from", "is required for an amendment")
    parsed = to_schedule(
        schedule, schedule.effective_from, "schedule", _decimals_if_needed(services, licence_id, schedule)
    )
    action, _ = _accept(services, licence_id, review_id, parsed, new_end, deadline)
    tx_hash, block, _ = submit(services, action, [licensor_sig, licensee_sig])
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)
