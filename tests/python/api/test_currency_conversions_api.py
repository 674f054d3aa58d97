"""Sales in other currencies through the API (docs/currencies.md): the conversion clause is in the
terms both parties see and sign, and a report's conversions, checked and emitted by the ledger,
are read back exactly from the index with what each converted to."""

from __future__ import annotations

from pathlib import Path

from apikit import USDX, bucket, chain_time, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.indexer.db import make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.indexer.models import ConversionRow, LicenceRow
from api.services import Services
from royalty_chain.calendar import iso_date
from royalty_chain.client import Chain
from royalty_chain.terms import DAY, Conversion

RATE_SCALE = 10**18
EUR_RATE = 1_085_612_345_678_901_234  # 1.085612345678901234 USD per EUR
JPY_RATE = 6_712_345_678_901_234  # 0.006712345678901234 USD per JPY


def _converted(amount: int, rate: int, minor_units: int, token_decimals: int = 6) -> int:
    """The ledger's rule: floor(amount * rate * 10^tokenDecimals / (10^minorUnits * 10^18))."""
    return amount * rate * 10**token_decimals // (10**minor_units * RATE_SCALE)


def test_the_conversion_clause_is_shown_before_signing_and_read_back(client: TestClient, chain: Chain) -> None:
    start = chain_time(chain) - 31 * DAY
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "period-end", "source": "ECB"}}
    draft = client.post("/licences/drafts", json={"terms": terms})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    # The canonical terms name the clause in the terms format's words...
    assert body["terms"]["term"]["fx"] == {"rule": "period-end", "source": "ECB"}
    # ... and the wallet's typed data shows what is signed: the rule's number and the source's bytes16.
    calendar = body["typed_data"]["message"]["term"]["calendar"]
    assert (calendar["fxRule"], calendar["fxSource"]) == (2, "0x" + b"ECB".hex() + "00" * 13)
    assert {"name": "fxSource", "type": "bytes16"} in body["typed_data"]["types"]["Calendar"]

    # A licence without the clause shows none, as before.
    plain = client.post("/licences/drafts", json={"terms": terms_json(chain, start)}).json()
    assert "fx" not in plain["terms"]["term"]
    plain_calendar = plain["typed_data"]["message"]["term"]["calendar"]
    assert (plain_calendar["fxRule"], plain_calendar["fxSource"]) == (0, "0x" + "00" * 16)

    # Fixed contractual rates: the terms name the rule (and "contract" as its source by default);
    # the rates themselves are a table both parties sign apart (POST /licences/{id}/fixed-rates).
    fixed = client.post("/licences/drafts", json={"terms": {**terms, "term": {**terms["term"], "fx": {
        "rule": "fixed"}}}})  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["terms"]["term"]["fx"] == {"rule": "fixed", "source": "contract"}
    fixed_calendar = fixed.json()["typed_data"]["message"]["term"]["calendar"]
    assert (fixed_calendar["fxRule"], fixed_calendar["fxSource"]) == (4, "0x" + b"contract".hex() + "00" * 8)

    refused = client.post("/licences/drafts", json={"terms": {**terms, "term": {**terms["term"], "fx": {
        "rule": "floating", "source": "ECB"}}}})  # fmt: skip
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == "body.terms.term.fx.rule"
    assert error["message"].startswith("'floating' is not a conversion rule: use")


