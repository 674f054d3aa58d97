"""Register through the API, settle on Anvil, read every figure back exactly from the index."""

from __future__ import annotations

from apikit import USDX, bucket, chain_time, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY

LICENSOR = role("licensor_brand").address
CO_OWNER = role("co_owner").address
TAX = role("tax_authority").address


def test_registered_licence_settles_and_reads_back_exactly(
    client: TestClient, chain: Chain, services: Services
) -> None:
    start = chain_time(chain) - 31 * DAY  # period 0 has ended
    terms = terms_json(chain, start)
    before = chain.registry.licence_count()
    licence_id = register(client, terms)
    assert chain.registry.licence_count() == before + 1

    fund(chain, licence_id, 50 * USDX)
    # 8% of GB apparel online 1,234,567,891 = 98,765,431; the FR bucket is outside the scope.
    settlement_id = settle(
        chain,
        licence_id,
        0,
        [bucket("GB", "apparel", "online", 3, 1_234_567_891), bucket("FR", "apparel", "online", 1, 500 * USDX)],
    )
    synced(services)

    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["royalty"] == "98765431"
    assert got["due"] == "98765431"
    assert got["paid"] == "50000000"  # all the escrow there was
    assert got["arrears"] == "48765431"
    assert got["tax_withheld"] == "5000000"  # 10% of the 50,000,000 released
    # 45,000,000 to payees: the first half of the list (payee 0) floor(45e6 * 60%), the second the rest.
    assert [(p["account"], p["amount"]) for p in got["payee_parts"]] == [
        (LICENSOR, "27000000"),
        (CO_OWNER, "18000000"),
    ]
    assert got["state"] == "final"
    assert got["kind"] == "report"
    assert got["lines_root"] == "0x" + "05" * 32
    assert got["line_count"] == 3
    assert got["buckets"] == [
        {"year": 0, "territory": "GB", "field": "apparel", "channel": "online", "units": "3",
         "gross": "1234567891", "deductions": "0", "net": "1234567891", "in_scope": True},
        {"year": 0, "territory": "FR", "field": "apparel", "channel": "online", "units": "1",
         "gross": "500000000", "deductions": "0", "net": "500000000", "in_scope": False},
    ]  # fmt: skip
    assert got["scope_breaches"] == 1
    assert got["schedule"]["version"] == 0 and got["schedule"]["rate_bps"] == 800

    # The deposit pays the arrears first; the release of the rest is taxed on the increment.
    fund(chain, licence_id, 100 * USDX)
    synced(services)
    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["paid"] == "98765431"
    assert got["arrears"] == "0"
    assert got["tax_withheld"] == "9876543"  # floor(98,765,431 * 10%)
    # distributed 88,888,888: payee 0 floor(88,888,888 * 60%) = 53,333,332; payee 1 the rest.
    assert [p["amount"] for p in got["payee_parts"]] == ["53333332", "35555556"]

    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["escrow"] == str(150 * USDX - 98_765_431) == str(chain.ledger.escrow_of(licence_id))
    assert licence["arrears"] == "0" == str(chain.ledger.arrears_of(licence_id))
    assert licence["totals"]["royalty"] == "98765431"
    assert licence["tax"]["withheld"] == "9876543" == str(chain.ledger.tax_claimable(licence_id))
    by_account = {p["account"]: p for p in licence["payees"]}
    assert by_account[LICENSOR]["claimable"] == "53333332" == str(chain.ledger.claimable(licence_id, LICENSOR))
    assert by_account[CO_OWNER]["claimable"] == "35555556" == str(chain.ledger.claimable(licence_id, CO_OWNER))
    assert licence["status"] == "active"
    assert licence["scope_breaches"] == 1
    assert licence["terms"]["scope"] == {
        "territories": ["GB", "US"],
        "fields": ["apparel"],
        "channels": ["retail", "online"],
    }
    assert licence["terms"]["salt"] == terms["salt"]
    assert licence["next_minimum_guarantee_date"] is None  # no guarantee in these terms

    # A withdrawal shows up in the balances.
    chain.ledger.withdraw(licence_id, CO_OWNER, role("relayer"))
    synced(services)
    party = client.get(f"/parties/{CO_OWNER}").json()
    mine = next(lic for lic in party["licences"] if lic["id"] == licence_id)
    assert mine["roles"] == ["payee"]
    assert mine["balance"] == {"entitled": "35555556", "withdrawn": "35555556", "claimable": "0"}
    assert any(s["settlement_id"] == settlement_id and s["amount"] == "35555556" for s in party["settlements"])
    tax_party = client.get(f"/parties/{TAX}").json()
    mine = next(lic for lic in tax_party["licences"] if lic["id"] == licence_id)
    assert mine["tax_balance"]["claimable"] == "9876543"

    page = client.get(f"/licences/{licence_id}/settlements").json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == settlement_id


def test_advance_is_recouped_before_anything_is_due(client: TestClient, chain: Chain, services: Services) -> None:
    start = chain_time(chain) - 61 * DAY
    token = chain.token(chain.manifest.token("USDX").address)
    licensee = role("licensee_apparel")
    token.mint(licensee.address, 10 * USDX, licensee)
    token.approve(chain.ledger.address, 10 * USDX, licensee)
    licence_id = register(
        client,
        terms_json(chain, start, advance="10000000", tax_bps=0, tax_account=None,
                   schedule={"rate_bps": 500, "minimum_guarantee": "1000000000"}),
    )  # fmt: skip
    first = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 150 * USDX)])  # 7.5 USDX
    second = settle(chain, licence_id, 1, [bucket("US", "apparel", "retail", 1, 100 * USDX)])  # 5 USDX
    synced(services)
    one = client.get(f"/settlements/{first}").json()
    two = client.get(f"/settlements/{second}").json()
    assert (one["royalty"], one["recouped"], one["due"], one["arrears"]) == ("7500000", "7500000", "0", "0")
    assert (two["royalty"], two["recouped"], two["due"], two["arrears"]) == ("5000000", "2500000", "2500000", "2500000")
    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["advance"] == "10000000"
    assert licence["advance_left"] == "0"
    assert licence["arrears"] == "2500000" == str(chain.ledger.arrears_of(licence_id))
    assert licence["minimum_guarantee"] == "1000000000"
    assert licence["contract_year"] == 0
    assert licence["next_minimum_guarantee_date"] == start + 365 * DAY
    # The advance itself was a settlement, credited to the payees at once: 10 USDX split 60/40.
    page = client.get(f"/licences/{licence_id}/settlements").json()
    assert [s["kind"] for s in page["items"]] == ["report", "report", "advance"]
    assert [p["amount"] for p in page["items"][2]["payee_parts"]] == ["6000000", "4000000"]
