"""The oracle and the ledger on a real Anvil agree on contract years and nil reports.

- A period that crosses a contract year's anniversary reports each year's sales in buckets of
  their own year, and the ledger prices each at its own year's tier position.
- A period that ended without sales gets a signed nil report that settles it (the fixed fee),
  a bounded number per licence per round, in period order; a licence another oracle already
  reported on chain is not back-filled by a new outbox.

The nil report tests register their licences with an oracle key of their own (an unfunded
development account: signers never send), so their services serve only these licences, and no
other test's oracle serves them.
"""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from oracle_world import USDX, chain_now, day, fund, register, write_feed
from structlog.testing import capture_logs

from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.calendar import LicenceCalendar
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import dev_account, role
from royalty_chain.terms import DAY, Calendar, Schedule, Term, Tier

US, APPAREL, RETAIL = territory_index("US"), field_index("apparel"), channel_index("retail")


def _service(chain: Chain, outbox: Path, signers: list[LocalAccount], **options: object) -> OracleService:
    return OracleService(chain, Outbox(outbox), signers, role("oracle_sender"), **options)  # type: ignore[arg-type]


def test_a_period_across_the_anniversary_is_priced_at_each_years_own_tier_position(
    chain: Chain, tmp_path: Path
) -> None:
    # Fixed 90-day periods, contract years from the start date. 2% up to 100,000 of a contract
    # year's net sales, 5% above.
    start = (chain_now(chain) - 460 * DAY) // DAY * DAY
    term = Term(start=start, end=start + 3 * 365 * DAY, sell_off_days=180, period_seconds=90 * DAY)
    rule = LicenceCalendar(start=start, period_seconds=90 * DAY)
    anniversary = rule.year_bounds(0)[1]  # start + 365 or 366 days: inside period 4 (days 360..449)
    assert rule.period_of(anniversary - DAY) == rule.period_of(anniversary) == 4
    tiers = (Tier(0, 200), Tier(100_000 * USDX, 500))
    licence_id = register(chain, start, term=term, schedule=Schedule(tiers=tiers))
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "years.csv",
        [
            f"T-1,{licence_id},{day(start + 300 * DAY)},US,apparel,retail,1,90000,0,USD",  # period 3, year 0
            f"T-2,{licence_id},{day(anniversary - DAY)},US,apparel,retail,1,20000,0,USD",  # period 4, year 0
            f"T-3,{licence_id},{day(anniversary)},US,apparel,retail,1,50000,0,USD",  # period 4, year 1
        ],
    )
    service = _service(chain, tmp_path / "outbox.sqlite", [role("oracle1"), role("oracle2")], nil_reports=False)

    ingested, built, sent = service.run([feed])

    assert (ingested[0].valid, len(built), len(sent.settled)) == (3, 2, 2)
    by_period = {r.period: r for r in sent.settled}
    # Period 3: 90,000 x 2% = 1,800 (year 0's cumulative is now 90,000).
    assert by_period[3].royalty == 1_800 * USDX
    assert by_period[4].buckets == [
        [0, US, APPAREL, RETAIL, 1, 20_000 * USDX, 0],
        [1, US, APPAREL, RETAIL, 1, 50_000 * USDX, 0],
    ]
    # Period 4: year 0 goes from 90,000 to 110,000: 10,000 x 2% + 10,000 x 5% = 200 + 500 = 700;
    # year 1 starts at 0: 50,000 x 2% = 1,000. Together 1,700 (all 70,000 at year 0's position,
    # as before contract years were per bucket, would be 10,000 x 2% + 60,000 x 5% = 3,200).
    assert by_period[4].royalty == 1_700 * USDX
    settlement = chain.ledger.settlement(by_period[4].settlement_id or 0)
    assert (settlement.royalty, settlement.year) == (1_700 * USDX, 0)  # the year of the period's start
    (accepted,) = chain.ledger.events("ReportAccepted", settlementId=by_period[4].settlement_id)
    assert accepted.args["firstYear"] == 0
    assert list(accepted.args["tierNet"]) == [20_000 * USDX, 50_000 * USDX]
    assert list(accepted.args["yearRoyalty"]) == [700 * USDX, 1_000 * USDX]
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 1_800 * USDX - 1_700 * USDX


def _nil_licence(chain: Chain, start: int, oracle: LocalAccount, fixed_fee: int = 50 * USDX) -> int:
    """A licence of 30-day periods, 10% of net sales plus a fixed fee per period, signed by ``oracle`` alone."""
    licence_id = register(
        chain,
        start,
        schedule=Schedule(fixed_fee_per_period=fixed_fee, rate_bps=1000),
        oracles=(oracle.address,),
        threshold=1,
    )
    fund(chain, licence_id, 10_000 * USDX)
    return licence_id


