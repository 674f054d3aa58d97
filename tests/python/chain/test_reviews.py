"""Rate reviews through the typed clients on Anvil: the typed data built here is the contract's
(type hashes and digests against its views), a benchmark review opens with the suggestion the
Python model computes (arithmetic written out), one review is declined by the licensee's
signature, and another is accepted through the registry's amendment both parties sign.
"""

from __future__ import annotations

import time

import pytest

from royalty_chain import eip712
from royalty_chain.actions import register_licence, sign_report
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.reviews import (
    Evidence,
    Review,
    ReviewClause,
    ReviewStatus,
    Trigger,
    draft_schedule,
    moved_beyond,
    scale_rate,
)
from royalty_chain.terms import DAY, Payee, Schedule, Term, Terms

USDX = 10**6


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _licence(chain: Chain) -> int:
    now = _now(chain)
    start = (now // DAY - 200) * DAY
    terms = Terms(
        licensor=role("licensor_brand").address,
        licensee=role("licensee_apparel").address,
        legal_text_hash=b"\x03" * 32,
        asset_ids=(12,),
        scope=encode_scope(["US"], ["apparel"], ["retail"]),
        term=Term(start=start, end=start + 3 * 365 * DAY, sell_off_days=0, period_seconds=30 * DAY),
        token=chain.manifest.token("USDX").address,
        schedule=Schedule(rate_bps=500),
        payees=(Payee(role("licensor_brand").address, 10_000),),
        oracles=tuple(sorted((role("oracle1").address, role("oracle2").address), key=lambda a: int(a, 16))),
        threshold=2,
        arbiter=role("arbiter").address,
        salt=time.time_ns().to_bytes(32, "big"),
    )
    return register_licence(
        chain, terms, role("licensor_brand"), role("licensee_apparel"), role("relayer"), deadline=now + DAY
    )


def _fire(chain: Chain, licence_id: int, kind: Trigger, observed: int) -> Review:
    evidence = Evidence(licence_id, kind, observed, as_of=_now(chain), deadline=_now(chain) + DAY)
    digest = eip712.REVIEW_EVIDENCE.digest(chain.reviews.domain(), evidence.message())
    assert digest == chain.reviews.evidence_digest(evidence)
    receipt = chain.reviews.fire(evidence, sign_report(digest, [role("oracle1"), role("oracle2")]), role("relayer"))
    (event,) = [e for e in chain.receipt_events(receipt) if e.name == "ReviewOpened"]
    review_id = chain.reviews.review_id_of(receipt)
    on_record = chain.reviews.review_of(review_id)
    assert on_record is not None
    assert Review.from_abi(event.args["review"]) == on_record
    return on_record


def test_benchmark_review_declined_and_volume_review_accepted(chain: Chain) -> None:
    reviews = chain.reviews
    for name in ("ATTACH_REVIEW", "EVIDENCE", "DECLINE"):
        assert eip712.TYPES[name].typehash == reviews.typehash(name), name
    assert reviews.domain().separator == reviews.domain_separator()

    licence_id = _licence(chain)
    licensor, licensee = role("licensor_brand"), role("licensee_apparel")
    # The benchmark at 4.00% at signing, reviewed on a move of more than 10%; 1,000,000.00 of
    # cumulative net sales reviews the rate towards 6%.
    clause = ReviewClause(
        benchmark="LES-MEDTECH-RATE",
        benchmark_at_signing=4_000_000,
        move_bps=1_000,
        volume_threshold=1_000_000 * USDX,
        volume_rate_bps=600,
    )
    clause.check(_now(chain))
    deadline = _now(chain) + DAY
    digest = eip712.ATTACH_REVIEW.digest(reviews.domain(), clause.message(licence_id, deadline))
    assert digest == reviews.attach_digest(licence_id, clause, deadline)
    reviews.attach(
        licence_id, clause, deadline, sign_digest(digest, licensor.key), sign_digest(digest, licensee.key),
        role("relayer"),
    )  # fmt: skip
    assert reviews.clause_of(licence_id) == clause

    # 4.00% -> 4.60%: |4.60 - 4.00| x 10,000 = 6,000,000,000 > 4,000,000 x 1,000 = 4,000,000,000
    # (+15% > 10%); the base rate 500 bps x 4,600,000 / 4,000,000 = 575 bps exactly.
    assert moved_beyond(4_600_000, 4_000_000, 1_000)
    benchmark = _fire(chain, licence_id, Trigger.BENCHMARK, 4_600_000)
    assert (benchmark.kind, benchmark.status) == (Trigger.BENCHMARK, ReviewStatus.OPEN)
    assert (benchmark.observed, benchmark.reference_value) == (4_600_000, 4_000_000)
    assert (benchmark.numerator, benchmark.denominator) == (4_600_000, 4_000_000)
    assert benchmark.current_rate_bps == 500
    assert benchmark.suggested_rate_bps == 575 == scale_rate(500, 4_600_000, 4_000_000)
    assert reviews.fired(licence_id, Trigger.BENCHMARK)
    assert not reviews.fired(licence_id, Trigger.VOLUME)
    benchmark_id = reviews.review_count()

    # The same trigger fires once.
    with pytest.raises(ContractRevert) as refused:
        _fire(chain, licence_id, Trigger.BENCHMARK, 5_000_000)
    assert refused.value.error == "TriggerAlreadyFired"

    # The licensee declines the benchmark review by its signature, relayed.
    deadline = _now(chain) + DAY
    decline = eip712.DECLINE_REVIEW.digest(
        reviews.domain(), {"reviewId": benchmark_id, "party": licensee.address, "deadline": deadline}
    )
    assert decline == reviews.decline_digest(benchmark_id, licensee.address, deadline)
    reviews.decline(benchmark_id, licensee.address, deadline, sign_digest(decline, licensee.key), role("relayer"))
    declined = reviews.review_of(benchmark_id)
    assert declined is not None
    assert (declined.status, declined.decided_by) == (ReviewStatus.DECLINED, licensee.address)
    assert chain.registry.schedule_count(licence_id) == 1

    # Cumulative net sales of 1,000,000.00 reach the threshold: the suggestion is the agreed 600 bps.
    volume = _fire(chain, licence_id, Trigger.VOLUME, 1_000_000 * USDX)
    assert (volume.current_rate_bps, volume.suggested_rate_bps) == (500, 600)
    volume_id = reviews.review_count()

    # Both parties sign the drafted amendment (6% from 10 days on) with the registry's
    # AmendLicence digest for version 1; the relayer accepts the review with it.
    effective_from = _now(chain) + 10 * DAY
    draft = draft_schedule(volume, chain.registry.schedule_at(licence_id, volume.schedule_from), effective_from)
    assert draft == Schedule(effective_from=effective_from, rate_bps=600)
    end = chain.registry.settlement_context(licence_id).effective_end
    deadline = _now(chain) + DAY
    amend = eip712.amend_digest(chain.registry.domain(), licence_id, 1, draft, end, deadline)
    reviews.accept(
        volume_id, draft, end, deadline, sign_digest(amend, licensor.key), sign_digest(amend, licensee.key),
        role("relayer"),
    )  # fmt: skip
    accepted = reviews.review_of(volume_id)
    assert accepted is not None
    assert (accepted.status, accepted.accepted_version) == (ReviewStatus.ACCEPTED, 1)
    assert chain.registry.schedule_count(licence_id) == 2
    assert chain.registry.schedule_at(licence_id, effective_from).rate_bps == 600
    assert chain.registry.schedule_at(licence_id, effective_from - 1).rate_bps == 500
