"""EIP-712 digests and typed data for every action a party or an oracle signs.

The contracts define the types (``*_TYPEHASH`` constants in LicenceRegistry and RoyaltyLedger).
Digests are computed here by hand (hashStruct = keccak of 32-byte words) because the oracle signs
many reports; ``typed_data_*`` gives the same message as JSON for wallets (eth_signTypedData_v4),
and the tests check both against the contracts' own digest views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from royalty_chain.terms import REPORT_TYPE, SCHEDULE_TYPE, TERMS_TYPE, Report, Schedule, Terms

REGISTER_TYPE = (
    "RegisterLicence(address licensor,address licensee,bytes32 legalTextHash,bytes32 termsHash,uint64 deadline)"
)
AMEND_TYPE = "AmendLicence(uint256 licenceId,uint32 version,bytes32 scheduleHash,uint64 newEnd,uint64 deadline)"
TERMINATE_TYPE = "TerminateLicence(uint256 licenceId,uint64 deadline)"
BUCKET_TYPE_STRING = "Bucket(uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)"
REPORT_TYPE_STRING = (
    "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,"
    "uint32 lineCount,Bucket[] buckets)" + BUCKET_TYPE_STRING
)
DISPUTE_TYPE = "DisputeSettlement(uint256 settlementId,address party,uint64 deadline)"
RESOLVE_TYPE = "ResolveDispute(uint256 settlementId,uint128 finalAmount,uint64 deadline)"

REGISTER_TYPEHASH = keccak(text=REGISTER_TYPE)
AMEND_TYPEHASH = keccak(text=AMEND_TYPE)
TERMINATE_TYPEHASH = keccak(text=TERMINATE_TYPE)
BUCKET_TYPEHASH = keccak(text=BUCKET_TYPE_STRING)
REPORT_TYPEHASH = keccak(text=REPORT_TYPE_STRING)
DISPUTE_TYPEHASH = keccak(text=DISPUTE_TYPE)
RESOLVE_TYPEHASH = keccak(text=RESOLVE_TYPE)

_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


@dataclass(frozen=True, slots=True)
class Domain:
    """An EIP-712 domain: one contract on one chain."""

    name: str
    chain_id: int
    verifying_contract: str
    version: str = "1"

    @property
    def separator(self) -> bytes:
        return keccak(
            _DOMAIN_TYPEHASH
            + keccak(text=self.name)
            + keccak(text=self.version)
            + _word(self.chain_id)
            + _address_word(self.verifying_contract)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def digest(self, struct_hash: bytes) -> bytes:
        return keccak(b"\x19\x01" + self.separator + struct_hash)


def terms_hash(terms: Terms) -> bytes:
    """keccak256(abi.encode(terms)), the value both parties' RegisterLicence signatures bind."""
    return keccak(abi_encode([TERMS_TYPE], [terms.as_abi()]))


def schedule_hash(schedule: Schedule) -> bytes:
    return keccak(abi_encode([SCHEDULE_TYPE], [schedule.as_abi()]))


def register_struct_hash(terms: Terms, deadline: int) -> bytes:
    return keccak(
        REGISTER_TYPEHASH
        + _address_word(terms.licensor)
        + _address_word(terms.licensee)
        + terms.legal_text_hash
        + terms_hash(terms)
        + _word(deadline)
    )


def amend_struct_hash(licence_id: int, version: int, schedule: Schedule, new_end: int, deadline: int) -> bytes:
    return keccak(
        AMEND_TYPEHASH + _word(licence_id) + _word(version) + schedule_hash(schedule) + _word(new_end) + _word(deadline)
    )


def terminate_struct_hash(licence_id: int, deadline: int) -> bytes:
    return keccak(TERMINATE_TYPEHASH + _word(licence_id) + _word(deadline))


def report_struct_hash(report: Report) -> bytes:
    bucket_hashes = b"".join(
        keccak(
            BUCKET_TYPEHASH
            + _word(b.territory)
            + _word(b.field)
            + _word(b.channel)
            + _word(b.units)
            + _word(b.gross)
            + _word(b.deductions)
        )
        for b in report.buckets
    )
    return keccak(
        REPORT_TYPEHASH
        + _word(report.licence_id)
        + _word(report.period)
        + _word(report.sequence)
        + _word(report.deadline)
        + report.lines_root
        + _word(report.line_count)
        + keccak(bucket_hashes)
    )


