"""EIP-712 from one table per type: every derived type hash is the contract's constant, every
digest is eth_account's and the contract's, and the domain is the one the contract reports."""

from __future__ import annotations

from dataclasses import fields

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from royalty_chain import eip712
from royalty_chain.client import Chain
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import Domain
from royalty_chain.terms import (
    DAY,
    Bucket,
    Calendar,
    Conversion,
    FieldRate,
    Payee,
    Report,
    Schedule,
    Term,
    Terms,
    Tier,
)

REGISTRY_TYPES = ("REGISTER", "AMEND", "TERMINATE")
TYPED_DATA_TYPES = ("REGISTER", "AMEND", "BUCKET", "CONVERSION", "REPORT")  # LicenceTypedData's constants
LEDGER_TYPES = ("DISPUTE", "RESOLVE")
ESCALATOR_TYPES = ("ATTACH", "STEP")
REVIEWS_TYPES = ("ATTACH_REVIEW", "EVIDENCE", "DECLINE")
FX_TYPES = ("FIXED_RATE", "AGREE")  # LicenceFx's constants


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


def _library_digest(typed_data: dict) -> bytes:
    signable = encode_typed_data(full_message=typed_data)
    return keccak(b"\x19\x01" + signable.header + signable.body)


def _terms() -> Terms:
    """Terms with every member set to something other than its default, two payees and oracles."""
    payees = sorted([role("licensor_brand").address, role("co_inventor").address], key=lambda a: int(a, 16))
    return Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x01" * 32,
        asset_ids=(7, 2**200 + 9),
        scope=encode_scope(["US", "GB", "ZW"], ["apparel"], ["retail", "online"]),
        term=Term(
            start=1_767_225_600,
            end=1_767_225_600 + 365 * DAY,
            sell_off_days=90,
            period_seconds=0,
            calendar=Calendar(
                period_months=3,
                year_month=4,
                year_day=6,
                due_days=45,
                interest_bps=800,
                reserve_bps=1_000,
                reserve_periods=2,
                audit_threshold_bps=500,
                fx_rule=1,
                fx_source="ECB",
            ),
        ),
        token=role("deployer").address,
        advance=2**90 + 1,
        schedule=Schedule(rate_bps=800, per_unit=5, minimum_guarantee=10**15, tiers=(Tier(0, 800), Tier(10**9, 900))),
        payees=(Payee(payees[0], 6_000), Payee(payees[1], 4_000)),
        tax_bps=1_500,
        tax_account=role("tax_authority").address,
        oracles=tuple(sorted([role("oracle1").address, role("oracle2").address], key=lambda a: int(a, 16))),
        threshold=2,
        dispute_window=7 * DAY,
        arbiter=role("arbiter").address,
        cure_period=14 * DAY,
        salt=b"\x02" * 32,
    )


