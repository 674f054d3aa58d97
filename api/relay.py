"""Relayed licence actions: typed data to sign, signature checks, simulation, then sending.

The API holds only its relayer key. Every submission is checked in three steps before anything
is sent: each party's signature must recover to that party (contract wallets are left to the
contract's ERC-1271 check), the call is simulated with eth_call so a rule the contract enforces
comes back as a 422 naming the custom error, and only then is the transaction signed and sent.
"""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from sqlalchemy.orm import Session
from web3.contract.contract import ContractFunction

from api.errors import ApiError, InvalidInput, NotFound, SignatureInvalid, Unavailable, contract_rejected
from api.indexer.models import SettlementRow
from api.inputs import ScheduleIn, TermsIn, schedule_doc, terms_doc, to_schedule, to_terms
from api.queries import get_licence_row
from api.schemas import AmendDraft, Draft, RegisterDraft, Relayed
from api.services import Services
from royalty_chain.client import ContractRevert
from royalty_chain.eip712 import (
    Domain,
    amend_struct_hash,
    dispute_struct_hash,
    recover_signer,
    register_struct_hash,
    resolve_struct_hash,
    terminate_struct_hash,
    typed_data_amend,
    typed_data_dispute,
    typed_data_register,
    typed_data_resolve,
    typed_data_terminate,
)
from royalty_chain.events import EventDecoder
from royalty_chain.terms import DAY, Terms

DEFAULT_DEADLINE = DAY


def _error_names(services: Services) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for contract in services.manifest.contracts.values():
        for item in contract.abi:
            if item.get("type") == "error":
                names[item["name"]] = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
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
    if revert.error in ("UnknownLicence", "UnknownSettlement"):
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


def _send(services: Services, fn: ContractFunction) -> tuple[str, int, list[Any]]:
    relayer = _relayer(services)
    with services.relay_lock:
        try:
            services.chain.call(fn, sender=relayer.address)  # eth_call first: a revert sends nothing
            receipt: Any = services.chain.transact(fn, relayer)
        except ContractRevert as revert:
            raise _rejected(services, revert) from revert
    decoder = EventDecoder.from_manifest(services.manifest)
    events = [e for e in (decoder.decode(dict(entry)) for entry in receipt["logs"]) if e is not None]
    return "0x" + bytes(receipt["transactionHash"]).hex(), int(receipt["blockNumber"]), events


# ------------------------------------------------------------------ register


def _terms(services: Services, value: TermsIn) -> Terms:
    try:
        return to_terms(value, services.manifest)
    except ValueError as err:  # a bitmap or code problem the input models did not catch
        raise InvalidInput.field("terms", str(err)) from err


def _register_digest(services: Services, terms: Terms, deadline: int) -> tuple[Domain, bytes]:
    domain = services.chain.registry.domain()
    return domain, domain.digest(register_struct_hash(terms, deadline))


def draft_register(services: Services, value: TermsIn, deadline: int | None) -> RegisterDraft:
    terms = _terms(services, value)
    deadline = _deadline(services, deadline)
    domain, digest = _register_digest(services, terms, deadline)
    return RegisterDraft(
        terms=terms_doc(terms),
        typed_data=typed_data_register(domain, terms, deadline),
        digest="0x" + digest.hex(),
        deadline=deadline,
    )


def submit_register(services: Services, value: TermsIn, deadline: int, licensor_sig: str, licensee_sig: str) -> Relayed:
    terms = _terms(services, value)
    _, digest = _register_digest(services, terms, deadline)
    first = _check_signature(services, "licensor", terms.licensor, digest, licensor_sig)
    second = _check_signature(services, "licensee", terms.licensee, digest, licensee_sig)
    fn = services.chain.registry.contract.functions.register(terms.as_abi(), deadline, first, second)
    tx_hash, block, events = _send(services, fn)
    licence_id = next((int(e.args["licenceId"]) for e in events if e.name == "LicenceRegistered"), None)
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


# ------------------------------------------------------------------ amend and terminate


def _parties(services: Services, licence_id: int) -> tuple[str, str]:
    try:
        licensor, licensee = services.chain.call(services.chain.registry.contract.functions.parties(licence_id))
    except ContractRevert as revert:
        raise _rejected(services, revert) from revert
    return str(licensor), str(licensee)


def _amend_digest(
    services: Services, licence_id: int, schedule: ScheduleIn, new_end: int, deadline: int
) -> tuple[Domain, int, Any, bytes]:
    if schedule.effective_from is None:
        raise InvalidInput.field("schedule.effective_from", "is required for an amendment")
    version = services.chain.registry.schedule_count(licence_id)
    parsed = to_schedule(schedule, schedule.effective_from, "schedule")
    domain = services.chain.registry.domain()
    return domain, version, parsed, domain.digest(amend_struct_hash(licence_id, version, parsed, new_end, deadline))


