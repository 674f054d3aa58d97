"""The oracle end to end on a real Anvil: a feed in, settlements equal to the expected amounts."""

from __future__ import annotations

from pathlib import Path

from oracle_world import USDX, chain_now, day, fund, register, write_feed
from sqlalchemy import func, select

from oracle.service import OracleService
from outbox import Outbox
from outbox.schema import rejections_table
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY, Calendar, Term

NO_CONVERSION_REASON = (
    "is not the licence's currency USD, and the licence's terms convert nothing (its conversion rule is none)"
)


def _service(chain: Chain, tmp_path: Path, nil_reports: bool = True) -> OracleService:
    return OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
        nil_reports=nil_reports,
    )


# Calendar quarters from a start on 2025-02-10 (00:00 UTC), contract years from 1 January,
# reports due 30 days after a quarter ends; ten years, so the chain's clock is inside the term.
FEB_10_2025 = 1_739_145_600
APR_1_2025 = 1_743_465_600
QUARTERS = Term(
    start=FEB_10_2025,
    end=FEB_10_2025 + 3652 * DAY,
    sell_off_days=180,
    period_seconds=0,
    calendar=Calendar(period_months=3, year_month=1, year_day=1, due_days=30),
)


def test_feed_settles_exact_amounts_and_rejects_bad_lines(chain: Chain, tmp_path: Path) -> None:
    now = chain_now(chain)
    licence_id = register(chain, FEB_10_2025, term=QUARTERS)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            f"A-1,{licence_id},2025-02-10,US,apparel,retail,10,1000.00,100.00,USD",  # the start day: 2025-Q1
            f"A-2,{licence_id},2025-03-31,GB,toys,online,1,250.555555,0,USD",  # last day of 2025-Q1
            f"A-3,{licence_id},2025-04-01,DE,apparel,online,2,99.99,0,USD",  # first day of 2025-Q2
            f"A-4,{licence_id},2025-04-02,JP,apparel,online,2,500,0,USD",  # 2025-Q2, out of scope
            f"A-5,{licence_id},{day(now)},US,apparel,retail,1,10,0,USD",  # today's quarter: not due
            f"A-6,{licence_id},2025-02-11,US,apparel,retail,-1,10,0,USD",  # bad: negative units
            f"A-7,{licence_id},2025-02-11,US,apparel,retail,1,10,0,EUR",  # bad: wrong currency
            f"A-8,{licence_id},2025-02-31,US,apparel,retail,1,10,0,USD",  # bad: no such day
        ],
    )
    # Nil reports off: the quarters without sales are another test's subject (test_oracle_calendar).
    service = _service(chain, tmp_path, nil_reports=False)
    ingested, built, sent = service.run([feed])

    assert (ingested[0].lines_read, ingested[0].valid, ingested[0].rejected) == (8, 5, 3)
    assert [(r.line_number, r.field, r.value, r.reason) for r in ingested[0].rejections] == [
        (7, "units", "-1", "is negative but gross is not: a return has units, gross and deductions of zero or less"),
        (8, "currency", "EUR", NO_CONVERSION_REASON),
        (9, "sale_date", "2025-02-31", "is not a date: February 2025 has 28 days"),
    ]
    assert len(built) == 2 and len(sent.settled) == 2
    by_period = {r.period: r for r in sent.settled}
    assert sorted(by_period) == [0, 1]  # 2025-Q1 (cut at the start) and 2025-Q2
    assert [service.builder.period_name(licence_id, p) for p in (0, 1)] == ["2025-Q1", "2025-Q2"]
    # period 0: 10% of (900.00 + 250.555555) = 115.055555 (rounded down to the unit)
    assert by_period[0].royalty == 115_055_555
    assert by_period[0].buckets == [
        [0, territory_index("GB"), field_index("toys"), channel_index("online"), 1, 250_555_555, 0],
        [0, territory_index("US"), field_index("apparel"), channel_index("retail"), 10, 1_000_000_000, 100_000_000],
    ]
    # period 1: 10% of 99.99 in scope; the JP bucket earns nothing
    assert by_period[1].royalty == 9_999_000
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 115_055_555 - 9_999_000
    # Each settlement is due 30 days after its quarter ends and belongs to contract year 0 (2025):
    # 2025-Q1 ends 2025-04-01 (1743465600), due 2025-05-01 (+ 30 * 86400 = 1746057600).
    first = chain.ledger.settlement(by_period[0].settlement_id or 0)
    assert (first.period, first.year, first.due_at) == (0, 0, APR_1_2025 + 30 * DAY)
    assert chain.ledger.settled_period(licence_id, 1) == by_period[1].settlement_id
    assert chain.ledger.settled_period(licence_id, 2) == 0  # 2025-Q3 had no sales (and no nil report)

    # The same file again changes nothing: all duplicates, no new report.
    again, built_again, sent_again = service.run([feed])
    assert (again[0].valid, again[0].duplicates, again[0].rejected) == (0, 5, 3)
    assert built_again == [] and sent_again.settled == []


def test_a_file_of_many_bad_lines_is_streamed_to_the_rejects_file_and_outbox(chain: Chain, tmp_path: Path) -> None:
    start = (chain_now(chain) - 35 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    rows = []
    for i in range(12_000):  # more than one store batch of rejections
        units = "-1" if i % 3 else "1"  # two lines in three are bad
        rows.append(f"M-{i},{licence_id},{day(start + DAY)},US,apparel,retail,{units},1.00,0,USD")
    feed = write_feed(tmp_path / "many-bad.csv", rows)
    service = _service(chain, tmp_path)

    result = service.ingest(feed)

    assert (result.lines_read, result.valid, result.rejected) == (12_000, 4_000, 8_000)
    assert len(result.rejections) == 100  # kept for display; the rest are in the file and the outbox
    assert [r.line_number for r in result.rejections[:3]] == [3, 4, 6]  # header is line 1
    written = Path(result.rejects_file or "").read_text().splitlines()
    assert written[0] == "line_number,field,value,reason"
    assert len(written) == 1 + 8_000
    assert written[1].startswith("3,units,-1,")
    stored = service.conn.execute(select(func.count()).select_from(rejections_table)).scalar_one()
    assert stored == 8_000
    assert not Path(str(result.rejects_file) + ".tmp").exists()
