"""One complete licence-to-withdrawal flow through ape, and custom errors through ape.reverts."""

from __future__ import annotations

import ape
import pytest

from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import dev_account_of
from royalty_chain.eip712 import Domain, register_digest, report_struct_hash, sign_digest
from royalty_chain.terms import DAY, Bucket, Payee, Report, Schedule, Term, Terms

USDX = 10**6  # one token unit of a 6-decimal stablecoin


def _key(ape_account) -> str:
    return dev_account_of(ape_account.address).key


def _terms(actors, token, scope, start, **overrides) -> Terms:
    values = dict(
        licensor=actors["licensor"].address,
        licensee=actors["licensee"].address,
        legal_text_hash=b"\x11" * 32,
        asset_ids=(1, 2),
        scope=scope,
        term=Term(start=start, end=start + 2 * 365 * DAY, sell_off_days=180, period_seconds=90 * DAY),
        token=token.address,
        schedule=Schedule(rate_bps=500),
        payees=(Payee(actors["licensor"].address, 7000), Payee(actors["co_owner"].address, 3000)),
        oracles=tuple(actors[n].address for n in ("oracle1", "oracle2", "oracle3")),
        threshold=2,
        arbiter=actors["arbiter"].address,
        tax_bps=1000,
        tax_account=actors["tax"].address,
    )
    values.update(overrides)
    return Terms(**values)


def _consent(registry, terms: Terms, deadline: int, actors) -> tuple[bytes, bytes]:
    domain = Domain("LicenceRegistry", ape.chain.chain_id, registry.address)
    digest = register_digest(domain, terms, deadline)
    assert bytes(registry.registerDigest(terms.as_abi(), deadline)) == digest
    return (
        sign_digest(digest, _key(actors["licensor"])),
        sign_digest(digest, _key(actors["licensee"])),
    )


def _signed_report(registry, report: Report, oracles) -> list[bytes]:
    domain = Domain("LicenceRegistry", ape.chain.chain_id, registry.address)
    digest = domain.digest(report_struct_hash(report))
    # The registry's LicenceTypedData computes the digest in the registry's domain.
    typed_data = ape.project.LicenceTypedData.at(registry.typedData())
    assert bytes(typed_data.reportDigest(report.as_abi())) == digest
    ordered = sorted(oracles, key=lambda a: int(a.address, 16))
    return [sign_digest(digest, _key(a)) for a in ordered]


def test_licence_to_withdrawal(deployed, actors, scope):
    registry, ledger, token = deployed
    start = ape.chain.pending_timestamp
    terms = _terms(actors, token, scope, start)
    deadline = start + DAY
    licensor_sig, licensee_sig = _consent(registry, terms, deadline, actors)

    receipt = registry.register(terms.as_abi(), deadline, licensor_sig, licensee_sig, sender=actors["relayer"])
    licence_id = receipt.events.filter(registry.LicenceRegistered)[0].licenceId
    assert registry.status(licence_id) == 1  # Active

    token.mint(actors["licensee"].address, 10_000 * USDX, sender=actors["licensee"])
    token.approve(ledger.address, 10_000 * USDX, sender=actors["licensee"])
    ledger.deposit(licence_id, 10_000 * USDX, sender=actors["licensee"])

    ape.chain.pending_timestamp = start + 90 * DAY + 1
    report = Report(
        licence_id=licence_id,
        period=0,
        sequence=1,
        deadline=start + 120 * DAY,
        lines_root=b"\x22" * 32,
        line_count=42,
        buckets=(
            Bucket(
                0,  # contract year 0: the sales' dates
                territory_index("US"),
                field_index("apparel"),
                channel_index("retail"),
                900,
                120_000 * USDX,
                20_000 * USDX,
            ),
            Bucket(0, territory_index("JP"), field_index("apparel"), channel_index("retail"), 10, 10_000 * USDX, 0),
        ),
    )
    signatures = _signed_report(registry, report, [actors["oracle1"], actors["oracle3"]])
    receipt = ledger.settleReports([report.as_abi()], [signatures], sender=actors["relayer"])

    settled = receipt.events.filter(ledger.Settled)[0]
    assert settled.royalty == 5_000 * USDX  # 5% of 100,000 net; the JP bucket is out of scope
    assert settled.due == 5_000 * USDX and settled.paid == 5_000 * USDX
    assert settled.dueAt == start + 90 * DAY + 30 * DAY  # the period's end plus the default 30 due days
    breach = receipt.events.filter(ledger.ScopeBreached)[0]
    assert breach.territory == territory_index("JP") and breach.gross == 10_000 * USDX
    released = receipt.events.filter(ledger.Released)[0]
    assert released.tax == 500 * USDX

    assert ledger.claimable(licence_id, actors["licensor"].address) == 3_150 * USDX
    assert ledger.claimable(licence_id, actors["co_owner"].address) == 1_350 * USDX
    ledger.withdraw(licence_id, actors["co_owner"].address, sender=actors["relayer"])  # anyone may trigger
    ledger.withdraw(licence_id, actors["licensor"].address, sender=actors["licensor"])
    ledger.withdrawTax(licence_id, sender=actors["tax"])
    assert token.balanceOf(actors["co_owner"].address) == 1_350 * USDX
    assert token.balanceOf(actors["licensor"].address) == 3_150 * USDX
    assert token.balanceOf(actors["tax"].address) == 500 * USDX
    assert ledger.escrowOf(licence_id) == 5_000 * USDX

    # The same report again is refused with the exact custom error.
    with ape.reverts(ledger.PeriodAlreadySettled, licenceId=licence_id, period=0, settlementId=settled.settlementId):
        ledger.settleReports([report.as_abi()], [signatures], sender=actors["relayer"])
    with ape.reverts(ledger.NothingToWithdraw):
        ledger.withdraw(licence_id, actors["co_owner"].address, sender=actors["relayer"])


def test_invalid_terms_and_missing_consent(deployed, actors, scope):
    registry, _, token = deployed
    count_before = registry.licenceCount()
    start = ape.chain.pending_timestamp
    deadline = start + DAY
    bad = _terms(
        actors,
        token,
        scope,
        start,
        payees=(Payee(actors["licensor"].address, 7000), Payee(actors["co_owner"].address, 2000)),
    )
    licensor_sig, licensee_sig = _consent(registry, bad, deadline, actors)
    with ape.reverts(registry.SharesNotTenThousand, sumBps=9000):
        registry.register(bad.as_abi(), deadline, licensor_sig, licensee_sig, sender=actors["relayer"])

    good = _terms(actors, token, scope, start)
    licensor_sig, _ = _consent(registry, good, deadline, actors)
    forged = sign_digest(b"\x33" * 32, _key(actors["licensee"]))
    with ape.reverts(registry.ConsentMissing, party=actors["licensee"].address):
        registry.register(good.as_abi(), deadline, licensor_sig, forged, sender=actors["relayer"])
    assert registry.licenceCount() == count_before  # nothing was registered


@pytest.mark.parametrize("threshold", [0, 4])
def test_threshold_out_of_range(deployed, actors, scope, threshold):
    registry, _, token = deployed
    start = ape.chain.pending_timestamp
    terms = _terms(actors, token, scope, start, threshold=threshold)
    licensor_sig, licensee_sig = _consent(registry, terms, start + DAY, actors)
    with ape.reverts(registry.ThresholdOutOfRange, threshold=threshold, signers=3):
        registry.register(terms.as_abi(), start + DAY, licensor_sig, licensee_sig, sender=actors["relayer"])
