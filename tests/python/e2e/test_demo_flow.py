"""The `make run` demo end to end, on Anvil and on Ganache: the same inputs settle identically.

Registration from both parties' signatures, the oracle over feeds with good and bad lines,
settlement of calendar quarters (a nil report for a quarter without sales), a guarantee charge,
a dispute, a late payment charged interest, a withdrawal and a breach notice; then everything
again, which must change nothing. Interest runs to the second the chain paid, so the figures it
moves (the trademark licence's interest and arrears) are checked by their formula, not by value.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console

from api.app import create_app
from api.services import build_services
from api.settings import ApiSettings
from intake.merkle import verify
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.models import Kind

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from _demo import DemoResult, load_demo  # noqa: E402

EXPECTED_REJECTIONS = [
    "line 157: sale_date '2025-13-01' is not a date: there is no month 13",
    "line 158: units '-5' is negative",
    "line 159: territory 'XX' is not an ISO 3166-1 alpha-2 code",
    "line 160: gross '100.0000001' has 7 decimals; at most 6 allowed",
    "line 161: currency 'EUR' is not the licence's currency USD, and the licence's terms convert nothing (its "
    "conversion rule is none)",
]


def _run(chain: Chain, tmp_path: Path) -> DemoResult:
    return load_demo(chain, ROOT / "examples", tmp_path, Console(file=open("/dev/null", "w")))


def _figures(result: DemoResult) -> list[tuple[str, str, int, int, str, str, str]]:
    """What the same inputs settle identically anywhere: arrears are left out where interest (which
    depends on the second of each payment) moved them."""
    return [
        (r.name, r.status, r.settled, r.nil_reports, r.royalty, r.arrears if r.interest == "0" else "-", r.escrow)
        for r in result.rows
    ]


@pytest.fixture(scope="module")
def anvil_demo(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> tuple[Chain, DemoResult, Path]:
    data = tmp_path_factory.mktemp("demo-anvil")
    return chain, _run(chain, data), data


def test_demo_settles_every_ended_period_and_rejects_bad_lines(anvil_demo: tuple[Chain, DemoResult, Path]) -> None:
    chain, result, data = anvil_demo
    assert [(r.name, r.settled) for r in result.rows] == [
        ("acme-trademark", 7),
        ("atelier-design", 7),
        ("geodata-dataset", 7),
        ("lumen-model", 7),
        ("northwind-audio", 7),
        ("voltcell-patent", 7),
    ]
    statuses = {r.name: r.status for r in result.rows}
    assert statuses["lumen-model"] == "expired"  # ended 1 July 2026, its sell-off sales still settled
    notes = "\n".join(result.notes)
    for rejection in EXPECTED_REJECTIONS:
        assert rejection in notes
    assert "was seen before with different content" in notes
    assert "voltcell-patent: minimum-guarantee shortfall of contract year 0 charged" in notes
    assert "the licensee disputed settlement" in notes
    # GeoData sold nothing in the third quarter of 2025: the oracle settled it by a nil report.
    assert "geodata-dataset: 2025-Q3 had no sales: settled by a nil report" in notes
    (review,) = [n for n in result.notes if n.startswith("geodata-dataset: rate review ")]
    assert review.endswith(
        "opened by the benchmark DATA-LIC-RATE 4.00 -> 4.60: base rate 200 bps -> 230 bps suggested, "
        "awaiting both parties' signatures"
    )
    # The oracle fired it from the benchmark file it loaded (4.60 dated the chain's day, after the
    # clause), its evidence sent by the oracle's sender; nobody signed evidence by hand.
    geodata = next(r for r in result.rows if r.name == "geodata-dataset")
    (opened,) = chain.reviews.events("ReviewOpened", licenceId=geodata.licence_id)
    assert chain.w3.eth.get_transaction(opened.tx_hash)["from"] == role("oracle_sender").address
    outbox = Outbox(data / "oracle" / "outbox.sqlite")
    try:
        with outbox.connect() as conn:
            latest = outbox.latest_benchmark(conn, "DATA-LIC-RATE")
            assert latest is not None and (latest.text, latest.file_name) == ("4.60", "data-lic-rate.csv")
            assert [h for h in outbox.review_holds(conn) if h.licence_id == geodata.licence_id] == []
    finally:
        outbox.close()
    assert {r.name: r.nil_reports for r in result.rows}["geodata-dataset"] == 1
    # VoltCell's licensee returned 3 units of a 2025-Q2 sale (a credit note: -3 units,
    # -1,953.72 gross, -58.61 deductions), netted in 2025-Q2.
    assert "voltcell-patent: returns of 3 unit(s), 1953.72 gross, netted in their period" in notes
    # Then a late 2025-Q1 line and a corrected one (VOLTCELL-00003: 16 units, 10,837.92 -> 18 units,
    # 12,192.66) arrived after 2025-Q1 settled: one adjustment report carries both.
    assert {r.name: r.adjustments for r in result.rows}["voltcell-patent"] == 1
    # Only the difference is priced, at 2025's tier position: 113 lines of 2025 less the return put
    # 2,006,651.95 of net sales in the year, inside the 4.5% tier (1,000,000 to 3,000,000). The
    # adjustment adds 3,353.13 (late) + 12,070.73 (new VOLTCELL-00003) and takes back 10,729.55
    # (its old value): +4,694.31 x 4.5% = 211.24395.
    adjusted = [n for n in result.notes if n.startswith("voltcell-patent: 2025-Q1 corrected by adjustment")]
    assert len(adjusted) == 1 and adjusted[0].endswith(": 211.24395 more"), adjusted
    # An audit of 2025-Q3 found two unreported sales: 30,000.00 - 300.00 + 18,500.00 - 185.00 =
    # 48,015.00 of net sales, at the year's 4.5% tier position: 2,160.675 underpaid, more than 5%
    # of the quarter's settled royalty, so the audit's cost is the licensee's.
    (audit,) = [n for n in result.notes if n.startswith("voltcell-patent: audit of 2025-Q3")]
    assert audit.startswith("voltcell-patent: audit of 2025-Q3 found 2160.675 underpaid against ")
    assert audit.endswith("above the 5% threshold: audit cost 2500 charged"), audit
    voltcell = next(r.licence_id for r in result.rows if r.name == "voltcell-patent")
    settled = chain.ledger.events("Settled", licenceId=voltcell)
    (cost,) = [e for e in settled if e.args["kind"] == Kind.AUDIT_COST]
    assert int(cost.args["royalty"]) == int(cost.args["due"]) == 2_500 * 10**6
    # 10% of every payment VoltCell's reports made is held back two quarters: each reserve is
    # floor(10% x what its report had to pay), the report paying the other 90%; a reserve is
    # released at the end of the quarter two after its own (the keeper's call ran at the end).
    reports = {int(e.args["settlementId"]): e for e in settled}
    reserves = [e for e in settled if e.args["kind"] == Kind.RESERVE]
    assert reserves
    for reserve in reserves:
        reserve_id = int(reserve.args["settlementId"])
        (held,) = chain.ledger.events("ReserveHeld", reserveId=reserve_id)
        payable = int(reports[int(held.args["settlementId"])].args["due"]) + int(held.args["amount"])
        assert int(held.args["amount"]) == payable * 1_000 // 10_000
        stored = chain.ledger.settlement(reserve_id)
        release_at = chain.registry.settlement_context(voltcell).rule().period_bounds(stored.period + 2)[1]
        assert stored.dispute_until == release_at
        released = release_at <= int(chain.w3.eth.get_block("latest")["timestamp"])
        assert (stored.state.label, stored.released) == (("final", stored.paid) if released else ("held", 0))
    acme = next(r for r in result.rows if r.name == "acme-trademark")
    # The licensee deposited 5,000 at signing and 1,000 late: royalty and interest above that are
    # arrears, and the licensor took all that was paid (one payee, no tax).
    assert "acme-trademark: the licensee paid 1000.00 of its arrears after their due dates" in notes
    assert Decimal(acme.royalty) + Decimal(acme.interest) - Decimal(acme.arrears) == Decimal(6000)
    assert Decimal(acme.interest) > 0 and acme.escrow == "0"
    brand = role("licensor_brand").address
    # acme's own withdrawals only: other tests on the same chain pay this payee too.
    withdrawn = [
        w for w in chain.ledger.events("Withdrawn", account=brand) if int(w.args["licenceId"]) == acme.licence_id
    ]
    assert sum(int(w.args["amount"]) for w in withdrawn) == 6_000 * 10**6
    # Each charge is floor(principal * 1,200 * seconds late / (10,000 * 365 days)), from the due date
    # of the settlement it is on (its quarter's end + 30 days) to the payment.
    charges = chain.ledger.events("InterestCharged", licenceId=acme.licence_id)
    assert charges and all(c.args["rateBps"] == 1200 for c in charges)
    for charge in charges:
        a = charge.args
        assert a["interest"] == a["principal"] * 1200 * (a["to"] - a["from"]) // (10_000 * 365 * 86_400)
        assert a["from"] == chain.ledger.settlement(a["onSettlementId"]).due_at


def test_demo_again_changes_nothing(anvil_demo: tuple[Chain, DemoResult, Path]) -> None:
    chain, first, data = anvil_demo
    settlements_before = chain.ledger.settlement_count()
    licences_before = chain.registry.licence_count()
    second = _run(chain, data)
    assert _figures(second) == _figures(first)
    assert chain.ledger.settlement_count() == settlements_before
    assert chain.registry.licence_count() == licences_before


def test_ganache_settles_exactly_like_anvil(
    anvil_demo: tuple[Chain, DemoResult, Path], ganache_chain: Chain, tmp_path: Path
) -> None:
    _, on_anvil, _ = anvil_demo
    on_ganache = _run(ganache_chain, tmp_path)
    assert _figures(on_ganache) == _figures(on_anvil)


def _api_readback(chain: Chain, data: Path, result: DemoResult) -> dict[str, object]:
    """What the API shows after indexing the chain: each licence's totals, a proof, a page."""
    manifest = data / "manifest.json"
    chain.manifest.save(manifest)
    settings = ApiSettings(
        rpc_url=chain.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        manifest=manifest,
        database_url=str(data / "index.sqlite"),
        data_dir=data,
        run_indexer=False,
        oracle_outbox=data / "oracle" / "outbox.sqlite",
        operator_token=SecretStr("operator"),
    )
    services = build_services(settings)
    try:
        services.indexer.sync()
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            shown: dict[str, object] = {}
            for row in result.rows:
                licence = client.get(f"/licences/{row.licence_id}").json()
                answer = client.get(f"/licences/{row.licence_id}/settlements", params={"limit": 100})
                assert answer.status_code == 200, answer.text
                settlements = answer.json()
                reports = [s for s in settlements["items"] if s["kind"] == "report"]
                shown[row.name] = (len(reports), licence["arrears"], licence["escrow"])
            acme = next(r for r in result.rows if r.name == "acme-trademark")
            first = client.get(f"/licences/{acme.licence_id}/settlements", params={"limit": 100}).json()["items"][-1]
            proof = client.get(f"/settlements/{first['id']}/lines/ACME-00001/proof")
            assert proof.status_code == 200, proof.text
            body = proof.json()
            assert verify(
                [bytes.fromhex(p[2:]) for p in body["proof"]],
                bytes.fromhex(body["lines_root"][2:]),
                bytes.fromhex(body["leaf"][2:]),
            )
            # An upload for a period the oracle already reported is valid, as in the CLI: it goes into
            # an adjustment of the period.
            upload = client.post(
                "/feeds",
                headers={"Authorization": "Bearer operator", "Content-Type": "text/csv"},
                content=(
                    "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency\n"
                    f"LATE-1,{acme.licence_id},2025-01-02,US,apparel,retail,1,10.00,0,USD\n"
                ),
            )
            assert upload.status_code == 200, upload.text
            (late,) = upload.json()["results"]
            assert (late["status"], late["line_id"], late["period"]) == ("valid", "LATE-1", 0)
            # The audio licence's escalation, as a licensor checks it: each step's index values and
            # each escalated amount with its arithmetic (the figures of the test below).
            audio = next(r for r in result.rows if r.name == "northwind-audio")
            escalation = client.get(f"/licences/{audio.licence_id}/escalation")
            assert escalation.status_code == 200, escalation.text
            shown["northwind-audio escalation"] = [
                (step["step"], [(a["target"], a["before"], a["after"], a["matches"], a["arithmetic"])
                                for a in step["amounts"]])
                for step in escalation.json()["steps"]
            ]  # fmt: skip
            # The data-set licence's rate review, open: what justified it and the amendment both
            # parties would sign (every rate x 4.60 / 4.00, figures in GEODATA_REVIEW).
            geodata = next(r for r in result.rows if r.name == "geodata-dataset")
            reviews = client.get(f"/licences/{geodata.licence_id}/reviews")
            assert reviews.status_code == 200, reviews.text
            shown["geodata-dataset reviews"] = [
                (r["kind"], r["status"], r["current_rate_bps"], r["suggested_rate_bps"], r["justification"],
                 r["suggested_amendment"]["schedule"]["rate_bps"],
                 [(f["field"], f["rate_bps"]) for f in r["suggested_amendment"]["schedule"]["field_rates"]])
                for r in reviews.json()["reviews"]
            ]  # fmt: skip
            review_page = client.get(f"/ui/licences/{geodata.licence_id}")
            assert "awaiting both parties&#39; signatures" in review_page.text
            page = client.get(f"/ui/licences/{acme.licence_id}")
            assert page.status_code == 200 and "4% of net sales" in page.text
            assert (
                "calendar quarters; contract years from 1 January; reports due 30 days after each quarter; "
                "late interest 12%/year" in page.text
            )
            assert "2025-Q1" in page.text and "interest on #" in page.text
            return shown
    finally:
        services.close()


