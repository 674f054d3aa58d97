"""Rate reviews through the API: a review clause both parties signed, triggers fired by evidence
the licence's oracle signed (ReviewsClient on the session chain), indexed and read back with the
data that justified each suggestion written out, the amendment an open review suggests, a
decline, and the licence page's reviews card.

The figures (token: USDX, 6 decimals; the licence's base rate 500 bps; 30-day periods from 31
days ago, so the reviews open in period 1 and the suggested amendment starts period 2, 60 days
after the start):
- benchmark DATA-LIC-RATE 4.00 at signing, observed 4.60: |4.60 - 4.00| / 4.00 = +15.00%, more
  than the clause's 10.00%; rate 500 bps x 4.60 / 4.00 = 575 bps exactly;
- volume: cumulative net sales of 1,000,000.00 reach the threshold 1,000,000.00: the agreed 600 bps.
"""

from __future__ import annotations

from apikit import USDX, attach_review, chain_time, fire_review, register, sign, synced, terms_json
from fastapi.testclient import TestClient

from api.indexer.models import ReviewClauseRow, ReviewRow
from api.queries.reviews import clause_words, justification, move_percent, scaled_rate_text, trigger_words
from api.services import Services
from royalty_chain.calendar import iso_date
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.eip712 import sign_digest
from royalty_chain.reviews import ReviewClause, Trigger
from royalty_chain.terms import DAY

CLAUSE = ReviewClause(
    benchmark="DATA-LIC-RATE",
    benchmark_at_signing=4_000_000,
    move_bps=1_000,
    volume_threshold=1_000_000 * USDX,
    volume_rate_bps=600,
)


def test_words_of_the_arithmetic() -> None:
    assert move_percent(4_600_000, 4_000_000) == "+15.00%"
    assert move_percent(3_000_000, 4_000_000) == "-25.00%"
    assert move_percent(4_000_001, 3_000_000) == "+33.33%"
    assert scaled_rate_text(500, 4_600_000, 4_000_000, "4.60 / 4.00") == "500 bps x 4.60 / 4.00 = 575 bps"
    # 515 x 4.61 / 4.00 = 593.5375: to the nearest bps, 594
    assert (
        scaled_rate_text(515, 4_610_000, 4_000_000, "4.61 / 4.00")
        == "515 bps x 4.61 / 4.00 = 593.5375 bps, to the nearest bps: 594 bps"
    )
    assert scaled_rate_text(9_000, 2, 1, "2 / 1") == "9,000 bps x 2 / 1 = 18,000 bps, at most 10,000 bps"


def test_words_of_a_date_review() -> None:
    """A date review (no chain needed): the chain's clock is its evidence, the factor 1 / 1."""
    review_at = 1_798_761_600  # 2027-01-01
    row = ReviewRow(id=3, licence_id=1, kind="date", observed=review_at + 5, reference_value=review_at,
                    numerator=1, denominator=1, as_of=review_at + 5, opened_at=review_at + 5, current_rate_bps=500,
                    suggested_rate_bps=500, schedule_from=review_at + 5, status="open")  # fmt: skip
    clause = ReviewClauseRow(licence_id=1, benchmark="", volume_threshold=0, benchmark_at_signing=0,
                             review_at=review_at, volume_rate_bps=0, move_bps=0)  # fmt: skip
    assert trigger_words(row, clause, 6, "USDX") == "the review date 2027-01-01 came"
    assert justification(row, clause, 6, "USDX") == (
        "the review date 2027-01-01 came: a review meeting, rate 500 bps unchanged (1 / 1)"
    )
    assert clause_words(clause, 6, "USDX") == (
        "Rates reviewed on 2027-01-01 (a review meeting, rates unchanged unless both agree)"
    )