def test_a_reports_conversions_are_indexed_with_what_they_converted_to(
    client: TestClient, chain: Chain, services: Services
) -> None:
    start = chain_time(chain) - 31 * DAY  # period 0 (30 days) has ended
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "period-average", "source": "ECB"}}
    licence_id = register(client, terms)
    fund(chain, licence_id, 100_000 * USDX)
    first_day = -(-start // DAY) * DAY  # the period's first 00:00 UTC
    # Bucket 0: 250 USDX of US sales plus EUR and JPY sales; the return (bucket 1): EUR only.
    eur = Conversion(0, "EUR", 2, first_day, EUR_RATE, 12_345_678, 45_601)  # EUR 123,456.78 less 456.01
    jpy = Conversion(0, "JPY", 0, first_day, JPY_RATE, 9_876_543, 0)
    eur_back = Conversion(1, "EUR", 2, first_day + DAY, EUR_RATE, 100_000, 0)  # EUR 1,000.00 returned
    eur_gross, eur_deductions = _converted(12_345_678, EUR_RATE, 2), _converted(45_601, EUR_RATE, 2)
    jpy_gross = _converted(9_876_543, JPY_RATE, 0)
    back_gross = _converted(100_000, EUR_RATE, 2)
    assert (eur_gross, eur_deductions, jpy_gross, back_gross) == (
        134_026_204_525,  # EUR 123,456.78 * 1.085612345678901234 = USD 134,026.204525 76..., rounded down
        495_050_085,  # EUR 456.01 * 1.085612345678901234 = USD 495.050085 75...
        66_294_770_728,  # JPY 9,876,543 * 0.006712345678901234 = USD 66,294.770728 53...
        1_085_612_345,  # EUR 1,000.00 * 1.085612345678901234 = USD 1,085.612345 67...
    )
    gross = 250 * USDX + eur_gross + jpy_gross
    settlement_id = settle(
        chain,
        licence_id,
        0,
        [bucket("US", "apparel", "retail", 40, gross, eur_deductions)],
        returned=(bucket("US", "apparel", "retail", 1, back_gross),),
        fx=(eur, jpy, eur_back),
    )
    synced(services)

    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["conversions"] == [
        {"bucket": 0, "currency": "EUR", "minor_units": 2, "rate_day": first_day, "rate": str(EUR_RATE),
         "gross": "12345678", "deductions": "45601", "converted_gross": str(eur_gross),
         "converted_deductions": str(eur_deductions)},
        {"bucket": 0, "currency": "JPY", "minor_units": 0, "rate_day": first_day, "rate": str(JPY_RATE),
         "gross": "9876543", "deductions": "0", "converted_gross": str(jpy_gross), "converted_deductions": "0"},
        {"bucket": 1, "currency": "EUR", "minor_units": 2, "rate_day": first_day + DAY, "rate": str(EUR_RATE),
         "gross": "100000", "deductions": "0", "converted_gross": str(back_gross), "converted_deductions": "0"},
    ]  # fmt: skip
    # The buckets hold the converted parts: 8% of the net in token units, less the return's.
    net = gross - eur_deductions - back_gross
    assert got["royalty"] == str(net * 800 // 10_000)
    assert [b["gross"] for b in got["buckets"]] == [str(gross)]
    assert [r["gross"] for r in got["returns"]] == [str(back_gross)]

    # The statement of the contract year shows each currency's sales, the rate, its source, rule
    # and day, and what they converted to; the currency totals sum the sales (not the return).
    statement = client.get(f"/licences/{licence_id}/statement", params={"year": 0})
    assert statement.status_code == 200, statement.text
    day = iso_date(first_day)
    shown = [
        (c["settlement_id"], c["returned"], c["currency"], c["gross"], c["deductions"], c["rate"], c["rate_source"],
         c["rate_rule"], c["rate_date"], c["converted_gross"], c["converted_deductions"])
        for c in statement.json()["conversions"]
    ]  # fmt: skip
    assert shown == [
        (settlement_id, False, "EUR", "12345678", "45601", "1.085612345678901234", "ECB", "period-average", day,
         str(eur_gross), str(eur_deductions)),
        (settlement_id, False, "JPY", "9876543", "0", "0.006712345678901234", "ECB", "period-average", day,
         str(jpy_gross), "0"),
        (settlement_id, True, "EUR", "100000", "0", "1.085612345678901234", "ECB", "period-average",
         iso_date(first_day + DAY), str(back_gross), "0"),
    ]  # fmt: skip
    assert statement.json()["currency_totals"] == [
        {"currency": "EUR", "minor_units": 2, "gross": "12345678", "deductions": "45601",
         "converted_gross": str(eur_gross), "converted_deductions": str(eur_deductions)},
        {"currency": "JPY", "minor_units": 0, "gross": "9876543", "deductions": "0",
         "converted_gross": str(jpy_gross), "converted_deductions": "0"},
    ]  # fmt: skip
    page = client.get(f"/ui/licences/{licence_id}/statement", params={"year": 0})
    assert page.status_code == 200
    assert "Sales in other currencies" in page.text and "1.085612345678901234" in page.text

    # The CSV: the statement's table as before, a blank line, then the conversions' section with
    # the JSON's figures, amounts in the currency also written with its exponent, and for
    # period-average the period the rate averages (its first to its last day).
    averaged = f"{day}..{iso_date(first_day + 29 * DAY)}"  # period 0: 30 days from its first 00:00 UTC
    assert [c["rate_dates"] for c in statement.json()["conversions"]] == [averaged] * 3
    text = client.get(f"/licences/{licence_id}/statement", params={"year": 0, "format": "csv"}).text
    table, section = text.split("\n\n")
    assert table.splitlines()[0].startswith("period,period_name,period_start,")
    name = statement.json()["rows"][0]["period_name"]
    assert section.splitlines() == [
        "section,period,period_name,settlement_id,kind,returned,currency,minor_units,gross,deductions,"
        "gross_minor_units,deductions_minor_units,rate,rate_source,rate_rule,rate_date,rate_dates,converted_gross,"
        "converted_deductions,rate_table,rate_table_agreed",
        f"conversion,0,{name},{settlement_id},report,no,EUR,2,123456.78,456.01,12345678,45601,1.085612345678901234,"
        f"ECB,period-average,{day},{averaged},{eur_gross},{eur_deductions},,",
        f"conversion,0,{name},{settlement_id},report,no,JPY,0,9876543,0,9876543,0,0.006712345678901234,"
        f"ECB,period-average,{day},{averaged},{jpy_gross},0,,",
        f"conversion,0,{name},{settlement_id},report,yes,EUR,2,1000.00,0.00,100000,0,1.085612345678901234,"
        f"ECB,period-average,{iso_date(first_day + DAY)},{averaged},{back_gross},0,,",
        f"currency_total,,total,,,no,EUR,2,123456.78,456.01,12345678,45601,,,,,,{eur_gross},{eur_deductions},,",
        f"currency_total,,total,,,no,JPY,0,9876543,0,9876543,0,,,,,,{jpy_gross},0,,",
    ]

    licence = client.get(f"/licences/{licence_id}").json()
    assert licence["calendar"]["fx"] == {"rule": "period-average", "source": "ECB"}
    assert licence["terms"]["term"]["fx"] == {"rule": "period-average", "source": "ECB"}  # as registered
    assert licence["calendar"]["words"].endswith(
        "sales in other currencies converted at ECB rates averaged over the period"
    )


def test_a_settlement_without_conversions_lists_none(client: TestClient, chain: Chain, services: Services) -> None:
    licence_id = register(client, terms_json(chain, chain_time(chain) - 31 * DAY))
    fund(chain, licence_id, 100 * USDX)
    settlement_id = settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 10 * USDX)])
    synced(services)
    got = client.get(f"/settlements/{settlement_id}").json()
    assert got["conversions"] == []
    assert got["royalty"] == str(10 * USDX * 800 // 10_000)
    assert client.get(f"/licences/{licence_id}").json()["calendar"]["fx"] is None
    # Its CSV statement is the table alone, as before conversions existed: no section after it.
    text = client.get(f"/licences/{licence_id}/statement", params={"year": 0, "format": "csv"}).text
    assert "\n\n" not in text and "conversion" not in text
    assert text.splitlines()[-1].startswith("-1,total,")


def test_a_reorg_replays_a_licences_conversions(client: TestClient, chain: Chain, tmp_path: Path) -> None:
    """A reorg touching a licence replays its projections from the stored events: its reports'
    conversions come back once each, as the chain holds them."""
    start = chain_time(chain) - 31 * DAY
    terms = terms_json(chain, start)
    terms["term"] = {**terms["term"], "fx": {"rule": "sale-date", "source": "ECB"}}
    licence_id = register(client, terms)
    fund(chain, licence_id, 1_000 * USDX)
    day = -(-start // DAY) * DAY
    converted = _converted(5_000, EUR_RATE, 2)  # EUR 50.00 = USD 54.280617 28...
    assert converted == 54_280_617
    settlement_id = settle(
        chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 10 * USDX + converted)],
        fx=(Conversion(0, "EUR", 2, day, EUR_RATE, 5_000, 0),),
    )  # fmt: skip
    fund(chain, licence_id, 1 * USDX)  # its deposit is the block the reorg replaces
    sessions = make_sessions(make_engine(tmp_path / "index.sqlite"))
    indexer = Indexer(chain.transport, chain.manifest, sessions)
    indexer.sync()

    def conversions() -> list[tuple[int, int, str, int, int]]:
        with sessions() as session:
            rows = session.scalars(select(ConversionRow).where(ConversionRow.settlement_id == settlement_id))
            return [(r.position, r.bucket, r.currency, r.gross, r.converted_gross) for r in rows]

    assert conversions() == [(0, 0, "EUR", 5_000, converted)]
    head = chain.w3.eth.block_number
    chain.w3.provider.make_request("anvil_reorg", [1, []])  # type: ignore[arg-type]
    report = indexer.sync()
    assert report.rolled_back_to is not None and report.rolled_back_to < head  # the licence was replayed
    assert conversions() == [(0, 0, "EUR", 5_000, converted)]
    royalty = (10 * USDX + converted) * 800 // 10_000
    with sessions() as session:
        licence = session.get(LicenceRow, licence_id)
        assert licence is not None and licence.escrow == 1_000 * USDX - royalty  # the 1 USDX deposit is gone