def _units(amount: str) -> str:
    return str(int(Decimal(amount) * 10**6))


# Each product written out to 18 decimals (token's 6 and 12 more), computed apart with fractions.
AUDIO_ESCALATION = [
    (1, [
        ("fixed_fee_per_period", "2500000000", "2569980000", True,
         "2,500.00 x 324.500 / 315.664 = 2,569.979471843479142379..., rounded to the nearest 0.01: 2,569.98"),
        ("minimum_guarantee", "20000000000", "20559840000", True,
         "20,000.00 x 324.500 / 315.664 = 20,559.835774747833139033..., rounded to the nearest 0.01: 20,559.84"),
    ]),
    (2, [
        ("fixed_fee_per_period", "2569980000", "2638090000", True,
         "2,569.98 x 333.100 / 324.500 = 2,638.090409861325115562..., rounded to the nearest 0.01: 2,638.09"),
        ("minimum_guarantee", "20559840000", "21104720000", True,
         "20,559.84 x 333.100 / 324.500 = 21,104.723278890600924499..., rounded to the nearest 0.01: 21,104.72"),
    ]),
]  # fmt: skip


# The benchmark 4.00 -> 4.60 is +15.00%, more than the clause's 10.00%; every rate x 4.60 / 4.00
# (x 1.15): base 200 -> 230 bps, model training 800 -> 920 bps, analytics 300 -> 345 bps, all exact.
GEODATA_REVIEW = [
    ("benchmark", "open", 200, 230,
     "benchmark DATA-LIC-RATE 4.00 -> 4.60 (+15.00%, more than the clause's 10.00%): rate 200 bps x 4.60 / 4.00 "
     "= 230 bps",
     230, [("model-training", 920), ("analytics", 345)]),
]  # fmt: skip