def test_reviews_fired_read_back_and_declined(client: TestClient, chain: Chain, services: Services) -> None:
    start = chain_time(chain) - 31 * DAY
    licence_id = register(client, terms_json(chain, start, schedule={"rate_bps": 500}))
    synced(services)
    assert client.get(f"/licences/{licence_id}/reviews").json() == {
        "licence_id": licence_id,
        "clause": None,
        "reviews": [],
    }
    assert client.get(f"/licences/{licence_id}").json()["reviews"] is None

    attach_review(chain, licence_id, CLAUSE)
    benchmark_id = fire_review(chain, licence_id, Trigger.BENCHMARK, 4_600_000)
    synced(services)
    answer = client.get(f"/licences/{licence_id}/reviews")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    clause = body["clause"]
    attached_tx = clause.pop("tx_hash")
    assert attached_tx.startswith("0x") and len(attached_tx) == 66
    clause.pop("block_number")
    clause.pop("attached_at")
    assert clause == {
        "benchmark": "DATA-LIC-RATE",
        "benchmark_at_signing": "4.00",
        "benchmark_at_signing_units": "4000000",
        "move_bps": 1000,
        "volume_threshold": "1000000000000",
        "volume_rate_bps": 600,
        "review_at": None,
        "review_date": None,
        "words": "Rates reviewed when the benchmark DATA-LIC-RATE moves more than 10.00% either way from 4.00 at "
        "signing (rates scaled by its move); or when cumulative net sales reach 1,000,000.00 USDX (the rate "
        "towards 600 bps)",
    }
    (review,) = body["reviews"]
    for key in ("opened_at", "as_of", "schedule_from", "block_number", "tx_hash"):
        assert review.pop(key)
    effective_from = start + 60 * DAY  # period 2 starts 60 days after the start
    assert review == {
        "review_id": benchmark_id,
        "kind": "benchmark",
        "trigger": "DATA-LIC-RATE moved more than 10.00% from its value at signing",
        "justification": "benchmark DATA-LIC-RATE 4.00 -> 4.60 (+15.00%, more than the clause's 10.00%): "
        "rate 500 bps x 4.60 / 4.00 = 575 bps",
        "current_rate_bps": 500,
        "suggested_rate_bps": 575,
        "status": "open",
        "status_words": "open: awaiting both parties' signatures on the suggested amendment (or either's decline)",
        "observed": "4600000",
        "reference_value": "4000000",
        "numerator": "4600000",
        "denominator": "4000000",
        "decided_at": None,
        "decided_by": None,
        "decided_by_role": None,
        "accepted_version": None,
        "decided_tx": None,
        "suggested_amendment": {
            "version": 1,
            "from_version": 0,
            "new_end": start + 365 * DAY,
            "schedule": {
                "effective_from": effective_from,
                "effective_date": iso_date(effective_from),
                "fixed_fee_per_period": "0",
                "rate_bps": 575,
                "per_unit": "0",
                "minimum_guarantee": "0",
                "tiers": [],
                "field_rates": [],
            },
        },
    }
    summary = client.get(f"/licences/{licence_id}").json()["reviews"]
    assert (summary["open"], summary["declined"], summary["accepted"]) == (1, 0, 0)
    assert [(r["review_id"], r["status"], r["suggested_rate_bps"]) for r in summary["reviews"]] == [
        (benchmark_id, "open", 575)
    ]
    page = client.get(f"/ui/licences/{licence_id}")
    assert page.status_code == 200
    assert "Rate reviews" in page.text and "awaiting both parties&#39; signatures" in page.text
    assert "rate 500 bps x 4.60 / 4.00 = 575 bps" in page.text

    # The licensee declines the benchmark review (its DeclineReview signature, relayed).
    licensee = role("licensee_apparel")
    deadline = chain_time(chain) + DAY
    digest = chain.reviews.decline_digest(benchmark_id, licensee.address, deadline)
    chain.reviews.decline(benchmark_id, licensee.address, deadline, sign_digest(digest, licensee.key), role("relayer"))
    # Cumulative net sales of 1,000,000.00 reach the threshold: the agreed 600 bps is suggested.
    volume_id = fire_review(chain, licence_id, Trigger.VOLUME, 1_000_000 * USDX)
    synced(services)
    declined, volume = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (declined["review_id"], declined["status"]) == (benchmark_id, "declined")
    assert (declined["decided_by"], declined["decided_by_role"]) == (licensee.address, "licensee")
    assert declined["decided_tx"] is not None and declined["suggested_amendment"] is None
    assert declined["status_words"].startswith("declined by the licensee on ")
    assert (volume["review_id"], volume["kind"], volume["status"]) == (volume_id, "volume", "open")
    assert volume["trigger"] == "cumulative net sales reached 1,000,000.00 USDX"
    assert volume["justification"] == (
        "cumulative net sales 1,000,000.00 USDX reached the clause's 1,000,000.00 USDX: the agreed rate "
        "600 bps in place of 500 bps"
    )
    assert (volume["current_rate_bps"], volume["suggested_rate_bps"]) == (500, 600)
    assert volume["suggested_amendment"]["schedule"]["rate_bps"] == 600
    summary = client.get(f"/licences/{licence_id}").json()["reviews"]
    assert (summary["open"], summary["declined"], summary["accepted"]) == (1, 1, 0)


