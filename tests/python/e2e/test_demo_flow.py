"""The `make run` demo end to end, on Anvil and on Ganache: the same inputs settle identically.

Registration from both parties' signatures, the oracle over feeds with good and bad lines,
settlement, a guarantee charge, a dispute, a withdrawal and a breach notice; then everything
again, which must change nothing.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console

from api.app import create_app
from api.services import build_services
from api.settings import ApiSettings
from intake.merkle import verify
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from _demo import DemoResult, load_demo  # noqa: E402

EXPECTED_REJECTIONS = [
    "line 157: sale_date '2025-13-01' is not a valid calendar date",
    "line 158: units '-5' is negative",
    "line 159: territory 'XX' is not an ISO 3166-1 alpha-2 code",
    "line 160: gross '100.0000001' has 7 decimals; at most 6 allowed",
    "line 161: currency 'EUR' is not the licence's currency USD",
]


def _run(chain: Chain, tmp_path: Path) -> DemoResult:
    return load_demo(chain, ROOT / "examples", tmp_path, Console(file=open("/dev/null", "w")))


def _figures(result: DemoResult) -> list[tuple[str, str, int, str, str, str]]:
    return [(r.name, r.status, r.settled, r.royalty, r.arrears, r.escrow) for r in result.rows]


@pytest.fixture(scope="module")
def anvil_demo(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> tuple[Chain, DemoResult, Path]:
    data = tmp_path_factory.mktemp("demo-anvil")
    return chain, _run(chain, data), data


def test_demo_settles_every_ended_period_and_rejects_bad_lines(anvil_demo: tuple[Chain, DemoResult, Path]) -> None:
    chain, result, _ = anvil_demo
    assert [(r.name, r.settled) for r in result.rows] == [
        ("acme-trademark", 7),
        ("geodata-dataset", 7),
        ("lumen-model", 7),
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
    acme = next(r for r in result.rows if r.name == "acme-trademark")
    # The licensee deposited 5,000: everything above it is arrears, and the licensor took what was paid.
    assert Decimal(acme.royalty) - Decimal(acme.arrears) == Decimal(5000)
    assert acme.escrow == "0"
    brand = role("licensor_brand").address
    withdrawn = chain.ledger.events("Withdrawn", account=brand)
    assert sum(int(w.args["amount"]) for w in withdrawn) == 5_000 * 10**6


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
                settlements = client.get(f"/licences/{row.licence_id}/settlements", params={"limit": 100}).json()
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
            # An upload for a period the oracle already reported is refused, as the CLI refuses it.
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
            assert (late["status"], late["field"]) == ("rejected", "sale_date")
            assert "which was already reported" in late["reason"]
            page = client.get(f"/ui/licences/{acme.licence_id}")
            assert page.status_code == 200 and "4% of net sales" in page.text
            return shown
    finally:
        services.close()


def _units(amount: str) -> str:
    return str(int(Decimal(amount) * 10**6))


def test_api_shows_what_the_chain_settled(anvil_demo: tuple[Chain, DemoResult, Path]) -> None:
    chain, result, data = anvil_demo
    shown = _api_readback(chain, data, result)
    assert shown == {r.name: (r.settled, _units(r.arrears), _units(r.escrow)) for r in result.rows}


def test_api_on_ganache_shows_the_same(ganache_chain: Chain, tmp_path: Path) -> None:
    result = _run(ganache_chain, tmp_path)
    shown = _api_readback(ganache_chain, tmp_path, result)
    assert shown == {r.name: (r.settled, _units(r.arrears), _units(r.escrow)) for r in result.rows}
