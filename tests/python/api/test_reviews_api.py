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

from apikit import USDX, attach_review, chain_time, fire_review, register, synced, terms_json
from fastapi.testclient import TestClient

from api.queries.reviews import move_percent, scaled_rate_text
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