def _expected_readback(result: DemoResult) -> dict[str, object]:
    expected: dict[str, object] = {r.name: (r.settled, _units(r.arrears), _units(r.escrow)) for r in result.rows}
    expected["northwind-audio escalation"] = AUDIO_ESCALATION
    expected["geodata-dataset reviews"] = GEODATA_REVIEW
    return expected


def test_api_shows_what_the_chain_settled(anvil_demo: tuple[Chain, DemoResult, Path]) -> None:
    chain, result, data = anvil_demo
    assert _api_readback(chain, data, result) == _expected_readback(result)


def test_api_on_ganache_shows_the_same(ganache_chain: Chain, tmp_path: Path) -> None:
    result = _run(ganache_chain, tmp_path)
    assert _api_readback(ganache_chain, tmp_path, result) == _expected_readback(result)


def _average_rates(first: date, last: date) -> tuple[int, int]:
    """The quarter's EUR->USD and JPY->USD rates from examples/rates/ecb-2025-h1.csv, computed here
    apart from the oracle: the mean over the published days of q(USD) and of q(USD) / q(JPY)
    (the file's quotes are per 1 EUR), each rounded down to 18 decimals once."""
    days: dict[str, dict[str, Fraction]] = {}
    for row in (ROOT / "examples" / "rates" / "ecb-2025-h1.csv").read_text().splitlines()[1:]:
        day, currency, rate = row.split(",")
        if first <= date.fromisoformat(day) <= last:
            days.setdefault(day, {})[currency] = Fraction(rate)
    eur = sum((q["USD"] for q in days.values()), Fraction(0)) / len(days)
    jpy = sum((q["USD"] / q["JPY"] for q in days.values()), Fraction(0)) / len(days)
    return int(eur * 10**18), int(jpy * 10**18)