def _report(buckets: int, conversions: int = 0) -> Report:
    return Report(
        licence_id=12,
        period=3,
        sequence=4,
        deadline=2**40,
        lines_root=b"\x09" * 32,
        line_count=17,
        # Contract years 0 and 1: the digest covers each bucket's year (it once left it out).
        buckets=tuple(Bucket(i // 2, i, i + 1, i + 2, 10 + i, 2**100 + i, i * 7) for i in range(buckets)),
        # Every member distinct and above one byte where it can be, so a swapped or dropped member shows.
        fx=tuple(
            Conversion(i, ("EUR", "JPY", "KWD")[i % 3], i % 5, 1_767_225_600 + i * DAY, 10**18 + i, 2**90 + i, 3 * i)
            for i in range(conversions)
        ),
    )


def test_type_strings_are_the_contracts() -> None:
    assert eip712.TERMINATE.type_string == "TerminateLicence(uint256 licenceId,uint64 deadline)"
    assert eip712.SALES_REPORT.type_string == (
        "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,"
        "uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost,"
        "Conversion[] fx)"
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,"
        "uint128 deductions)"
        "Conversion(uint16 bucket,bytes3 currency,uint8 minorUnits,uint64 rateDay,uint128 rate,uint128 gross,"
        "uint128 deductions)"
    )
    assert eip712.SALES_REPORT.json_types()["Bucket"][0] == {"name": "year", "type": "uint16"}
    assert eip712.SALES_REPORT.json_types()["Bucket"][4] == {"name": "units", "type": "uint128"}
    assert eip712.SALES_REPORT.json_types()["Conversion"][1] == {"name": "currency", "type": "bytes3"}
    assert eip712.CALENDAR.type_string == CALENDAR_TYPE


def test_every_typehash_equals_the_contracts_constant(chain: Chain) -> None:
    for name in REGISTRY_TYPES:
        assert eip712.TYPES[name].typehash == chain.registry.typehash(name), name
    for name in TYPED_DATA_TYPES:
        assert eip712.TYPES[name].typehash == chain.typed_data.typehash(name), name
    for name in LEDGER_TYPES:
        assert eip712.TYPES[name].typehash == chain.ledger.typehash(name), name
    for name in ESCALATOR_TYPES:
        assert eip712.TYPES[name].typehash == chain.escalator.typehash(name), name
    for name in REVIEWS_TYPES:
        assert eip712.TYPES[name].typehash == chain.reviews.typehash(name), name
    for name in FX_TYPES:
        assert eip712.TYPES[name].typehash == chain.fx.typehash(name), name
    assert set(eip712.TYPES) == {
        *REGISTRY_TYPES,
        *TYPED_DATA_TYPES,
        *LEDGER_TYPES,
        *ESCALATOR_TYPES,
        *REVIEWS_TYPES,
        *FX_TYPES,
    }
    # The consent types' parts are LicenceTypedData's too (the calendar with its conversion clause).
    for name, part in eip712.PARTS.items():
        assert part.typehash == chain.typed_data.typehash(name), name
    assert chain.typed_data.registry() == chain.registry.address
    assert chain.registry.typed_data_address() == chain.typed_data.address


def test_domain_is_read_from_erc5267(chain: Chain) -> None:
    clients = (
        (chain.registry, "LicenceRegistry"),
        (chain.ledger, "RoyaltyLedger"),
        (chain.escalator, "LicenceEscalator"),
        (chain.reviews, "LicenceReviews"),
    )
    for client, name in clients:
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


CALENDAR_TYPE = (
    "Calendar(uint8 periodMonths,bool anniversary,uint8 yearMonth,uint8 yearDay,uint16 dueDays,"
    "uint16 interestBps,uint16 reserveBps,uint8 reservePeriods,uint16 auditThresholdBps,uint8 fxRule,"
    "bytes16 fxSource)"
)
FIELD_RATE_TYPE = "FieldRate(uint8 field,uint16 rateBps)"
TIER_TYPE = "Tier(uint128 threshold,uint16 rateBps)"
SCHEDULE_TYPE_STRING = (
    "Schedule(uint64 effectiveFrom,uint128 fixedFeePerPeriod,uint16 rateBps,uint128 perUnit,"
    "uint128 minimumGuarantee,Tier[] tiers,FieldRate[] fieldRates)"
)
TERM_TYPE_STRING = "Term(uint64 start,uint64 end,uint32 sellOffDays,uint32 periodSeconds,Calendar calendar)"


def _hash_schedule(schedule: Schedule) -> bytes:
    """hashStruct(Schedule) written out from EIP-712's rules, apart from the library."""
    tiers = b"".join(keccak(keccak(text=TIER_TYPE) + _word(t.threshold) + _word(t.rate_bps)) for t in schedule.tiers)
    fields = b"".join(
        keccak(keccak(text=FIELD_RATE_TYPE) + _word(f.field) + _word(f.rate_bps)) for f in schedule.field_rates
    )
    return keccak(
        keccak(text=SCHEDULE_TYPE_STRING + FIELD_RATE_TYPE + TIER_TYPE)
        + _word(schedule.effective_from)
        + _word(schedule.fixed_fee_per_period)
        + _word(schedule.rate_bps)
        + _word(schedule.per_unit)
        + _word(schedule.minimum_guarantee)
        + keccak(tiers)
        + keccak(fields)
    )


def _hash_register(terms: Terms, deadline: int) -> bytes:
    """hashStruct(RegisterLicence) by hand: every member of the terms, nested structs hashed."""
    c, term, scope = terms.term.calendar, terms.term, terms.scope
    calendar = keccak(
        keccak(text=CALENDAR_TYPE)
        + b"".join(
            _word(int(v))
            for v in (
                c.period_months,
                c.anniversary,
                c.year_month,
                c.year_day,
                c.due_days,
                c.interest_bps,
                c.reserve_bps,
                c.reserve_periods,
                c.audit_threshold_bps,
                c.fx_rule,
            )
        )
        # bytes16: the source's ASCII bytes, right-padded with zeros to a word
        + c.fx_source.encode("ascii").ljust(32, b"\x00")
    )
    term_hash = keccak(
        keccak(text=TERM_TYPE_STRING + CALENDAR_TYPE)
        + _word(term.start)
        + _word(term.end)
        + _word(term.sell_off_days)
        + _word(term.period_seconds)
        + calendar
    )
    scope_hash = keccak(
        keccak(text="Scope(uint256 territories,uint64 fields,uint32 channels)")
        + _word(scope.territories)
        + _word(scope.fields)
        + _word(scope.channels)
    )
    payees = b"".join(
        keccak(keccak(text="Payee(address account,uint16 shareBps)") + _address(p.account) + _word(p.share_bps))
        for p in terms.payees
    )
    type_string = (
        "RegisterLicence(address licensor,address licensee,bytes32 legalTextHash,uint256[] assetIds,"
        "Scope scope,Term term,address token,uint128 advance,Schedule schedule,Payee[] payees,"
        "uint16 taxBps,address taxAccount,address[] oracles,uint8 threshold,uint32 disputeWindow,"
        "address arbiter,uint32 curePeriod,bytes32 salt,uint64 deadline)"
        + CALENDAR_TYPE
        + FIELD_RATE_TYPE
        + "Payee(address account,uint16 shareBps)"
        + SCHEDULE_TYPE_STRING
        + "Scope(uint256 territories,uint64 fields,uint32 channels)"
        + TERM_TYPE_STRING
        + TIER_TYPE
    )
    return keccak(
        keccak(text=type_string)
        + _address(terms.licensor)
        + _address(terms.licensee)
        + terms.legal_text_hash
        + keccak(b"".join(_word(a) for a in terms.asset_ids))
        + scope_hash
        + term_hash
        + _address(terms.token)
        + _word(terms.advance)
        + _hash_schedule(terms.schedule)
        + keccak(payees)
        + _word(terms.tax_bps)
        + _address(terms.tax_account)
        + keccak(b"".join(_address(o) for o in terms.oracles))
        + _word(terms.threshold)
        + _word(terms.dispute_window)
        + _address(terms.arbiter)
        + _word(terms.cure_period)
        + terms.salt
        + _word(deadline)
    )


def test_consent_digests_equal_the_library_and_an_independent_encoding(chain: Chain) -> None:
    """Each rare action's digest is eth_account's, and equals hashStruct written out by hand from
    the contract's own type hash (the encoding the contracts use)."""
    registry, ledger = chain.registry.domain(), chain.ledger.domain()
    terms, party = _terms(), role("licensee_apparel")
    schedule = Schedule(
        effective_from=1_800_000_000,
        fixed_fee_per_period=2**100,
        rate_bps=700,
        per_unit=3,
        minimum_guarantee=10**12,
        tiers=(Tier(0, 700), Tier(10**9, 900)),
        field_rates=(FieldRate(1, 450),),
    )
    amend_type = (
        "AmendLicence(uint256 licenceId,uint32 version,Schedule schedule,uint64 newEnd,uint64 deadline)"
        + FIELD_RATE_TYPE
        + SCHEDULE_TYPE_STRING
        + TIER_TYPE
    )
    assert keccak(text=amend_type) == chain.registry.typehash("AMEND")
    cases = [
        (
            eip712.register_digest(registry, terms, 99),
            eip712.typed_data_register(registry, terms, 99),
            registry,
            _hash_register(terms, 99),
        ),
        (
            eip712.amend_digest(registry, 5, 2, schedule, 1_900_000_000, 99),
            eip712.typed_data_amend(registry, 5, 2, schedule, 1_900_000_000, 99),
            registry,
            keccak(
                keccak(text=amend_type)
                + _word(5)
                + _word(2)
                + _hash_schedule(schedule)
                + _word(1_900_000_000)
                + _word(99)
            ),
        ),
        (
            eip712.terminate_digest(registry, 5, 99),
            eip712.typed_data_terminate(registry, 5, 99),
            registry,
            keccak(chain.registry.typehash("TERMINATE") + _word(5) + _word(99)),
        ),
        (
            eip712.dispute_digest(ledger, 8, party.address, 99),
            eip712.typed_data_dispute(ledger, 8, party.address, 99),
            ledger,
            keccak(chain.ledger.typehash("DISPUTE") + _word(8) + _address(party.address) + _word(99)),
        ),
        (
            eip712.resolve_digest(ledger, 8, 2**127, 99),
            eip712.typed_data_resolve(ledger, 8, 2**127, 99),
            ledger,
            keccak(chain.ledger.typehash("RESOLVE") + _word(8) + _word(2**127) + _word(99)),
        ),
    ]
    for digest, typed_data, domain, struct_hash in cases:
        assert digest == _library_digest(typed_data), typed_data["primaryType"]
        assert digest == keccak(b"\x19\x01" + domain.separator + struct_hash), typed_data["primaryType"]
    # And the registry's own digest view agrees for the one it exposes.
    assert chain.registry.register_digest(terms, 99) == cases[0][0]


@pytest.mark.parametrize(("buckets", "conversions"), [(0, 0), (1, 0), (3, 0), (1, 1), (3, 3)])
def test_hand_written_report_hash_equals_the_library_and_the_contract(
    chain: Chain, buckets: int, conversions: int
) -> None:
    domain = chain.registry.domain()
    report = _report(buckets, conversions)
    hand = eip712.report_digest(domain, report)
    assert hand == eip712.SALES_REPORT.digest(domain, eip712.report_message(report))
    assert hand == _library_digest(eip712.SALES_REPORT.typed_data(domain, eip712.report_message(report)))
    assert hand == chain.typed_data.report_digest(report)


def _hash_report(report: Report) -> bytes:
    """hashStruct(SalesReport) written out from EIP-712's rules, apart from the module's encoder."""
    bucket_type = (
        "Bucket(uint16 year,uint8 territory,uint8 field,uint8 channel,uint128 units,uint128 gross,uint128 deductions)"
    )
    conversion_type = (
        "Conversion(uint16 bucket,bytes3 currency,uint8 minorUnits,uint64 rateDay,uint128 rate,uint128 gross,"
        "uint128 deductions)"
    )
    report_type = (
        "SalesReport(uint256 licenceId,uint32 period,uint64 sequence,uint64 deadline,bytes32 linesRoot,"
        "uint32 lineCount,Bucket[] buckets,Bucket[] returned,uint256 corrects,bool audit,uint128 auditCost,"
        "Conversion[] fx)" + bucket_type + conversion_type
    )

    def buckets(items: tuple[Bucket, ...]) -> bytes:
        return keccak(
            b"".join(keccak(keccak(text=bucket_type) + b"".join(_word(v) for v in b.as_abi())) for b in items)
        )

    conversions = b"".join(
        keccak(
            keccak(text=conversion_type)
            + _word(c.bucket)
            + c.currency.encode("ascii") + bytes(29)  # bytes3, right-padded
            + b"".join(_word(v) for v in (c.minor_units, c.rate_day, c.rate, c.gross, c.deductions))
        )
        for c in report.fx
    )  # fmt: skip
    return keccak(
        keccak(text=report_type)
        + _word(report.licence_id)
        + _word(report.period)
        + _word(report.sequence)
        + _word(report.deadline)
        + report.lines_root
        + _word(report.line_count)
        + buckets(report.buckets)
        + buckets(report.returned)
        + _word(report.corrects)
        + _word(int(report.audit))
        + _word(report.audit_cost)
        + keccak(conversions)
    )


def test_a_report_digest_binds_every_member_of_each_conversion(chain: Chain) -> None:
    """The conversions are signed: the digest is the hand encoding of EIP-712 (one Conversion
    hashed per entry, its bytes3 currency right-padded) and changes with any single member of a
    conversion, their order, or an added one; a report without conversions hashes the empty list."""
    from dataclasses import replace

    domain = chain.registry.domain()
    report = _report(2, 2)
    assert eip712.report_struct_hash(report) == _hash_report(report)
    assert eip712.report_struct_hash(_report(2)) == _hash_report(_report(2))
    base = eip712.report_digest(domain, report)
    seen = {base, eip712.report_digest(domain, replace(report, fx=())), eip712.report_digest(domain, _report(2, 3))}
    assert len(seen) == 3
    first = report.fx[0]
    changes = {
        "bucket": 7, "currency": "USD", "minorUnits": 3, "rateDay": first.rate_day + DAY, "rate": first.rate + 1,
        "gross": first.gross + 1, "deductions": first.deductions + 1,
    }  # fmt: skip
    attributes = dict(zip(changes, (f.name for f in fields(Conversion)), strict=True))
    for member, value in changes.items():
        changed = replace(report, fx=(replace(first, **{attributes[member]: value}), report.fx[1]))
        digest = eip712.report_digest(domain, changed)
        assert digest not in seen, member
        assert digest == chain.typed_data.report_digest(changed), member
        seen.add(digest)
    assert eip712.report_digest(domain, replace(report, fx=report.fx[::-1])) not in seen


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


_TERMS_CHANGES = {
    "licensor": {"licensor": role("licensor_patent").address},
    "licensee": {"licensee": role("licensee_devices").address},
    "legalTextHash": {"legal_text_hash": b"\x03" * 32},
    "assetIds": {"asset_ids": (7, 9)},
    "scope": {"scope": encode_scope(["US", "GB"], ["apparel"], ["retail", "online"])},
    "term": {"term": Term(start=1_767_225_600, end=1_767_225_600 + 366 * DAY, sell_off_days=90, period_seconds=0)},
    "token": {"token": role("relayer").address},
    "advance": {"advance": 2**90},
    "schedule": {"schedule": Schedule(rate_bps=801, per_unit=5, minimum_guarantee=10**15)},
    "payees": {"payees": (Payee(role("co_inventor").address, 10_000),)},
    "taxBps": {"tax_bps": 1_501},
    "taxAccount": {"tax_account": role("arbiter").address},
    "oracles": {"oracles": (role("oracle3").address,)},
    "threshold": {"threshold": 1},
    "disputeWindow": {"dispute_window": 0},
    "arbiter": {"arbiter": role("tax_authority").address},
    "curePeriod": {"cure_period": 15 * DAY},
    "salt": {"salt": b"\x04" * 32},
}


def test_a_wallet_is_shown_every_member_of_the_terms_and_each_one_is_bound(chain: Chain) -> None:
    """Nobody signs blind: the RegisterLicence message a wallet renders has one entry per member
    of ILicenceRegistry.Terms (and the deadline), with values, not a hash of them; changing any
    single member changes the digest the registry checks, and the library's digest follows."""
    from dataclasses import replace

    domain, terms = chain.registry.domain(), _terms()
    typed = eip712.typed_data_register(domain, terms, 99)
    members = [name for _, name in eip712.REGISTER.fields]
    assert list(typed["message"]) == members == [*_TERMS_CHANGES, "deadline"]
    assert typed["message"]["payees"] == [{"account": p.account, "shareBps": p.share_bps} for p in terms.payees]
    assert typed["message"]["term"]["calendar"]["dueDays"] == 45
    # The conversion clause is shown as signed: the rule's number and the source's bytes16.
    assert typed["message"]["term"]["calendar"]["fxRule"] == 1
    assert typed["message"]["term"]["calendar"]["fxSource"] == "0x" + b"ECB".hex() + "00" * 13
    assert typed["message"]["schedule"]["tiers"] == [
        {"threshold": 0, "rateBps": 800},
        {"threshold": 10**9, "rateBps": 900},
    ]
    # Above 2^53 - 1 a number is decimal text, exact for a JavaScript wallet.
    assert typed["message"]["advance"] == str(2**90 + 1)
    assert typed["message"]["assetIds"] == [7, str(2**200 + 9)]
    assert set(typed["types"]) == {
        "EIP712Domain",
        "RegisterLicence",
        "Scope",
        "Term",
        "Calendar",
        "Schedule",
        "Tier",
        "FieldRate",
        "Payee",
    }
    base = chain.registry.register_digest(terms, 99)
    assert base == _library_digest(typed)
    seen = {base}
    for member, change in _TERMS_CHANGES.items():
        changed = replace(terms, **change)
        digest = chain.registry.register_digest(changed, 99)
        assert digest not in seen, member
        assert digest == eip712.register_digest(domain, changed, 99), member
        seen.add(digest)
    assert chain.registry.register_digest(terms, 100) not in seen
    # The conversion clause alone: its rule, its source, and none at all are each signed apart.
    calendar = terms.term.calendar
    for clause in ({"fx_rule": 2}, {"fx_source": "ECB2"}, {"fx_rule": 0, "fx_source": ""}):
        changed = replace(terms, term=replace(terms.term, calendar=replace(calendar, **clause)))
        digest = chain.registry.register_digest(changed, 99)
        assert digest not in seen, clause
        assert digest == eip712.register_digest(domain, changed, 99), clause
        seen.add(digest)
