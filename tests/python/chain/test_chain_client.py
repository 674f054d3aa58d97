"""The typed clients against real chains: digests match the contracts, actions land exactly."""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from royalty_chain.actions import register_licence, report_digest, sign_report
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import channel_index, encode_scope, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Bucket, Calendar, Payee, Report, Schedule, Term, Terms

USDX = 10**6


def _terms(chain: Chain, start: int, **overrides: object) -> Terms:
    values: dict[str, object] = dict(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x01" * 32,
        asset_ids=(7,),
        scope=encode_scope(["US", "GB"], ["apparel"], ["retail", "online"]),
        term=Term(start=start, end=start + 365 * DAY, sell_off_days=180, period_seconds=30 * DAY),
        token=chain.manifest.token("USDX").address,
        schedule=Schedule(rate_bps=800),
        payees=(Payee(role("licensor_brand").address, 6000), Payee(role("co_owner").address, 4000)),
        oracles=(role("oracle1").address, role("oracle2").address),
        threshold=1,
        arbiter=role("arbiter").address,
        salt=time.time_ns().to_bytes(32, "big"),
    )
    values.update(overrides)
    return Terms(**values)  # type: ignore[arg-type]


def _latest_timestamp(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


@pytest.mark.parametrize("chain_name", ["chain", "ganache_chain"])
def test_register_settle_withdraw(chain_name: str, request: pytest.FixtureRequest) -> None:
    chain: Chain = request.getfixturevalue(chain_name)
    now = _latest_timestamp(chain)
    start = now - 31 * DAY  # period 0 has already ended
    terms = _terms(chain, start)
    licence_id = register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )
    token = chain.token(terms.token)
    licensee = role("licensee_apparel")
    token.mint(licensee.address, 1_000 * USDX, licensee)
    token.approve(chain.ledger.address, 1_000 * USDX, licensee)
    chain.ledger.deposit(licence_id, 1_000 * USDX, licensee)

    report = Report(
        licence_id=licence_id,
        period=0,
        sequence=1,
        deadline=now + DAY,
        lines_root=b"\x05" * 32,
        line_count=3,
        buckets=(
            Bucket(0, territory_index("GB"), field_index("apparel"), channel_index("online"), 3, 1_234_567_891, 0),
        ),
    )
    digest = report_digest(chain, report)
    assert chain.typed_data.report_digest(report) == digest
    receipt = chain.transact(
        chain.ledger.settle_fn([report], [sign_report(digest, [role("oracle2")])]), role("oracle_sender")
    )
    (settled,) = [e for e in chain.receipt_events(receipt) if e.name == "Settled"]
    assert settled.args["royalty"] == 98_765_431  # floor(1,234,567,891 * 800 / 10,000)
    # Two payees: the first by address gets floor(98,765,431 * its share / 10,000), the other the rest.
    brand, co_owner = role("licensor_brand").address, role("co_owner").address
    first, second = sorted([(brand, 6000), (co_owner, 4000)], key=lambda p: int(p[0], 16))
    first_part = 98_765_431 * first[1] // 10_000
    assert chain.ledger.claimable(licence_id, first[0]) == first_part
    assert chain.ledger.claimable(licence_id, second[0]) == 98_765_431 - first_part
    assert chain.ledger.escrow_of(licence_id) == 1_000 * USDX - 98_765_431

    with pytest.raises(ContractRevert) as refused:
        chain.transact(
            chain.ledger.settle_fn([report], [sign_report(digest, [role("oracle2")])]), role("oracle_sender")
        )
    assert refused.value.error == "PeriodAlreadySettled"
    assert refused.value.args[:2] == (licence_id, 0)


def test_unknown_oracle_is_refused_with_its_address(chain: Chain) -> None:
    now = _latest_timestamp(chain)
    terms = _terms(chain, now - 31 * DAY)
    licence_id = register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )
    report = Report(licence_id, 0, 1, now + DAY, b"\x00" * 32, 0, ())
    signatures = sign_report(report_digest(chain, report), [role("oracle3")])
    with pytest.raises(ContractRevert) as refused:
        chain.transact(chain.ledger.settle_fn([report], [signatures]), role("oracle_sender"))
    assert refused.value.error == "UnknownSigner"
    assert refused.value.args == (0, role("oracle3").address)


