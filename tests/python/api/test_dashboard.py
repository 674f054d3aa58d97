"""The dashboard rendered by headless Chromium: screenshots as artifacts, exact figures in the DOM."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from apikit import USDX, bucket, fund, register, settle, synced, terms_json
from fastapi.testclient import TestClient

from api.services import Services
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _chromium(tmp: Path, *args: str) -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp}", "--window-size=1280,1600",
    ]  # fmt: skip
    done = subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _text(dom: str) -> str:
    """The DOM with tags removed and whitespace collapsed, as a reader sees it."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def test_licence_page_shows_the_figures(
    client: TestClient, chain: Chain, services: Services, server: str, tmp_path: Path, artifacts: Path
) -> None:
    terms = terms_json(
        chain, 0, scope={"territories": ["US", "CA"], "fields": ["apparel"], "channels": ["retail", "online"]},
        schedule={"rate_bps": 500},
    )  # fmt: skip
    terms["term"] = {"start": "2026-01-01", "end": "2028-01-01", "sell_off_days": 180, "period_seconds": 90 * 86400}
    licence_id = register(client, terms)
    fund(chain, licence_id, 30 * USDX)
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 10, 200 * USDX)])  # 10 USDX
    settle(chain, licence_id, 1, [bucket("CA", "apparel", "online", 3, 300_500_000)])  # 15.025 USDX
    settle(chain, licence_id, 2, [bucket("US", "apparel", "online", 5, 250 * USDX)])  # 12.5 USDX, 4.975 paid
    synced(services)

    page = f"{server}/ui/licences/{licence_id}"
    _chromium(tmp_path / "a", f"--screenshot={artifacts / 'dashboard-licence.png'}", page)
    assert (artifacts / "dashboard-licence.png").stat().st_size > 10_000
    dom = _chromium(tmp_path / "b", "--dump-dom", page)
    text = _text(dom)
    assert (
        "5% of net sales in CA, US; field: apparel; retail and online; "
        "1 Jan 2026 \u2013 31 Dec 2027 plus 180 days sell-off"
    ) in text
    assert 'id="royalty-total">37.525 USDX<' in dom
    assert 'id="paid-total">30.00 USDX<' in dom
    assert 'id="arrears">7.525 USDX<' in dom
    assert 'id="escrow">0.00 USDX<' in dom
    assert 'id="tax-total">3.00 USDX<' in dom
    # 27 USDX to payees: 40% = 10.80 to the co-owner, the rest to payee 0.
    assert "60% 16.20 USDX 0.00 USDX 16.20 USDX" in text
    assert "40% 10.80 USDX 0.00 USDX 10.80 USDX" in text
    assert dom.count("<rect") == 1 + 3  # background + one bar per settlement
    assert f"/licences/{licence_id}/statement?year=0&amp;format=csv" in dom

    # The statement table: each period's royalty by component (5% of 200 USDX: all percentage).
    statement = f"{server}/ui/licences/{licence_id}/statement?year=0"
    _chromium(tmp_path / "s", f"--screenshot={artifacts / 'dashboard-statement.png'}", statement)
    statement_text = _text(_chromium(tmp_path / "t", "--dump-dom", statement))
    assert "Fixed fee Per unit Percentage Royalty" in statement_text
    assert "10 200.00 USDX 0.00 USDX 0.00 USDX 10.00 USDX 10.00 USDX" in statement_text

    party = f"{server}/ui/parties/{role('co_owner').address}"
    _chromium(tmp_path / "c", f"--screenshot={artifacts / 'dashboard-party.png'}", party)
    party_text = _text(_chromium(tmp_path / "d", "--dump-dom", party))
    assert f"#{licence_id} payee (40%) active" in party_text
    assert "10.80 USDX" in party_text

    home = client.get("/")
    assert home.status_code == 200 and role("co_owner").address in home.text
    csv = client.get(f"/licences/{licence_id}/statement", params={"year": 0, "format": "csv"})
    assert csv.status_code == 200 and "37525000" in csv.text
