"""Relayed actions: signatures are checked per party, the contract's rules come back by name,
and nothing reaches the chain unless it would succeed."""

from __future__ import annotations

from apikit import USDX, bucket, chain_time, fund, register, settle, sign, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from royalty_chain.client import Chain
from royalty_chain.codes import encode_scope
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _draft(client: TestClient, terms: dict) -> dict:
    answer = client.post("/licences/drafts", json={"terms": terms})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_draft_returns_canonical_terms_and_typed_data(client: TestClient, chain: Chain) -> None:
    terms = terms_json(chain, 0, token=chain.manifest.token("USDX").address.lower())
    terms["term"]["start"], terms["term"]["end"] = "2026-01-01", "2028-01-01"
    body = _draft(client, terms)
    assert body["terms"]["term"]["start"] == 1767225600
    assert body["terms"]["term"]["end"] == 1830297600
    assert body["terms"]["token"] == chain.manifest.token("USDX").address
    assert body["typed_data"]["primaryType"] == "RegisterLicence"
    assert body["typed_data"]["domain"]["verifyingContract"] == chain.registry.address
    # The digest is the contract's own.
    from api.inputs import TermsIn, to_terms

    canonical = to_terms(TermsIn.model_validate(body["terms"]), chain.manifest)
    assert "0x" + chain.registry.register_digest(canonical, body["deadline"]).hex() == body["digest"]


def test_a_wallet_signing_the_drafts_typed_data_registers_the_licence(client: TestClient, chain: Chain) -> None:
    """What a wallet does with the draft: render the typed data (every member of the terms, with
    its values) and sign it as eth_signTypedData_v4 (eth_account's sign_typed_data here). Those
    signatures register the licence; the same for the amendment's typed data and its schedule."""
    from eth_account import Account

    start = chain_time(chain) - DAY
    body = _draft(client, terms_json(chain, start, schedule={"rate_bps": 800, "tiers": [], "field_rates": []}))
    shown = body["typed_data"]["message"]
    assert shown["payees"] == [{"account": p["account"], "shareBps": p["share_bps"]} for p in body["terms"]["payees"]]
    assert shown["schedule"]["rateBps"] == 800
    assert shown["taxBps"] == 1000
    assert shown["term"]["start"] == start
    assert shown["oracles"] == body["terms"]["oracles"]
    scope = encode_scope(["US", "GB"], ["apparel"], ["retail", "online"])
    assert shown["scope"] == {"territories": str(scope.territories), "fields": scope.fields, "channels": scope.channels}

    def wallet(typed: dict, name: str) -> str:
        return "0x" + bytes(Account.sign_typed_data(role(name).key, full_message=typed).signature).hex()

    answer = client.post(
        "/licences",
        json={
            "terms": body["terms"],
            "deadline": body["deadline"],
            "licensor_signature": wallet(body["typed_data"], "licensor_brand"),
            "licensee_signature": wallet(body["typed_data"], "licensee_apparel"),
        },
    )
    assert answer.status_code == 201, answer.text
    licence_id = int(answer.json()["licence_id"])

    now = chain_time(chain)
    schedule = {"effective_from": now + 10 * DAY, "rate_bps": 950}
    draft = client.post(
        f"/licences/{licence_id}/amendments/drafts", json={"schedule": schedule, "new_end": now + 400 * DAY}
    )
    assert draft.status_code == 200, draft.text
    amend = draft.json()
    assert amend["typed_data"]["primaryType"] == "AmendLicence"
    assert amend["typed_data"]["message"]["schedule"]["rateBps"] == 950
    assert amend["typed_data"]["message"]["version"] == 1
    sent = client.post(
        f"/licences/{licence_id}/amendments",
        json={
            "schedule": schedule,
            "new_end": now + 400 * DAY,
            "deadline": amend["deadline"],
            "licensor_signature": wallet(amend["typed_data"], "licensor_brand"),
            "licensee_signature": wallet(amend["typed_data"], "licensee_apparel"),
        },
    )
    assert sent.status_code == 201, sent.text
    assert chain.registry.schedule_count(licence_id) == 2


