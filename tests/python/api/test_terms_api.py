"""POST /licences takes the one terms format: an examples/licences file as it is (role names
resolved), the exact integer form, and bad values refused with the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apikit import chain_time, sign, terms_json
from fastapi.testclient import TestClient

from api.inputs import TermsIn, terms_doc, to_terms
from royalty_chain.client import Chain
from royalty_chain.dev.licence_files import LicenceSpec, resolve_address, resolve_parties
from royalty_chain.terms import DAY

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "licences"


def _example(name: str, **overrides: Any) -> dict[str, Any]:
    """An example file's terms with its role names resolved, as a client would send them."""
    raw = json.loads((EXAMPLES / f"{name}.json").read_text())["terms"]
    terms = resolve_parties(raw, resolve_address)
    terms.update(overrides)
    return terms


def _problem(client: TestClient, terms: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/licences/drafts", json={"terms": terms})
    assert answer.status_code == 422, answer.text
    return dict(answer.json())


@pytest.mark.parametrize(
    "name", ["acme-trademark", "atelier-design", "geodata-dataset", "lumen-model", "voltcell-patent"]
)
def test_an_example_file_is_accepted_and_means_what_the_demo_signs(client: TestClient, chain: Chain, name: str) -> None:
    terms = _example(name)
    answer = client.post("/licences/drafts", json={"terms": terms})
    assert answer.status_code == 200, answer.text
    canonical = answer.json()["terms"]
    # The canonical answer is the exact form of the same Terms the demo builds from the file
    # (the demo adds its salt and the term start as the schedule's effective date).
    spec = LicenceSpec.load(EXAMPLES / f"{name}.json")
    demo = spec.to_terms(chain.manifest)
    from_api = to_terms(TermsIn.model_validate(canonical), chain.manifest)
    assert from_api.advance == demo.advance
    assert from_api.schedule.tiers == demo.schedule.tiers
    assert from_api.schedule.per_unit == demo.schedule.per_unit
    assert from_api.schedule.minimum_guarantee == demo.schedule.minimum_guarantee
    assert (from_api.term, from_api.payees, from_api.scope) == (demo.term, demo.payees, demo.scope)
    assert (from_api.dispute_window, from_api.cure_period, from_api.legal_text_hash) == (
        demo.dispute_window,
        demo.cure_period,
        demo.legal_text_hash,
    )
    # Human and exact forms are one licence: the same canonical terms, the same digest.
    again = client.post("/licences/drafts", json={"terms": canonical, "deadline": answer.json()["deadline"]})
    assert again.json()["terms"] == canonical
    assert again.json()["digest"] == answer.json()["digest"]


def test_an_example_in_human_form_registers(client: TestClient, chain: Chain) -> None:
    now = chain_time(chain)
    salt = "0x" + (now * 7919).to_bytes(32, "big").hex()
    terms = _example("acme-trademark", salt=salt)
    # Calendar quarters start at 00:00 UTC: yesterday's date.
    terms["term"] = {**terms["term"], "start": (now - DAY) // DAY * DAY, "end": now + 365 * DAY}
    draft = client.post("/licences/drafts", json={"terms": terms})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    before = chain.registry.licence_count()
    answer = client.post(
        "/licences",
        json={
            "terms": terms,  # the human form again: it means the same terms the parties signed
            "deadline": body["deadline"],
            "licensor_signature": sign(body["digest"], "licensor_brand"),
            "licensee_signature": sign(body["digest"], "licensee_apparel"),
        },
    )
    assert answer.status_code == 201, answer.text
    assert chain.registry.licence_count() == before + 1
    assert body["terms"] == terms_doc(to_terms(TermsIn.model_validate(body["terms"]), chain.manifest))


def test_bad_terms_name_the_field(client: TestClient, chain: Chain) -> None:
    decimals = _problem(client, _example("voltcell-patent", advance="20000.0000001"))
    assert decimals["errors"] == [
        {"field": "terms.advance", "message": "'20000.0000001' has 7 decimals; at most 6 allowed (the token has 6)"}
    ]
    negative = _problem(client, _example("voltcell-patent", advance="-20000"))
    assert negative["errors"][0]["field"] == "body.terms.advance"
    assert "is negative" in negative["errors"][0]["message"]
    territory = _example("acme-trademark")
    territory["scope"] = {**territory["scope"], "territories": ["US", "ZZ"]}
    unknown = _problem(client, territory)
    assert unknown["errors"][0]["field"] == "body.terms.scope.territories"
    assert "unknown territory code 'ZZ'" in unknown["errors"][0]["message"]
    shares = terms_json(chain, chain_time(chain))
    shares["payees"][1]["share_bps"] = 3000  # 9,000 in all
    summed = _problem(client, shares)
    assert summed["errors"][0]["field"] == "body.terms.payees"
    assert "shares add up to 9000 basis points; they must add up to exactly 10000" in summed["errors"][0]["message"]
