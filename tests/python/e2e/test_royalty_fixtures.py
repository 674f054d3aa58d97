"""Royalties computed on chain from oracle feeds, checked against hand-computed figures.

Each case registers a licence with one kind of rate schedule, feeds lines through the real
oracle on Anvil, and compares the Settled events (and balances) with amounts worked out by hand
in the comments. Token: 6 decimals, so 1.000000 USDX = 1_000_000 units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oracle_world import USDX, chain_now, day, fund, register, write_feed

from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.codes import encode_scope, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, FieldRate, Payee, Schedule, Tier

PERIOD = 30 * DAY


def _settle(chain: Chain, tmp_path: Path, licence_id: int, rows: list[str], name: str = "feed") -> list[dict[str, Any]]:
    service = OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        # These fixtures check the pricing of sales: periods without sales stay unreported here
        # (nil reports are tested in test_oracle_calendar.py).
        nil_reports=False,
    )
    ingested, _, _ = service.run([write_feed(tmp_path / f"{name}.csv", rows)])
    assert ingested[0].rejected == 0, ingested[0].rejections
    logs = chain.ledger.events("Settled", licenceId=licence_id)
    return [e.args for e in sorted(logs, key=lambda e: e.args["settlementId"])]


def _start(chain: Chain, periods_ago: int) -> int:
    return (chain_now(chain) - periods_ago * PERIOD - DAY) // DAY * DAY


def line(
    licence_id: int, n: str, when: int, t: str, f: str, c: str, units: int, gross: str, deductions: str = "0"
) -> str:
    return f"{n},{licence_id},{day(when)},{t},{f},{c},{units},{gross},{deductions},USD"


def test_percentage_rounds_down_once_per_report(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 1)
    licence_id = register(chain, start, Schedule(rate_bps=500))
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "P-1", start, "US", "apparel", "retail", 1, "1200.000003", "200"),
            line(licence_id, "P-2", start + DAY, "GB", "toys", "online", 1, "0.000019"),
        ],
    )
    # net = 1000.000003 + 0.000019 = 1000.000022 -> 1_000_000_022 * 500 / 10_000 = 50_000_001.1 -> 50_000_001
    assert [s["royalty"] for s in settled] == [50_000_001]


def test_per_unit_and_fixed_fee(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 1)
    licence_id = register(chain, start, Schedule(per_unit=250_000, fixed_fee_per_period=100 * USDX))
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "U-1", start, "US", "apparel", "retail", 7, "70"),
            line(licence_id, "U-2", start, "DE", "apparel", "online", 5, "50"),
        ],
    )
    # 12 units * 0.25 = 3.00, plus the fixed fee of 100.00 for the period
    assert [s["royalty"] for s in settled] == [103 * USDX]


def test_marginal_tiers_cross_inside_one_period(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 3)
    tiers = (Tier(0, 200), Tier(1_000 * USDX, 500), Tier(5_000 * USDX, 1_000))
    licence_id = register(chain, start, Schedule(tiers=tiers))
    fund(chain, licence_id, 10_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "T-1", start, "US", "apparel", "retail", 1, "600"),
            line(licence_id, "T-2", start + PERIOD, "US", "apparel", "retail", 1, "1000"),
            line(licence_id, "T-3", start + 2 * PERIOD, "US", "apparel", "retail", 1, "4000"),
        ],
    )
    # period 0: 600 @ 2% = 12; period 1: 600->1600: 400 @ 2% + 600 @ 5% = 38;
    # period 2: 1600->5600: 3400 @ 5% + 600 @ 10% = 230
    assert [s["royalty"] for s in settled] == [12 * USDX, 38 * USDX, 230 * USDX]


def test_rate_per_field_of_use(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 1)
    schedule = Schedule(
        rate_bps=200,
        field_rates=(FieldRate(field_index("model-training"), 800), FieldRate(field_index("analytics"), 300)),
    )
    licence_id = register(
        chain,
        start,
        schedule,
        scope=encode_scope(["US"], ["model-training", "analytics", "research"], ["api"]),
    )
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "F-1", start, "US", "model-training", "api", 1, "1000"),
            line(licence_id, "F-2", start, "US", "analytics", "api", 1, "1000"),
            line(licence_id, "F-3", start, "US", "research", "api", 1, "1000"),
        ],
    )
    # 1000 @ 8% + 1000 @ 3% + 1000 @ 2% (the base rate) = 80 + 30 + 20
    assert [s["royalty"] for s in settled] == [130 * USDX]


def test_minimum_guarantee_shortfall_and_late_report_offset(chain: Chain, tmp_path: Path) -> None:
    # Contract years run from the start to its anniversary (365 or 366 days): year 0 has ended.
    start = (chain_now(chain) - 366 * DAY - 40 * DAY) // DAY * DAY
    licence_id = register(chain, start, Schedule(rate_bps=1000, minimum_guarantee=1_000 * USDX))
    fund(chain, licence_id, 5_000 * USDX)
    _settle(chain, tmp_path, licence_id, [line(licence_id, "M-1", start, "US", "apparel", "retail", 1, "3000")])
    receipt = chain.ledger.charge_minimum_guarantee(licence_id, 0, role("relayer"))
    (charged,) = [e.args for e in chain.receipt_events(receipt) if e.name == "Settled"]
    # royalty in year 0 = 10% of 3000 = 300; guarantee 1000 -> shortfall 700 charged
    assert (charged["kind"], charged["royalty"], charged["due"]) == (3, 700 * USDX, 700 * USDX)
    # A late report for year 0 (period 5) earns 50, which the shortfall already charged covers.
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [line(licence_id, "M-2", start + 5 * PERIOD, "US", "apparel", "retail", 1, "500")],
        name="late",
    )
    late = settled[-1]
    assert (late["royalty"], late["recouped"], late["due"]) == (50 * USDX, 50 * USDX, 0)
    assert chain.ledger.escrow_of(licence_id) == 5_000 * USDX - 300 * USDX - 700 * USDX


def test_advance_is_recouped_before_anything_is_due(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 2)
    licensee = role("licensee_apparel")
    token = chain.token(chain.manifest.token("USDX").address)
    token.mint(licensee.address, 100 * USDX, licensee)
    token.approve(chain.ledger.address, 100 * USDX, licensee)
    licence_id = register(chain, start, Schedule(rate_bps=1000), advance=100 * USDX)
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "A-1", start, "US", "apparel", "retail", 1, "600"),
            line(licence_id, "A-2", start + PERIOD, "US", "apparel", "retail", 1, "700"),
        ],
    )
    advance, first, second = settled
    assert (advance["kind"], advance["paid"]) == (1, 100 * USDX)  # paid at registration, credited at once
    # period 0: royalty 60, all recouped; period 1: royalty 70, 40 recouped, 30 due
    assert (first["royalty"], first["recouped"], first["due"]) == (60 * USDX, 60 * USDX, 0)
    assert (second["royalty"], second["recouped"], second["due"]) == (70 * USDX, 40 * USDX, 30 * USDX)
    assert chain.ledger.advance_remaining(licence_id) == 0
    assert chain.ledger.claimable(licence_id, role("licensor_brand").address) == 130 * USDX


def test_withholding_and_split_add_up_exactly(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 1)
    payees = (
        Payee(role("licensor_brand").address, 3333),
        Payee(role("co_owner").address, 3333),
        Payee(role("co_inventor").address, 3334),
    )
    licence_id = register(
        chain, start, Schedule(rate_bps=1000), payees=payees, tax_bps=1500, tax_account=role("tax_authority").address
    )
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain, tmp_path, licence_id, [line(licence_id, "W-1", start, "US", "apparel", "retail", 1, "333.33333")]
    )
    # royalty = 10% of 333.333330 = 33.333333; tax = floor(33_333_333 * 15%) = 4_999_999
    assert settled[0]["royalty"] == 33_333_333
    assert chain.ledger.tax_claimable(licence_id) == 4_999_999
    # 28_333_334 to payees, halving the payee list (ordered by address) with shares s0, s1, s2:
    # the first payee gets floor(28_333_334 * s0 / 10_000), the other two split the rest by
    # floor(rest * s1 / (s1 + s2)) and the remainder.
    ordered = sorted(payees, key=lambda p: int(p.account, 16))
    s0, s1, s2 = (p.share_bps for p in ordered)
    first = 28_333_334 * s0 // 10_000
    second = (28_333_334 - first) * s1 // (s1 + s2)
    expected = [first, second, 28_333_334 - first - second]
    parts = [chain.ledger.claimable(licence_id, p.account) for p in ordered]
    assert parts == expected
    assert sum(parts) + 4_999_999 == 33_333_333


def test_out_of_scope_bucket_earns_nothing_and_is_reported_as_breach(chain: Chain, tmp_path: Path) -> None:
    start = _start(chain, 1)
    licence_id = register(chain, start, Schedule(rate_bps=1000))
    fund(chain, licence_id, 1_000 * USDX)
    settled = _settle(
        chain,
        tmp_path,
        licence_id,
        [
            line(licence_id, "S-1", start, "US", "apparel", "retail", 1, "100"),
            line(licence_id, "S-2", start, "JP", "apparel", "retail", 3, "500"),
        ],
    )
    assert [s["royalty"] for s in settled] == [10 * USDX]
    breaches = chain.ledger.events("ScopeBreached", licenceId=licence_id)
    assert [(b.args["territory"], b.args["gross"]) for b in breaches] == [(territory_index("JP"), 500 * USDX)]