def _usdx(amount_minor: int, minor_units: int, rate: int) -> int:
    return amount_minor * rate * 10**6 // (10**minor_units * 10**18)  # the ledger's one rounding


def test_the_design_licence_converts_eur_and_jpy_at_each_quarters_average_rate(
    anvil_demo: tuple[Chain, DemoResult, Path],
) -> None:
    chain, result, _ = anvil_demo
    licence_id = next(r.licence_id for r in result.rows if r.name == "atelier-design")
    settled = {int(e.args["period"]): e.args for e in chain.ledger.events("Settled", licenceId=licence_id)}
    q1_eur, q1_jpy = _average_rates(date(2025, 1, 1), date(2025, 3, 31))  # 63 published days
    q2_eur, q2_jpy = _average_rates(date(2025, 4, 1), date(2025, 6, 30))  # 62 published days

    def conversions(period: int) -> list[tuple[str, int, int, int, int, int]]:
        events = chain.ledger.events("CurrencyConverted", settlementId=int(settled[period]["settlementId"]))
        return [
            (bytes.fromhex(e.args["currency"][2:]).decode(), int(e.args["rate"]), int(e.args["gross"]),
             int(e.args["deductions"]), int(e.args["convertedGross"]), int(e.args["convertedDeductions"]))
            for e in events
        ]  # fmt: skip

    # 2025-Q1: DE retail EUR 14,388.00 less 288.00; FR online EUR 5,995.00; JP retail JPY 1,744,000
    # less 34,880; US online USD 3,897.00 (no conversion). Buckets in (territory, field, channel) order.
    q1 = [
        ("EUR", q1_eur, 1_438_800, 28_800, _usdx(1_438_800, 2, q1_eur), _usdx(28_800, 2, q1_eur)),
        ("EUR", q1_eur, 599_500, 0, _usdx(599_500, 2, q1_eur), 0),
        ("JPY", q1_jpy, 1_744_000, 34_880, _usdx(1_744_000, 0, q1_jpy), _usdx(34_880, 0, q1_jpy)),
    ]
    assert sorted(conversions(0)) == sorted(q1)
    q1_net = sum(c[4] - c[5] for c in q1) + 3_897 * 10**6
    assert int(settled[0]["royalty"]) == q1_net * 600 // 10_000  # 6% of net sales in USDX, rounded down
    # 2025-Q2: DE online EUR 10,791.00; JP online JPY 872,000; FR retail EUR 8,393.00 less 167.86.
    # (JP retail JPY 2,180,000.5 is rejected: yen have no decimals.)
    q2 = [
        ("EUR", q2_eur, 1_079_100, 0, _usdx(1_079_100, 2, q2_eur), 0),
        ("EUR", q2_eur, 839_300, 16_786, _usdx(839_300, 2, q2_eur), _usdx(16_786, 2, q2_eur)),
        ("JPY", q2_jpy, 872_000, 0, _usdx(872_000, 0, q2_jpy), 0),
    ]
    assert sorted(conversions(1)) == sorted(q2)
    q2_net = sum(c[4] - c[5] for c in q2)
    assert int(settled[1]["royalty"]) == q2_net * 600 // 10_000
    notes = "\n".join(result.notes)
    assert "gross '2180000.5' has 1 decimal; at most 0 allowed in JPY" in notes
    # 14,388.00 EUR at the Q1 average 1.047403174603174603 = 15,070.036876 76... USDX, rounded down.
    assert (q1_eur, _usdx(1_438_800, 2, q1_eur)) == (1_047_403_174_603_174_603, 15_070_036_876)
    assert "atelier-design: 2025-Q1 sales of 14388 EUR at 1.047403174603174603 (the period's average rate)" in notes


