"""EIP-712 from one table per type: every derived type hash is the contract's constant, every
digest is eth_account's and the contract's, and the domain is the one the contract reports."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from royalty_chain import eip712
from royalty_chain.client import Chain
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import Domain
from royalty_chain.terms import DAY, SCHEDULE_TYPE, TERMS_TYPE, Bucket, Payee, Report, Schedule, Term, Terms, Tier

REGISTRY_TYPES = ("REGISTER", "AMEND", "TERMINATE", "BUCKET", "REPORT")
LEDGER_TYPES = ("DISPUTE", "RESOLVE")


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


def _library_digest(typed_data: dict) -> bytes:
    signable = encode_typed_data(full_message=typed_data)
    return keccak(b"\x19\x01" + signable.header + signable.body)


def _terms() -> Terms:
    return Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x01" * 32,
        asset_ids=(7, 9),
        scope=encode_scope(["US", "GB"], ["apparel"], ["retail"]),
        term=Term(start=1_767_225_600, end=1_767_225_600 + 365 * DAY, sell_off_days=90, period_seconds=30 * DAY),
        token=role("deployer").address,
        schedule=Schedule(rate_bps=800, tiers=(Tier(10**9, 900),)),
        payees=(Payee(role("licensor_brand").address, 10_000),),
        oracles=(role("oracle1").address,),
        threshold=1,
        arbiter=role("arbiter").address,
        salt=b"\x02" * 32,
    )


def _report(buckets: int) -> Report:
    return Report(
        licence_id=12,
        period=3,
        sequence=4,
        deadline=2**40,
        lines_root=b"\x09" * 32,
        line_count=17,
        # Contract years 0 and 1: the digest covers each bucket's year (it once left it out).
        buckets=tuple(Bucket(i // 2, i, i + 1, i + 2, 10 + i, 2**100 + i, i * 7) for i in range(buckets)),
    )


def test_type_strings_are_the_contracts() -> None:
    assert eip712.TERMINATE.type_string == "TerminateLicence(uint256 licenceId,uint64 deadline)"
    assert eip712.SALES_REPORT.type_string == (
        "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,"
        "uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost)"
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,"
        "uint128 deductions)"
    )
    assert eip712.SALES_REPORT.json_types()["Bucket"][0] == {"name": "year", "type": "uint16"}
    assert eip712.SALES_REPORT.json_types()["Bucket"][4] == {"name": "units", "type": "uint128"}


def test_every_typehash_equals_the_contracts_constant(chain: Chain) -> None:
    for name in REGISTRY_TYPES:
        assert eip712.TYPES[name].typehash == chain.registry.typehash(name), name
    for name in LEDGER_TYPES:
        assert eip712.TYPES[name].typehash == chain.ledger.typehash(name), name
    assert set(eip712.TYPES) == {*REGISTRY_TYPES, *LEDGER_TYPES}


def test_domain_is_read_from_erc5267(chain: Chain) -> None:
    for client, name in ((chain.registry, "LicenceRegistry"), (chain.ledger, "RoyaltyLedger")):
        domain = client.domain()
        assert domain == Domain(name, chain.chain_id, client.address, "1")
        assert domain.separator == client.domain_separator()


def test_erc5267_domains_with_other_fields_are_refused() -> None:
    address = role("deployer").address
    assert Domain.from_erc5267((b"\x0f", "X", "2", 5, address.lower(), b"\x00" * 32, [])) == Domain(
        "X", 5, address, "2"
    )
    with pytest.raises(ValueError, match="unsupported EIP-712 domain fields 0x1f"):
        Domain.from_erc5267((b"\x1f", "X", "1", 5, address, b"\x01" * 32, []))


def test_consent_digests_equal_the_library_and_an_independent_encoding(chain: Chain) -> None:
    """Each rare action's digest is eth_account's, and equals hashStruct written out by hand from
    the contract's own type hash (the encoding the contracts use)."""
    registry, ledger = chain.registry.domain(), chain.ledger.domain()
    terms, schedule, party = _terms(), Schedule(rate_bps=700, effective_from=1_800_000_000), role("licensee_apparel")
    terms_hash = keccak(abi_encode([TERMS_TYPE], [terms.as_abi()]))
    schedule_hash = keccak(abi_encode([SCHEDULE_TYPE], [schedule.as_abi()]))
    cases = [
        (
            eip712.register_digest(registry, terms, 99),
            eip712.typed_data_register(registry, terms, 99),
            registry,
            chain.registry.typehash("REGISTER")
            + _address(terms.licensor)
            + _address(terms.licensee)
            + terms.legal_text_hash
            + terms_hash
            + _word(99),
        ),
        (
            eip712.amend_digest(registry, 5, 2, schedule, 1_900_000_000, 99),
            eip712.typed_data_amend(registry, 5, 2, schedule, 1_900_000_000, 99),
            registry,
            chain.registry.typehash("AMEND") + _word(5) + _word(2) + schedule_hash + _word(1_900_000_000) + _word(99),
        ),
        (
            eip712.terminate_digest(registry, 5, 99),
            eip712.typed_data_terminate(registry, 5, 99),
            registry,
            chain.registry.typehash("TERMINATE") + _word(5) + _word(99),
        ),
        (
            eip712.dispute_digest(ledger, 8, party.address, 99),
            eip712.typed_data_dispute(ledger, 8, party.address, 99),
            ledger,
            chain.ledger.typehash("DISPUTE") + _word(8) + _address(party.address) + _word(99),
        ),
        (
            eip712.resolve_digest(ledger, 8, 2**127, 99),
            eip712.typed_data_resolve(ledger, 8, 2**127, 99),
            ledger,
            chain.ledger.typehash("RESOLVE") + _word(8) + _word(2**127) + _word(99),
        ),
    ]
    for digest, typed_data, domain, encoded in cases:
        assert digest == _library_digest(typed_data), typed_data["primaryType"]
        assert digest == keccak(b"\x19\x01" + domain.separator + keccak(encoded)), typed_data["primaryType"]
    # And the registry's own digest view agrees for the one it exposes.
    assert chain.registry.register_digest(terms, 99) == cases[0][0]


@pytest.mark.parametrize("buckets", [0, 1, 3])
def test_hand_written_report_hash_equals_the_library_and_the_contract(chain: Chain, buckets: int) -> None:
    domain = chain.registry.domain()
    report = _report(buckets)
    hand = eip712.report_digest(domain, report)
    assert hand == eip712.SALES_REPORT.digest(domain, eip712.report_message(report))
    assert hand == _library_digest(eip712.SALES_REPORT.typed_data(domain, eip712.report_message(report)))
    assert hand == chain.registry.report_digest(report)


def test_wallet_json_keeps_its_shape() -> None:
    domain = Domain("RoyaltyLedger", 31337, "0x" + "ab" * 20)
    assert eip712.typed_data_resolve(domain, 3, 40, 50) == {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "ResolveDispute": [
                {"name": "settlementId", "type": "uint256"},
                {"name": "finalAmount", "type": "uint128"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "ResolveDispute",
        "domain": {
            "name": "RoyaltyLedger",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": to_checksum_address("0x" + "ab" * 20),
        },
        "message": {"settlementId": 3, "finalAmount": 40, "deadline": 50},
    }