def dispute_struct_hash(settlement_id: int, party: str, deadline: int) -> bytes:
    return keccak(DISPUTE_TYPEHASH + _word(settlement_id) + _address_word(party) + _word(deadline))


def resolve_struct_hash(settlement_id: int, final_amount: int, deadline: int) -> bytes:
    return keccak(RESOLVE_TYPEHASH + _word(settlement_id) + _word(final_amount) + _word(deadline))


def sign_digest(digest: bytes, private_key: str | bytes) -> bytes:
    """A 65-byte r||s||v signature over an EIP-712 digest (low-s, as the contracts require)."""
    signed = Account.unsafe_sign_hash(digest, private_key)
    return bytes(signed.signature)


def recover_signer(digest: bytes, signature: bytes) -> str:
    return str(Account._recover_hash(digest, signature=signature))


def typed_data_register(domain: Domain, terms: Terms, deadline: int) -> dict[str, Any]:
    """The RegisterLicence message as eth_signTypedData_v4 JSON for a party's wallet."""
    return {
        "types": {
            "EIP712Domain": _domain_fields(),
            "RegisterLicence": [
                {"name": "licensor", "type": "address"},
                {"name": "licensee", "type": "address"},
                {"name": "legalTextHash", "type": "bytes32"},
                {"name": "termsHash", "type": "bytes32"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "RegisterLicence",
        "domain": domain.as_json(),
        "message": {
            "licensor": to_checksum_address(terms.licensor),
            "licensee": to_checksum_address(terms.licensee),
            "legalTextHash": "0x" + terms.legal_text_hash.hex(),
            "termsHash": "0x" + terms_hash(terms).hex(),
            "deadline": deadline,
        },
    }


def typed_data_amend(
    domain: Domain, licence_id: int, version: int, schedule: Schedule, new_end: int, deadline: int
) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _domain_fields(),
            "AmendLicence": [
                {"name": "licenceId", "type": "uint256"},
                {"name": "version", "type": "uint32"},
                {"name": "scheduleHash", "type": "bytes32"},
                {"name": "newEnd", "type": "uint64"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "AmendLicence",
        "domain": domain.as_json(),
        "message": {
            "licenceId": licence_id,
            "version": version,
            "scheduleHash": "0x" + schedule_hash(schedule).hex(),
            "newEnd": new_end,
            "deadline": deadline,
        },
    }


def typed_data_terminate(domain: Domain, licence_id: int, deadline: int) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _domain_fields(),
            "TerminateLicence": [
                {"name": "licenceId", "type": "uint256"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "TerminateLicence",
        "domain": domain.as_json(),
        "message": {"licenceId": licence_id, "deadline": deadline},
    }


def typed_data_dispute(domain: Domain, settlement_id: int, party: str, deadline: int) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": _domain_fields(),
            "DisputeSettlement": [
                {"name": "settlementId", "type": "uint256"},
                {"name": "party", "type": "address"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "DisputeSettlement",
        "domain": domain.as_json(),
        "message": {
            "settlementId": settlement_id,
            "party": to_checksum_address(party),
            "deadline": deadline,
        },
    }


def typed_data_resolve(domain: Domain, settlement_id: int, final_amount: int, deadline: int) -> dict[str, Any]:
    """ResolveDispute: both parties agree the final amount of a disputed settlement."""
    return {
        "types": {
            "EIP712Domain": _domain_fields(),
            "ResolveDispute": [
                {"name": "settlementId", "type": "uint256"},
                {"name": "finalAmount", "type": "uint128"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "ResolveDispute",
        "domain": domain.as_json(),
        "message": {"settlementId": settlement_id, "finalAmount": final_amount, "deadline": deadline},
    }


def _domain_fields() -> list[dict[str, str]]:
    return [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ]


__all__ = [
    "REPORT_TYPE",
    "Domain",
    "amend_struct_hash",
    "dispute_struct_hash",
    "recover_signer",
    "register_struct_hash",
    "report_struct_hash",
    "resolve_struct_hash",
    "schedule_hash",
    "sign_digest",
    "terminate_struct_hash",
    "terms_hash",
    "typed_data_amend",
    "typed_data_dispute",
    "typed_data_register",
    "typed_data_resolve",
    "typed_data_terminate",
]
