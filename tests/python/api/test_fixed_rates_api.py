"""Fixed contractual exchange rates through the API (docs/currencies.md): both parties sign a table
of rates for a fixed-rate licence (drafted, relayed, read back); every rate the table or LicenceFx
would refuse is a 422 naming it, with nothing sent; the ledger then settles that licence's
conversions only at the agreed rates, and the statement shows them with their source.

Figures (token USDX, 6 decimals; licence 8% of net sales):
- EUR at 1.08 and JPY at 0.0065 (times 10^18: 1,080,000,000,000,000,000 and 6,500,000,000,000,000);
- EUR 1,000.00 = 100,000 cents x 1.08 = 1,080.00 USD = 1,080,000,000 units;
- JPY 20,000 x 0.0065 = 130.00 USD = 130,000,000 units;
- bucket: 200,000,000 (USD) + 1,080,000,000 + 130,000,000 = 1,410,000,000; royalty 8% = 112,800,000.
"""

from __future__ import annotations

from typing import Any

from apikit import USDX, bucket, chain_time, fund, register, settle, sign, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from royalty_chain.calendar import iso_date
from royalty_chain.client import Chain, ContractRevert
from royalty_chain.terms import DAY, Conversion

EUR_108 = 1_080_000_000_000_000_000
JPY_0065 = 6_500_000_000_000_000


def _fixed_licence(client: TestClient, chain: Chain, services: Services) -> tuple[int, int]:
    start = chain_time(chain) - 31 * DAY  # period 0 (30 days) has ended
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "fixed"}}
    licence_id = register(client, terms)
    synced(services)  # the table's route reads the licence's token from the index
    return licence_id, start


def _agree(client: TestClient, licence_id: int, body: dict[str, Any]) -> tuple[Any, Any]:
    draft = client.post(f"/licences/{licence_id}/fixed-rates/drafts", json=body)
    assert draft.status_code == 200, draft.text
    got = draft.json()
    return got, client.post(
        f"/licences/{licence_id}/fixed-rates",
        json={
            "rates": got["rates"],
            "effective_from": got["effective_from"],
            "deadline": got["deadline"],
            "licensor_signature": sign(got["digest"], "licensor_brand"),
            "licensee_signature": sign(got["digest"], "licensee_apparel"),
        },
    )


