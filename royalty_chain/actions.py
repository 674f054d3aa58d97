"""Signing and relaying the actions parties and oracles take, over the typed clients.

Each party signs with its own key (here an eth-account LocalAccount: a keystore or a development
key); whoever relays only submits the signatures. The helpers check the locally built digest
against the contract's own digest view before anything is signed, so a client whose encoding
drifted from the contract's fails loudly instead of producing useless signatures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eth_account.signers.local import LocalAccount

from royalty_chain import eip712
from royalty_chain.client import Chain, ChainError
from royalty_chain.eip712 import sign_digest
from royalty_chain.escalation import Clause, IndexStep
from royalty_chain.terms import Report, Terms


class DigestMismatch(ChainError):
    """The digest built here differs from the contract's: the encodings disagree."""


def consent_digest(chain: Chain, terms: Terms, deadline: int) -> bytes:
    digest = eip712.register_digest(chain.registry.domain(), terms, deadline)
    on_chain = chain.registry.register_digest(terms, deadline)
    if on_chain != digest:
        raise DigestMismatch(f"register digest {digest.hex()} != contract's {on_chain.hex()}")
    return digest


def register_licence(
    chain: Chain,
    terms: Terms,
    licensor: LocalAccount,
    licensee: LocalAccount,
    relayer: LocalAccount,
    deadline: int,
) -> int:
    """Both parties sign the terms; the relayer submits them. Returns the new licence id."""
    digest = consent_digest(chain, terms, deadline)
    receipt = chain.registry.register(
        terms, deadline, sign_digest(digest, licensor.key), sign_digest(digest, licensee.key), relayer
    )
    return chain.registry.licence_id_of(receipt)


def report_digest(chain: Chain, report: Report) -> bytes:
    return eip712.report_digest(chain.registry.domain(), report)


def sign_report(digest: bytes, oracles: Sequence[LocalAccount]) -> list[bytes]:
    """Signatures of the given oracles, ordered by address as the ledger requires."""
    ordered = sorted(oracles, key=lambda account: int(account.address, 16))
    return [sign_digest(digest, account.key) for account in ordered]


def attach_digest(chain: Chain, licence_id: int, clause: Clause, deadline: int) -> bytes:
    """The AttachEscalation digest both parties sign, checked against the escalator's view."""
    digest = eip712.ATTACH_ESCALATION.digest(chain.escalator.domain(), clause.message(licence_id, deadline))
    on_chain = chain.escalator.attach_digest(licence_id, clause, deadline)
    if on_chain != digest:
        raise DigestMismatch(f"escalation clause digest {digest.hex()} != contract's {on_chain.hex()}")
    return digest


def attach_escalation(
    chain: Chain,
    licence_id: int,
    clause: Clause,
    licensor: LocalAccount,
    licensee: LocalAccount,
    relayer: LocalAccount,
    deadline: int,
) -> None:
    """Both parties sign the escalation clause; the relayer attaches it."""
    digest = attach_digest(chain, licence_id, clause, deadline)
    chain.escalator.attach(
        licence_id, clause, deadline, sign_digest(digest, licensor.key), sign_digest(digest, licensee.key), relayer
    )


def fixed_rates_digest(
    chain: Chain, licence_id: int, version: int, effective_from: int, rates: Mapping[str, int], deadline: int
) -> bytes:
    """The AgreeFixedRates digest both parties sign, checked against LicenceFx's view."""
    message = eip712.fixed_rates_message(licence_id, version, effective_from, rates, deadline)
    digest = eip712.AGREE_FIXED_RATES.digest(chain.fx.domain(), message)
    on_chain = chain.fx.agree_digest(licence_id, version, effective_from, rates, deadline)
    if on_chain != digest:
        raise DigestMismatch(f"fixed rates digest {digest.hex()} != contract's {on_chain.hex()}")
    return digest


def agree_fixed_rates(
    chain: Chain,
    licence_id: int,
    effective_from: int,
    rates: Mapping[str, int],
    licensor: LocalAccount,
    licensee: LocalAccount,
    relayer: LocalAccount,
    deadline: int,
) -> int:
    """Both parties sign the licence's next table of fixed rates; the relayer records it. Returns its version."""
    version = chain.fx.table_count(licence_id)
    digest = fixed_rates_digest(chain, licence_id, version, effective_from, rates, deadline)
    chain.fx.agree(
        licence_id, effective_from, rates, deadline,
        sign_digest(digest, licensor.key), sign_digest(digest, licensee.key), relayer,
    )  # fmt: skip
    return version


def step_digest(chain: Chain, values: IndexStep) -> bytes:
    """The IndexStep digest the licence's oracles sign, checked against the escalator's view."""
    digest = eip712.INDEX_STEP.digest(chain.escalator.domain(), values.message())
    on_chain = chain.escalator.step_digest(values)
    if on_chain != digest:
        raise DigestMismatch(f"index step digest {digest.hex()} != contract's {on_chain.hex()}")
    return digest