def test_calendar_views_give_the_rule_the_python_mirror_computes(chain: Chain) -> None:
    # Calendar quarters from a start on 2025-02-10 (1739145600), contract years from 1 January,
    # reports due 45 days after a period ends.
    start = 1_739_145_600
    term = Term(start, start + 2 * 365 * DAY, 180, 0, Calendar(period_months=3, year_month=1, year_day=1, due_days=45))
    licence_id = register_licence(
        chain,
        _terms(chain, start, term=term),
        role("licensor_brand"),
        role("licensee_apparel"),
        role("relayer"),
        deadline=_latest_timestamp(chain) + DAY,
    )
    registry = chain.registry
    # Period 0 is 2025-Q1 cut at the start: 2025-02-10..2025-04-01 (1743465600); due 45 days
    # later, 2025-05-16 (1743465600 + 45 * 86400 = 1747353600).
    assert registry.period_bounds(licence_id, 0) == (start, 1_743_465_600, 1_747_353_600)
    # Period 1 is 2025-Q2: 2025-04-01..2025-07-01 (1751328000), due 2025-08-15 (1755216000).
    assert registry.period_bounds(licence_id, 1) == (1_743_465_600, 1_751_328_000, 1_755_216_000)
    assert registry.period_of(licence_id, 1_743_465_600 - 1) == 0  # 2025-03-31 23:59:59
    assert registry.period_of(licence_id, 1_743_465_600) == 1
    # Contract year 0 is 2025 cut at the start, year 1 is 2026 (1767225600..1798761600, 365 days).
    assert registry.contract_year_bounds(licence_id, 0) == (start, 1_767_225_600, 1_771_113_600, 365 * DAY)
    assert registry.contract_year_bounds(licence_id, 1)[:2] == (1_767_225_600, 1_798_761_600)
    assert registry.contract_year_of(licence_id, 1_767_225_600 - 1) == 0
    assert registry.contract_year_of(licence_id, 1_767_225_600) == 1
    rule = term.rule()
    for period in range(8):
        assert registry.period_bounds(licence_id, period) == (*rule.period_bounds(period), rule.period_due_at(period))


@pytest.mark.parametrize("chain_name", ["chain", "ganache_chain"])
def test_distribute_pays_every_payee_then_withdraw_many(chain_name: str, request: pytest.FixtureRequest) -> None:
    chain: Chain = request.getfixturevalue(chain_name)
    now = _latest_timestamp(chain)
    licensee = role("licensee_apparel")
    token = chain.token(chain.manifest.token("USDX").address)
    token.mint(licensee.address, 2_000 * USDX, licensee)
    token.approve(chain.ledger.address, 2_000 * USDX, licensee)
    # Payees of their own, so that no other test's sums of Withdrawn events on the shared chain see them.
    brand, co_owner = Account.create().address, Account.create().address
    licences = []
    for _ in range(2):
        terms = _terms(chain, now - 31 * DAY, payees=(Payee(brand, 6000), Payee(co_owner, 4000)))
        licence_id = register_licence(
            chain, terms, role("licensor_brand"), licensee, role("relayer"), deadline=now + DAY
        )
        chain.ledger.deposit(licence_id, 1_000 * USDX, licensee)
        report = Report(
            licence_id=licence_id,
            period=0,
            sequence=1,
            deadline=now + DAY,
            lines_root=b"\x05" * 32,
            line_count=1,
            buckets=(Bucket(0, territory_index("GB"), field_index("apparel"), channel_index("online"), 1, 10**9, 0),),
        )
        chain.transact(
            chain.ledger.settle_fn([report], [sign_report(report_digest(chain, report), [role("oracle2")])]),
            role("oracle_sender"),
        )
        licences.append(licence_id)
    # 8% of 1,000 USDX = 80 USDX per licence: 60% and 40% (no tax).
    first, second = licences
    before = {a: token.balance_of(a) for a in (brand, co_owner)}
    receipt = chain.ledger.distribute(first, role("relayer"))
    (distributed,) = [e for e in chain.receipt_events(receipt) if e.name == "Distributed"]
    assert (distributed.args["fromTotal"], distributed.args["toTotal"]) == (0, 80 * USDX)
    assert (distributed.args["paid"], distributed.args["unpaid"]) == (80 * USDX, 0)
    # Each payee's amount in the list's order (ascending by address), no Withdrawn per payee.
    in_order = sorted((brand, co_owner), key=lambda account: int(account, 16))
    assert dict(zip(in_order, distributed.args["paidEach"], strict=True)) == {brand: 48 * USDX, co_owner: 32 * USDX}
    assert not [e for e in chain.receipt_events(receipt) if e.name == "Withdrawn"]
    assert chain.ledger.payout_of(first)[:3] == (80 * USDX, 2, True)
    assert chain.ledger.claimable(first, brand) == 0

    # The brand's second licence and nothing more from the first: one claim, one transfer.
    receipt = chain.ledger.withdraw_many([first, second], brand, role("relayer"))
    assert [e.args["licenceId"] for e in chain.receipt_events(receipt) if e.name == "Withdrawn"] == [second]
    assert token.balance_of(brand) == before[brand] + 96 * USDX
    assert token.balance_of(co_owner) == before[co_owner] + 32 * USDX
    assert chain.ledger.claimable(second, co_owner) == 32 * USDX