# The audio licence's CPI-U (examples/indices/us-cpi-u.csv, illustrative values): October 2024
# 315.664, October 2025 324.500, October 2026 333.100.
CPI = {202410: 315_664_000, 202510: 324_500_000, 202610: 333_100_000}
JAN_2026, JAN_2027 = 1_767_225_600, 1_798_761_600  # 2026-01-01 and 2027-01-01, 00:00 UTC


def _nearest_cent(amount: int, numerator: int, denominator: int) -> int:
    """amount x numerator / denominator to the nearest cent (10,000 units), halves up: the clause's rule."""
    cents = Fraction(amount * numerator, denominator * 10_000)
    return int(cents + Fraction(1, 2)) * 10_000


def test_the_audio_licence_escalated_by_cpi_and_its_2026_quarters_pay_the_stepped_fee(
    anvil_demo: tuple[Chain, DemoResult, Path],
) -> None:
    chain, result, _ = anvil_demo
    licence_id = next(r.licence_id for r in result.rows if r.name == "northwind-audio")
    # Step 1: 324.500 / 315.664 (+2.80%, under the 5% cap): fee 2,500.00 -> 2,569.979... -> 2,569.98;
    # guarantee 20,000.00 -> 20,559.8357... -> 20,559.84. Its index came out after 1 January 2026, but
    # no 2026 quarter was settled yet, so it is in force from 1 January 2026.
    fee1 = _nearest_cent(2_500 * 10**6, CPI[202510], CPI[202410])
    guarantee1 = _nearest_cent(20_000 * 10**6, CPI[202510], CPI[202410])
    assert (fee1, guarantee1) == (2_569_980_000, 20_559_840_000)
    # Step 2: 333.100 / 324.500 (+2.65%) on the stepped amounts: 2,569.98 -> 2,638.0904... -> 2,638.09;
    # 20,559.84 -> 21,104.7232... -> 21,104.72, from 1 January 2027.
    fee2 = _nearest_cent(fee1, CPI[202610], CPI[202510])
    guarantee2 = _nearest_cent(guarantee1, CPI[202610], CPI[202510])
    assert (fee2, guarantee2) == (2_638_090_000, 21_104_720_000)

    steps = [e.args for e in chain.escalator.events("Escalated", licenceId=licence_id)]
    assert [(s["step"], s["fromMonth"], s["toMonth"], s["fromValue"], s["toValue"]) for s in steps] == [
        (1, 202410, 202510, CPI[202410], CPI[202510]),
        (2, 202510, 202610, CPI[202510], CPI[202610]),
    ]
    assert [s["applied"]["effectiveFrom"] for s in steps] == [JAN_2026, JAN_2027]
    for at, fee, guarantee in ((JAN_2026 - 1, 2_500 * 10**6, 20_000 * 10**6), (JAN_2026, fee1, guarantee1),
                               (JAN_2027, fee2, guarantee2)):  # fmt: skip
        schedule = chain.registry.schedule_at(licence_id, at)
        assert (schedule.fixed_fee_per_period, schedule.minimum_guarantee, schedule.rate_bps) == (fee, guarantee, 300)

    royalties = {
        int(e.args["period"]): int(e.args["royalty"])
        for e in chain.ledger.events("Settled", licenceId=licence_id)
        if e.args["kind"] == Kind.REPORT
    }
    # 2025-Q1: 3% of 23,988.00 = 719.64, plus the quarter's fee 2,500.00.
    assert royalties[0] == 719_640_000 + 2_500 * 10**6
    # 2026-Q1 (period 4): 3% of 29,985.00 = 899.55, plus the stepped fee 2,569.98.
    assert royalties[4] == 899_550_000 + fee1
    # 2026-Q3: 3% of (22,491.00 - 449.82) = 661.2354, plus 2,569.98.
    assert royalties[6] == 661_235_400 + fee1
    notes = "\n".join(result.notes)
    assert (
        "northwind-audio: escalation step 1 by US-CPI-U 2024-10 315.664 -> 2025-10 324.500, schedule version 1 "
        "in force from 2026-01-01" in notes
    )