def draft_amend(
    services: Services, licence_id: int, schedule: ScheduleIn, new_end: int, deadline: int | None
) -> AmendDraft:
    _parties(services, licence_id)
    deadline = _deadline(services, deadline)
    domain, version, parsed, digest = _amend_digest(services, licence_id, schedule, new_end, deadline)
    return AmendDraft(
        typed_data=typed_data_amend(domain, licence_id, version, parsed, new_end, deadline),
        digest="0x" + digest.hex(),
        deadline=deadline,
        version=version,
        schedule=schedule_doc(parsed),
        new_end=new_end,
    )


def submit_amend(
    services: Services,
    licence_id: int,
    schedule: ScheduleIn,
    new_end: int,
    deadline: int,
    licensor_sig: str,
    licensee_sig: str,
) -> Relayed:
    licensor, licensee = _parties(services, licence_id)
    _, _, parsed, digest = _amend_digest(services, licence_id, schedule, new_end, deadline)
    first = _check_signature(services, "licensor", licensor, digest, licensor_sig)
    second = _check_signature(services, "licensee", licensee, digest, licensee_sig)
    fn = services.chain.registry.contract.functions.amend(licence_id, parsed.as_abi(), new_end, deadline, first, second)
    tx_hash, block, _ = _send(services, fn)
    return Relayed(tx_hash=tx_hash, block_number=block, licence_id=licence_id)


def draft_terminate(services: Services, licence_id: int, deadline: int | None) -> Draft:
    _parties(services, licence_id)
    deadline = _deadline(services, deadline)
    domain = services.chain.registry.domain()
    digest = domain.digest(terminate_struct_hash(licence_id, deadline))
    return Draft(
        typed_data=typed_data_terminate(domain, licence_id, deadline), digest="0x" + digest.hex(), deadline=deadline
    )


def submit_terminate(
    services: Services, licence_id: int, deadline: int, licensor_sig: str, licensee_sig: str
) -> Relayed:
    licensor, licensee = _parties(services, licence_id)
    digest = services.chain.registry.domain().digest(terminate_struct_hash(licence_id, deadline))
    first = _check_signature(services, "licensor", licensor, digest, licensor_sig)
    second = _check_signature(services, "licensee", licensee, digest, licensee_sig)
    fn = services.chain.registry.contract.functions.terminateByConsent(licence_id, deadline, first, second)
    tx_hash, block, _ = _send(services, fn)
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


def draft_dispute(services: Services, session: Session, settlement_id: int, party: str, deadline: int | None) -> Draft:
    _dispute_party(session, settlement_id, party)
    deadline = _deadline(services, deadline)
    domain = services.chain.ledger.domain()
    digest = domain.digest(dispute_struct_hash(settlement_id, party, deadline))
    return Draft(
        typed_data=typed_data_dispute(domain, settlement_id, party, deadline),
        digest="0x" + digest.hex(),
        deadline=deadline,
    )


def submit_dispute(
    services: Services, session: Session, settlement_id: int, party: str, deadline: int, signature: str
) -> Relayed:
    role = _dispute_party(session, settlement_id, party)
    digest = services.chain.ledger.domain().digest(dispute_struct_hash(settlement_id, party, deadline))
    raw = _check_signature(services, role, party, digest, signature, field="signature")
    fn = services.chain.ledger.contract.functions.disputeFor(settlement_id, party, deadline, raw)
    tx_hash, block, _ = _send(services, fn)
    return Relayed(tx_hash=tx_hash, block_number=block, settlement_id=settlement_id)


def _resolve_digest(services: Services, settlement_id: int, final_amount: int, deadline: int) -> tuple[Domain, bytes]:
    domain = services.chain.ledger.domain()
    return domain, domain.digest(resolve_struct_hash(settlement_id, final_amount, deadline))


def _settlement_parties(services: Services, session: Session, settlement_id: int) -> tuple[str, str]:
    settlement = session.get(SettlementRow, settlement_id)
    if settlement is None:
        raise NotFound(f"settlement {settlement_id} is not known (or not indexed yet)")
    return _parties(services, settlement.licence_id)


def draft_resolution(
    services: Services, session: Session, settlement_id: int, final_amount: int, deadline: int | None
) -> Draft:
    _settlement_parties(services, session, settlement_id)
    deadline = _deadline(services, deadline)
    domain, digest = _resolve_digest(services, settlement_id, final_amount, deadline)
    return Draft(
        typed_data=typed_data_resolve(domain, settlement_id, final_amount, deadline),
        digest="0x" + digest.hex(),
        deadline=deadline,
    )


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
    licensor, licensee = _settlement_parties(services, session, settlement_id)
    _, digest = _resolve_digest(services, settlement_id, final_amount, deadline)
    first = _check_signature(services, "licensor", licensor, digest, licensor_sig)
    second = _check_signature(services, "licensee", licensee, digest, licensee_sig)
    fn = services.chain.ledger.contract.functions.resolveDisputeByParties(
        settlement_id, final_amount, deadline, first, second
    )
    tx_hash, block, _ = _send(services, fn)
    return Relayed(tx_hash=tx_hash, block_number=block, settlement_id=settlement_id)