def test_reviews_accepted_and_declined_through_the_relay(client: TestClient, chain: Chain, services: Services) -> None:
    """accept/drafts gives the suggested amendment (575 bps from period 2) as AmendLicence typed
    data; both signatures relayed through LicenceReviews.accept add schedule version 1. A volume
    review is declined by the licensor's signature; a decided review is a 422 naming ReviewDecided."""
    start = chain_time(chain) - 31 * DAY
    licence_id = register(client, terms_json(chain, start, schedule={"rate_bps": 500}))
    attach_review(chain, licence_id, CLAUSE)
    benchmark_id = fire_review(chain, licence_id, Trigger.BENCHMARK, 4_600_000)
    synced(services)
    base = f"/licences/{licence_id}/reviews/{benchmark_id}"

    stranger = client.post(f"{base}/decline/drafts", json={"party": role("arbiter").address})
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "party"
    assert (
        client.post(f"/licences/{licence_id}/reviews/{benchmark_id + 1000}/accept/drafts", json={}).status_code == 404
    )

    draft = client.post(f"{base}/accept/drafts", json={})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    effective_from = start + 60 * DAY
    assert (body["review_id"], body["version"], body["new_end"]) == (benchmark_id, 1, start + 365 * DAY)
    assert body["schedule"] == {
        "effective_from": effective_from,
        "fixed_fee_per_period": "0",
        "rate_bps": 575,
        "per_unit": "0",
        "minimum_guarantee": "0",
        "tiers": [],
        "field_rates": [],
    }
    assert body["typed_data"]["primaryType"] == "AmendLicence"
    assert (body["typed_data"]["message"]["version"], body["typed_data"]["message"]["licenceId"]) == (1, licence_id)
    accepted = client.post(
        f"{base}/accept",
        json={"schedule": body["schedule"], "new_end": body["new_end"], "deadline": body["deadline"],
              "licensor_signature": sign(body["digest"], "licensor_brand"),
              "licensee_signature": sign(body["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    synced(services)
    (review,) = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (review["status"], review["accepted_version"], review["suggested_amendment"]) == ("accepted", 1, None)
    assert review["status_words"].endswith(": schedule version 1")
    versions = client.get(f"/licences/{licence_id}").json()["schedule_versions"]
    assert [(v["version"], v["effective_from"], v["rate_bps"]) for v in versions] == [
        (0, start, 500),
        (1, effective_from, 575),
    ]
    # Decided: neither party can decline it now, and there is nothing to accept.
    decline = client.post(f"{base}/decline/drafts", json={"party": role("licensee_apparel").address}).json()
    refused = client.post(
        f"{base}/decline",
        json={"party": role("licensee_apparel").address, "deadline": decline["deadline"],
              "signature": sign(decline["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert (refused.json()["type"], refused.json()["error"]) == ("/problems/contract-rejected", "ReviewDecided")
    again = client.post(f"{base}/accept/drafts", json={})
    assert again.status_code == 422 and again.json()["error"] == "ReviewDecided"

    volume_id = fire_review(chain, licence_id, Trigger.VOLUME, 1_000_000 * USDX)
    synced(services)
    base = f"/licences/{licence_id}/reviews/{volume_id}"
    licensor = role("licensor_brand").address
    decline = client.post(f"{base}/decline/drafts", json={"party": licensor}).json()
    assert decline["typed_data"]["primaryType"] == "DeclineReview"
    assert decline["typed_data"]["message"] == {
        "reviewId": volume_id,
        "party": licensor,
        "deadline": decline["deadline"],
    }
    wrong = client.post(
        f"{base}/decline",
        json={
            "party": licensor,
            "deadline": decline["deadline"],
            "signature": sign(decline["digest"], "licensee_apparel"),
        },
    )
    assert wrong.status_code == 422 and wrong.json()["type"] == "/problems/signature-invalid"
    declined = client.post(
        f"{base}/decline",
        json={
            "party": licensor,
            "deadline": decline["deadline"],
            "signature": sign(decline["digest"], "licensor_brand"),
        },
    )
    assert declined.status_code == 201, declined.text
    synced(services)
    _, volume = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (volume["status"], volume["decided_by"], volume["decided_by_role"]) == ("declined", licensor, "licensor")
    assert len(client.get(f"/licences/{licence_id}").json()["schedule_versions"]) == 2  # unchanged by the decline


def test_a_review_of_a_tiered_schedule_with_field_rates_is_accepted_through_the_relay(
    client: TestClient, chain: Chain, services: Services
) -> None:
    """A schedule of tiers (5.00% up to 100,000.00 USDX a contract year, 8.00% above), a toys rate
    of 3.00% and a fixed fee of 1,000.00 a period; the benchmark 4.00 -> 4.60 (x 1.15) scales every
    rate and keeps the money terms:
      tier 1   500 bps x 4.60 / 4.00 = 575 bps (the review's current and suggested rate)
      tier 2   800 bps x 4.60 / 4.00 = 920 bps
      toys     300 bps x 4.60 / 4.00 = 345 bps
      fixed fee 1,000.000000 USDX and the tier threshold 100,000.000000 USDX unchanged.
    Both parties sign the draft's AmendLicence, relayed through LicenceReviews.accept: version 1."""
    start = chain_time(chain) - 31 * DAY
    schedule = {
        "fixed_fee_per_period": str(1_000 * USDX),
        "tiers": [{"threshold": "0", "rate_bps": 500}, {"threshold": str(100_000 * USDX), "rate_bps": 800}],
        "field_rates": [{"field": "toys", "rate_bps": 300}],
    }
    scope = {"territories": ["US", "GB"], "fields": ["apparel", "toys"], "channels": ["retail", "online"]}
    licence_id = register(client, terms_json(chain, start, schedule=schedule, scope=scope))
    attach_review(chain, licence_id, CLAUSE)
    review_id = fire_review(chain, licence_id, Trigger.BENCHMARK, 4_600_000)
    synced(services)
    (shown,) = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (shown["current_rate_bps"], shown["suggested_rate_bps"]) == (500, 575)
    effective_from = start + 60 * DAY  # period 2 starts 60 days after the start
    expected = {
        "effective_from": effective_from,
        "fixed_fee_per_period": "1000000000",
        "rate_bps": 0,
        "per_unit": "0",
        "minimum_guarantee": "0",
        "tiers": [{"threshold": "0", "rate_bps": 575}, {"threshold": "100000000000", "rate_bps": 920}],
        "field_rates": [{"field": "toys", "rate_bps": 345}],
    }
    assert shown["suggested_amendment"]["schedule"] == {**expected, "effective_date": iso_date(effective_from)}

    page = client.get(f"/ui/licences/{licence_id}")
    assert page.status_code == 200, page.text[-2000:]
    assert "rate 500 bps x 4.60 / 4.00 = 575 bps" in page.text

    base = f"/licences/{licence_id}/reviews/{review_id}"
    draft = client.post(f"{base}/accept/drafts", json={})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["schedule"] == expected
    accepted = client.post(
        f"{base}/accept",
        json={"schedule": body["schedule"], "new_end": body["new_end"], "deadline": body["deadline"],
              "licensor_signature": sign(body["digest"], "licensor_brand"),
              "licensee_signature": sign(body["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    synced(services)
    (review,) = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (review["status"], review["accepted_version"]) == ("accepted", 1)
    on_chain = chain.registry.schedule_at(licence_id, effective_from)
    assert (on_chain.effective_from, on_chain.fixed_fee_per_period, on_chain.rate_bps) == (
        effective_from,
        1_000 * USDX,
        0,
    )
    assert [(t.threshold, t.rate_bps) for t in on_chain.tiers] == [(0, 575), (100_000 * USDX, 920)]
    assert [f.rate_bps for f in on_chain.field_rates] == [345]
    versions = client.get(f"/licences/{licence_id}").json()["schedule_versions"]
    assert [(v["version"], v["effective_from"]) for v in versions] == [(0, start), (1, effective_from)]
    assert [(t["threshold"], t["rate_bps"]) for t in versions[1]["tiers"]] == [("0", 575), ("100000000000", 920)]
    assert [(f["field"], f["rate_bps"]) for f in versions[1]["field_rates"]] == [("toys", 345)]

    # Cumulative net sales reach 1,000,000.00: the agreed 600 bps in place of the tiers, after
    # version 1 (which starts later than now, so the review read version 0's 500 bps).
    volume_id = fire_review(chain, licence_id, Trigger.VOLUME, 1_000_000 * USDX)
    synced(services)
    _, volume = client.get(f"/licences/{licence_id}/reviews").json()["reviews"]
    assert (volume["review_id"], volume["current_rate_bps"], volume["suggested_rate_bps"]) == (volume_id, 500, 600)
    # Drafted from version 1, the one it follows (from version 0, the one it read, it would put
    # toys back to 300 bps and undo the accepted review): version 2 from a second after version 1.
    suggested = volume["suggested_amendment"]
    after = effective_from + 1
    volume_schedule = {
        "effective_from": after,
        "fixed_fee_per_period": "1000000000",
        "rate_bps": 600,
        "per_unit": "0",
        "minimum_guarantee": "0",
        "tiers": [],
        "field_rates": [{"field": "toys", "rate_bps": 345}],
    }
    assert (suggested["version"], suggested["from_version"]) == (2, 1)
    assert suggested["schedule"] == {**volume_schedule, "effective_date": iso_date(after)}
    draft = client.post(f"/licences/{licence_id}/reviews/{volume_id}/accept/drafts", json={}).json()
    assert (draft["version"], draft["schedule"]) == (2, volume_schedule)
    accepted = client.post(
        f"/licences/{licence_id}/reviews/{volume_id}/accept",
        json={"schedule": draft["schedule"], "new_end": draft["new_end"], "deadline": draft["deadline"],
              "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    latest = chain.registry.schedule_at(licence_id, after)
    assert (latest.effective_from, latest.rate_bps, latest.tiers) == (after, 600, ())
    assert [f.rate_bps for f in latest.field_rates] == [345]