def test_an_ended_period_without_sales_gets_a_nil_report_that_settles_it(chain: Chain, tmp_path: Path) -> None:
    oracle = dev_account(30)
    # Periods 0, 1 and 2 have ended (day 90), period 3 is running; a period is due 30 days after
    # its end, so zero sales are known for period 1 (due day 90) but not yet for period 2 (day 120).
    start = (chain_now(chain) - 95 * DAY) // DAY * DAY
    licence_id = _nil_licence(chain, start, oracle)
    feed = write_feed(
        tmp_path / "one-sale.csv", [f"N-1,{licence_id},{day(start + DAY)},US,apparel,retail,1,1000.00,0,USD"]
    )
    service = _service(chain, tmp_path / "outbox.sqlite", [oracle])

    with capture_logs() as logs:
        ingested, built, sent = service.run([feed])

    assert (ingested[0].valid, len(built), len(sent.settled)) == (1, 2, 2)
    sale, nil = sorted(sent.settled, key=lambda r: r.period)
    assert (sale.period, sale.royalty) == (0, 50 * USDX + 100 * USDX)  # fixed fee + 10% of 1,000.00
    # Period 1 had no sales: a report of no buckets, no lines and the empty root settles it, and
    # the fixed fee is still owed.
    assert (nil.period, nil.line_count, nil.buckets, nil.lines_root) == (1, 0, [], bytes(32))
    assert nil.royalty == 50 * USDX
    assert chain.ledger.settled_period(licence_id, 1) == nil.settlement_id
    assert chain.ledger.settlement(nil.settlement_id or 0).royalty == 50 * USDX
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 150 * USDX - 50 * USDX
    name = f"{day(start + 30 * DAY)}--{day(start + 59 * DAY)}"
    assert [(e["licence"], e["period"], e["period_name"]) for e in logs if e["event"] == "nil_report"] == [
        (licence_id, 1, name)
    ]

    # Nothing more until period 2 is due; the same round again builds nothing.
    assert service.build_reports() == []


def test_nil_reports_come_in_period_order_a_bounded_number_per_round(chain: Chain, tmp_path: Path) -> None:
    oracle = dev_account(31)
    # Periods 0..6 ended (day 210); 0..5 are due (period 5 on day 210), period 6 only on day 240.
    start = (chain_now(chain) - 230 * DAY) // DAY * DAY
    licence_id = _nil_licence(chain, start, oracle, fixed_fee=7 * USDX)
    service = _service(chain, tmp_path / "outbox.sqlite", [oracle], nil_reports_per_licence=4)

    rounds = []
    for _ in range(3):
        built = service.build_reports()
        sent = service.send()
        rounds.append([(r.period, r.sequence, r.royalty) for r in sorted(sent.settled, key=lambda r: r.sequence)])
        assert len(built) == len(sent.settled)

    assert rounds == [
        [(0, 1, 7 * USDX), (1, 2, 7 * USDX), (2, 3, 7 * USDX), (3, 4, 7 * USDX)],
        [(4, 5, 7 * USDX), (5, 6, 7 * USDX)],
        [],
    ]
    assert [chain.ledger.settled_period(licence_id, p) != 0 for p in range(7)] == [True] * 6 + [False]


def test_a_new_outbox_does_not_back_fill_a_licence_already_reported_on_chain(chain: Chain, tmp_path: Path) -> None:
    oracle = dev_account(32)
    # Periods 0..3 ended (day 120), 4 is running; periods 1 and 2 are due (days 90, 120), 3 is not.
    start = (chain_now(chain) - 125 * DAY) // DAY * DAY
    licence_id = _nil_licence(chain, start, oracle)
    feed = write_feed(tmp_path / "p0.csv", [f"B-1,{licence_id},{day(start)},US,apparel,retail,1,10.00,0,USD"])
    first = _service(chain, tmp_path / "first.sqlite", [oracle], nil_reports=False)
    first.run([feed])  # period 0 settles; periods 1 and 2 stay open

    # A new oracle (a fresh outbox) finds the licence reported on chain by someone else: periods
    # that ended before it started are not its to fill (a nil report settles a period for good).
    fresh = _service(chain, tmp_path / "fresh.sqlite", [oracle])
    assert fresh.build_reports() == []

    # The outbox that reported period 0 has served the licence since: it fills periods 1 and 2.
    first.builder.nil_reports = True
    built = first.build_reports()
    sent = first.send()
    assert sorted((r.period, r.line_count, r.royalty) for r in sent.settled) == [(1, 0, 50 * USDX), (2, 0, 50 * USDX)]
    assert len(built) == 2
    assert [chain.ledger.settled_period(licence_id, p) != 0 for p in range(4)] == [True, True, True, False]


def test_a_report_paid_after_its_due_date_is_recorded_as_the_report_not_as_its_interest(
    chain: Chain, tmp_path: Path
) -> None:
    # 30-day periods due 30 days after they end, 10% a year interest on late payment. Period 0
    # ended 35 days ago, so it was due 5 days ago: settling it now also charges interest, as a
    # settlement of its own (kind Interest) with the same licence and period.
    start = (chain_now(chain) - 65 * DAY) // DAY * DAY
    term = Term(start, start + 2 * 365 * DAY, 180, 30 * DAY, Calendar(due_days=30, interest_bps=1000))
    licence_id = register(chain, start, term=term)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(tmp_path / "late.csv", [f"L-1,{licence_id},{day(start)},US,apparel,retail,1,1000.00,0,USD"])
    service = _service(chain, tmp_path / "outbox.sqlite", [role("oracle1"), role("oracle2")], nil_reports=False)

    _, _, sent = service.run([feed])

    (stored,) = sent.settled
    assert stored.settlement_id == chain.ledger.settled_period(licence_id, 0)
    assert (stored.royalty, sent.paid[stored.id]) == (100 * USDX, 100 * USDX)  # 10% of 1,000.00
    (charged,) = chain.ledger.events("InterestCharged", licenceId=licence_id)
    assert charged.args["onSettlementId"] == stored.settlement_id
    assert (charged.args["principal"], charged.args["from"]) == (100 * USDX, start + 60 * DAY)  # due date
    # floor(100,000,000 x 1,000 x seconds late / (10,000 x 365 x 86,400)): about 137 units a day
    late = charged.args["to"] - charged.args["from"]
    assert late >= 5 * DAY
    assert charged.args["interest"] == 100 * USDX * 1000 * late // (10_000 * 365 * DAY)
    interest = chain.ledger.settlement(charged.args["settlementId"])
    assert (interest.kind.label, interest.period, interest.royalty) == ("interest", 0, charged.args["interest"])
