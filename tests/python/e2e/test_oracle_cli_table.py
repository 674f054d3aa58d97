"""The CLI's summary table on a real Anvil: what it prints for a settled report."""

from __future__ import annotations

from pathlib import Path

import pytest
from oracle_world import USDX, chain_now, day, fund, register, write_feed
from rich.console import Console

from oracle import cli
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def test_the_paid_column_shows_what_the_settlement_drew_from_escrow(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 150 * USDX)  # less than the royalty: the rest becomes arrears
    feed = write_feed(
        tmp_path / "short.csv", [f"S-1,{licence_id},{day(start + DAY)},US,apparel,retail,1,2000.00,0,USD"]
    )
    service = OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2")],
        role("oracle_sender"),
        nil_reports=False,
    )
    ingested, built, sent = service.run([feed])
    console = Console(width=200, record=True)
    monkeypatch.setattr(cli, "console", console)

    cli._print_results(ingested, built, sent, service.builder.period_name)

    (stored,) = sent.settled
    rows = [line for line in console.export_text().splitlines() if line.count("│") == 9]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    # report, licence, period (with its name: 30-day periods are named by their first and last
    # day), lines, settlement, royalty (10% of 2000.00), paid (the escrow), state
    period = f"0 ({day(start)}--{day(start + 29 * DAY)})"
    assert cells == [
        [str(stored.id), str(licence_id), period, "1", str(stored.settlement_id), "200000000", "150000000", "settled"]
    ]