def test_a_table_is_drafted_relayed_and_read_back(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id, start = _fixed_licence(client, chain, services)
    assert client.get(f"/licences/{licence_id}/fixed-rates").json() == {
        "licence_id": licence_id, "rule": "fixed", "source": "contract", "tables": [],
    }  # fmt: skip

    draft, agreed = _agree(client, licence_id, {"rates": {"JPY": "0.00650", "EUR": "1.08"}})
    # The canonical table: ascending codes, each rate written exactly; the first in force from the start.
    assert (draft["version"], draft["effective_from"]) == (0, start)
    assert draft["rates"] == {"EUR": "1.08", "JPY": "0.0065"}
    message = draft["typed_data"]["message"]
    assert draft["typed_data"]["primaryType"] == "AgreeFixedRates"
    assert message["rates"] == [
        {"currency": "0x" + b"EUR".hex(), "rate": str(EUR_108)},
        {"currency": "0x" + b"JPY".hex(), "rate": JPY_0065},
    ]
    expected = chain.fx.agree_digest(licence_id, 0, start, {"EUR": EUR_108, "JPY": JPY_0065}, draft["deadline"])
    assert draft["digest"] == "0x" + expected.hex()
    assert agreed.status_code == 201, agreed.text

    shown = client.get(f"/licences/{licence_id}/fixed-rates").json()
    assert shown["tables"] == [
        {"version": 0, "effective_from": start, "effective_from_date": iso_date(start), "rates": [
            {"currency": "EUR", "rate": "1.08", "rate_scaled": str(EUR_108)},
            {"currency": "JPY", "rate": "0.0065", "rate_scaled": str(JPY_0065)},
        ]},
    ]  # fmt: skip

    # The same signatures cannot agree the next version (it is in the digest): the contract says so.
    again = client.post(
        f"/licences/{licence_id}/fixed-rates",
        json={"rates": draft["rates"], "effective_from": start, "deadline": draft["deadline"],
              "licensor_signature": sign(draft["digest"], "licensor_brand"),
              "licensee_signature": sign(draft["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert again.status_code == 422, again.text
    assert again.json()["type"] == "/problems/signature-invalid"
    assert chain.fx.table_count(licence_id) == 1


def test_bad_tables_are_refused_naming_the_rate(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id, start = _fixed_licence(client, chain, services)
    cases = [
        ({"XYZ": "1.0"}, "body.rates", "'XYZ' is not an ISO 4217 currency sales can be in"),
        ({"XAU": "2000"}, "body.rates", "'XAU' is not an ISO 4217 currency sales can be in"),
        ({"EUR": "0"}, "body.rates", "the rate of EUR, '0', is zero; a rate is at least 0.000000001 (MIN_RATE)"),
        ({"EUR": "-1.08"}, "body.rates",
         "the rate of EUR, '-1.08', has a sign; a rate is a positive decimal such as 1.0856"),
        ({"EUR": "1e3"}, "body.rates",
         "the rate of EUR, '1e3', is in exponent notation; write a plain decimal such as 1.0856"),
        ({"EUR": "1.0000000000000000001"}, "body.rates",
         "the rate of EUR, '1.0000000000000000001', has 19 decimals; at most 18 allowed"),
        ({"EUR": "1000000001"}, "body.rates",
         "the rate of EUR, '1000000001', is above the maximum rate 1000000000 (MAX_RATE)"),
        # Known only with the licence's token (so not a field of the request's schema).
        ({"USD": "1"}, "rates.USD", "USD is the licence's own currency: its rate is 1 by definition"),
    ]  # fmt: skip
    for rates, field, message in cases:
        answer = client.post(f"/licences/{licence_id}/fixed-rates/drafts", json={"rates": rates})
        assert answer.status_code == 422, (rates, answer.text)
        assert answer.json()["errors"] == [{"field": field, "message": message}], rates

    # LicenceFx's own rule, before anything is sent: the first table is in force from the start.
    later = client.post(
        f"/licences/{licence_id}/fixed-rates/drafts", json={"rates": {"EUR": "1.08"}, "effective_from": start + DAY}
    ).json()
    refused = client.post(
        f"/licences/{licence_id}/fixed-rates",
        json={"rates": later["rates"], "effective_from": later["effective_from"], "deadline": later["deadline"],
              "licensor_signature": sign(later["digest"], "licensor_brand"),
              "licensee_signature": sign(later["digest"], "licensee_apparel")},
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "FixedRatesEffectiveInvalid"
    assert refused.json()["arguments"] == {"effectiveFrom": str(start + DAY), "required": str(start)}
    assert chain.fx.table_count(licence_id) == 0

    # A licence converting at the ECB's rates has no table to agree.
    ecb = terms_json(chain, start)
    ecb["term"] = {**ecb["term"], "fx": {"rule": "period-end", "source": "ECB"}}
    ecb_id = register(client, ecb)
    synced(services)
    _, answer = _agree(client, ecb_id, {"rates": {"EUR": "1.08"}})
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["arguments"]) == (
        "NotFixedRateLicence",
        {"licenceId": str(ecb_id), "fxRule": "2"},
    )


def test_the_ledger_settles_only_at_the_agreed_rates(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id, start = _fixed_licence(client, chain, services)
    fund(chain, licence_id, 10_000 * USDX)
    _, agreed = _agree(client, licence_id, {"rates": {"EUR": "1.08", "JPY": "0.0065"}})
    assert agreed.status_code == 201, agreed.text
    agreed_day = iso_date(int(chain.w3.eth.get_block(agreed.json()["block_number"])["timestamp"]))
    # Table 1, from period 1 (30 days after the start), is the latest version but not in force in
    # period 0: period 0's conversions stay at table 0's rates and the statement names table 0.
    later = _agree(client, licence_id, {"rates": {"EUR": "1.10"}, "effective_from": start + 30 * DAY})[1]
    assert later.status_code == 201, later.text
    first_day = -(-start // DAY) * DAY
    eur = Conversion(0, "EUR", 2, first_day, EUR_108, 100_000, 0)
    jpy = Conversion(0, "JPY", 0, first_day, JPY_0065, 20_000, 0)
    gross = 200 * USDX + 1_080_000_000 + 130_000_000
    # A rate other than the table's is the ledger's FixedRateMismatch, naming both.
    ecb_rate = Conversion(0, "EUR", 2, first_day, 1_085_600_000_000_000_000, 100_000, 0)
    try:
        settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 3, 200 * USDX + 1_085_600_000)], fx=(ecb_rate,))
    except ContractRevert as revert:
        assert (revert.error, tuple(revert.args)) == (
            "FixedRateMismatch",
            (0, b"EUR", 1_085_600_000_000_000_000, EUR_108),
        )
    else:
        raise AssertionError("a rate other than the agreed one settled")
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 3, gross)], fx=(eur, jpy))
    synced(services)
    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["royalty"] == "112800000"
    statement = client.get(f"/licences/{licence_id}/statement", params={"year": 0}).json()
    shown = [
        (c["currency"], c["gross"], c["rate"], c["rate_source"], c["rate_rule"], c["rate_date"], c["converted_gross"])
        for c in statement["conversions"]
    ]
    assert shown == [
        ("EUR", "100000", "1.08", "contract", "fixed", iso_date(first_day), "1080000000"),
        ("JPY", "20000", "0.0065", "contract", "fixed", iso_date(first_day), "130000000"),
    ]
    assert [(c["rate_table"], c["rate_table_agreed"]) for c in statement["conversions"]] == [(0, agreed_day)] * 2
    csv = client.get(f"/licences/{licence_id}/statement", params={"year": 0, "format": "csv"}).text.splitlines()
    conversions = csv[csv.index(next(line for line in csv if line.startswith("section,"))) :]
    assert conversions[0].endswith(",converted_gross,converted_deductions,rate_table,rate_table_agreed")
    assert conversions[1].endswith(f",1080000000,0,0,{agreed_day}") and conversions[1].startswith("conversion,0,")