def test_wrong_signature_is_refused_naming_the_party_and_nothing_is_sent(client: TestClient, chain: Chain) -> None:
    body = _draft(client, terms_json(chain, chain_time(chain) - DAY))
    before = chain.registry.licence_count()
    answer = client.post(
        "/licences",
        json={
            "terms": body["terms"],
            "deadline": body["deadline"],
            "licensor_signature": sign(body["digest"], "licensor_brand"),
            "licensee_signature": sign(body["digest"], "licensee_devices"),  # not the licensee
        },
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/signature-invalid"
    assert problem["party"] == "licensee"
    assert problem["address"] == role("licensee_apparel").address
    assert problem["errors"][0]["field"] == "licensee_signature"
    assert chain.registry.licence_count() == before

    garbage = client.post(
        "/licences",
        json={**{k: body[k] for k in ("terms", "deadline")}, "licensor_signature": "0x1234",
              "licensee_signature": sign(body["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert garbage.status_code == 422
    assert garbage.json()["party"] == "licensor"
    assert chain.registry.licence_count() == before


def test_terms_the_contract_rejects_name_the_error(client: TestClient, chain: Chain) -> None:
    # Shares that do not add up to 10,000 are refused by the terms model (test_terms_format);
    # a term that ends before it starts is left to the contract.
    terms = terms_json(chain, chain_time(chain) - DAY)
    terms["term"]["end"] = terms["term"]["start"]
    body = _draft(client, terms)
    before = chain.registry.licence_count()
    answer = client.post(
        "/licences",
        json={
            "terms": body["terms"],
            "deadline": body["deadline"],
            "licensor_signature": sign(body["digest"], "licensor_brand"),
            "licensee_signature": sign(body["digest"], "licensee_apparel"),
        },
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "/problems/contract-rejected"
    assert problem["error"] == "TermEndNotAfterStart"
    start = str(terms["term"]["start"])
    assert problem["arguments"] == {"start": start, "end": start}
    assert chain.registry.licence_count() == before

    same_party = terms_json(chain, chain_time(chain) - DAY, arbiter=role("licensor_brand").address)
    body = _draft(client, same_party)
    answer = client.post(
        "/licences",
        json={"terms": body["terms"], "deadline": body["deadline"],
              "licensor_signature": sign(body["digest"], "licensor_brand"),
              "licensee_signature": sign(body["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert answer.json()["error"] == "ArbiterIsParty"
    assert answer.json()["arguments"] == {"arbiter": role("licensor_brand").address}


def test_amendment_and_termination_are_relayed(client: TestClient, chain: Chain, services: Services) -> None:
    now = chain_time(chain)
    licence_id = register(client, terms_json(chain, now - DAY))
    amendment = {"schedule": {"effective_from": now + 10 * DAY, "rate_bps": 650}, "new_end": now + 730 * DAY}
    draft = client.post(f"/licences/{licence_id}/amendments/drafts", json=amendment).json()
    assert draft["version"] == 1
    answer = client.post(
        f"/licences/{licence_id}/amendments",
        json={**amendment, "deadline": draft["deadline"],
              "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    synced(services)
    licence = client.get(f"/licences/{licence_id}").json()
    assert [(v["version"], v["rate_bps"]) for v in licence["schedule_versions"]] == [(0, 800), (1, 650)]
    assert licence["end"] == now + 730 * DAY

    draft = client.post(f"/licences/{licence_id}/termination/drafts", json={}).json()
    wrong = client.post(
        f"/licences/{licence_id}/termination",
        json={"deadline": draft["deadline"], "licensor_signature": sign(draft["digest"], "licensee_apparel"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["party"] == "licensor"
    answer = client.post(
        f"/licences/{licence_id}/termination",
        json={"deadline": draft["deadline"], "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    synced(services)
    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["status"] == "terminated"
    assert licence["terminated_by_consent"] is True
    again = client.post(f"/licences/{licence_id}/termination/drafts", json={}).json()
    refused = client.post(
        f"/licences/{licence_id}/termination",
        json={"deadline": again["deadline"], "licensor_signature": sign(again["digest"], "licensor_brand"),
              "licensee_signature": sign(again["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"] == "LicenceNotActive"
    listed = client.get("/licences", params={"status": "terminated", "party": role("licensor_brand").address})
    assert licence_id in [item["id"] for item in listed.json()["items"]]


def test_dispute_is_relayed_and_its_resolution_indexed(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY, dispute_window=7 * DAY))
    fund(chain, licence_id, 20 * USDX)
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 2, 100 * USDX)])  # 8 USDX
    synced(services)
    pending = client.get(f"/settlements/{settlement_id}").json()
    assert (pending["state"], pending["paid"], pending["released"]) == ("pending", "8000000", "0")
    assert [p["amount"] for p in pending["payee_parts"]] == ["0", "0"]

    outsider = client.post(f"/settlements/{settlement_id}/disputes/drafts", json={"party": role("co_owner").address})
    assert outsider.status_code == 422 and outsider.json()["errors"][0]["field"] == "party"
    licensee = role("licensee_apparel").address
    draft = client.post(f"/settlements/{settlement_id}/disputes/drafts", json={"party": licensee}).json()
    assert draft["typed_data"]["primaryType"] == "DisputeSettlement"
    answer = client.post(
        f"/settlements/{settlement_id}/disputes",
        json={"party": licensee, "deadline": draft["deadline"], "signature": sign(draft["digest"], "licensee_apparel")},
    )
    assert answer.status_code == 201, answer.text

    # The arbiter settles on 5 USDX: 3 USDX go back to escrow.
    chain.ledger.resolve_dispute(settlement_id, 5 * USDX, role("arbiter"))
    synced(services)
    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["state"] == "final"
    assert got["dispute"]["disputed_by"] == licensee
    assert got["dispute"]["resolved_amount"] == "5000000"
    assert got["dispute"]["refunded"] == "3000000"
    assert got["dispute"]["resolved_by_arbiter"] is True
    assert (got["due"], got["paid"], got["tax_withheld"]) == ("5000000", "5000000", "500000")
    assert [p["amount"] for p in got["payee_parts"]] == ["2700000", "1800000"]
    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["escrow"] == "15000000" == str(chain.ledger.escrow_of(licence_id))


def test_resolution_signed_by_both_parties_is_relayed(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY, dispute_window=7 * DAY))
    fund(chain, licence_id, 20 * USDX)
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 2, 100 * USDX)])  # 8 USDX
    chain.ledger.dispute(settlement_id, role("licensee_apparel"))
    synced(services)

    draft = client.post(f"/settlements/{settlement_id}/resolution/drafts", json={"final_amount": "6000000"}).json()
    assert draft["typed_data"]["primaryType"] == "ResolveDispute"
    assert draft["typed_data"]["message"]["finalAmount"] == 6 * USDX
    body = {
        "final_amount": "6000000",
        "deadline": draft["deadline"],
        "licensor_signature": sign(draft["digest"], "licensor_brand"),
        "licensee_signature": sign(draft["digest"], "licensee_apparel"),
    }
    forged = client.post(
        f"/settlements/{settlement_id}/resolution", json={**body, "licensee_signature": body["licensor_signature"]}
    )
    assert forged.status_code == 422 and "licensee" in forged.json()["detail"]
    answer = client.post(f"/settlements/{settlement_id}/resolution", json=body)
    assert answer.status_code == 201, answer.text
    synced(services)
    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["state"] == "final"
    assert got["dispute"]["resolved_amount"] == "6000000"
    assert got["dispute"]["refunded"] == "2000000"
    assert got["dispute"]["resolved_by_arbiter"] is False
    assert chain.ledger.escrow_of(licence_id) == 14 * USDX


def test_an_amendment_in_decimals_is_the_same_amendment_as_in_units(
    client: TestClient, chain: Chain, services: Services
) -> None:
    """The one terms format for amendments too: "amounts": "decimal" reads every amount in the
    licence's currency (USDX, 6 decimals), so 12.5 is 12,500,000 units and the parties sign the
    same digest either way."""
    now = chain_time(chain)
    licence_id = register(client, terms_json(chain, now - DAY))
    synced(services)  # the licence's token is read from the index
    start, end = now + 10 * DAY, now + 730 * DAY
    in_units = {
        "schedule": {
            "effective_from": start, "rate_bps": 500, "fixed_fee_per_period": 12_500_000, "per_unit": 250_000,
            "minimum_guarantee": 150_000 * USDX, "tiers": [{"threshold": 100_000 * USDX, "rate_bps": 700}],
        },
        "new_end": end,
    }  # fmt: skip
    in_decimals = {
        "amounts": "decimal",
        "schedule": {
            "effective_from": start, "rate_bps": 500, "fixed_fee_per_period": "12.5", "per_unit": "0.25",
            "minimum_guarantee": "150000", "tiers": [{"threshold": "100000.000000", "rate_bps": 700}],
        },
        "new_end": end,
    }  # fmt: skip
    by_units = client.post(f"/licences/{licence_id}/amendments/drafts", json=in_units)
    by_decimals = client.post(f"/licences/{licence_id}/amendments/drafts", json=in_decimals)
    assert by_units.status_code == 200 and by_decimals.status_code == 200, by_decimals.text
    assert by_decimals.json()["schedule"] == by_units.json()["schedule"]
    assert by_decimals.json()["schedule"]["fixed_fee_per_period"] == "12500000"
    assert by_decimals.json()["schedule"]["tiers"] == [{"threshold": "100000000000", "rate_bps": 700}]
    deadline = by_units.json()["deadline"]
    signed = [
        client.post(f"/licences/{licence_id}/amendments/drafts", json={**body, "deadline": deadline}).json()["digest"]
        for body in (in_units, in_decimals)
    ]
    assert signed[0] == signed[1]

    too_fine = {**in_decimals, "schedule": {**in_decimals["schedule"], "per_unit": "0.0000001"}}
    refused = client.post(f"/licences/{licence_id}/amendments/drafts", json=too_fine)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "schedule.per_unit"
    assert "7 decimals" in refused.json()["errors"][0]["message"]
