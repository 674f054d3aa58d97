"""The oracle end to end on a real Anvil: a feed in, settlements equal to the expected amounts."""

from __future__ import annotations

from pathlib import Path

from oracle_world import USDX, chain_now, day, fund, register, write_feed
from sqlalchemy import func, select

from oracle.service import OracleService
from outbox import Outbox
from outbox.schema import rejections_table
from royalty_chain.client import Chain
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _service(chain: Chain, tmp_path: Path) -> OracleService:
    return OracleService(
        chain,
        Outbox(tmp_path / "outbox.sqlite"),
        [role("oracle1"), role("oracle2"), role("oracle3")],
        role("oracle_sender"),
    )


def test_feed_settles_exact_amounts_and_rejects_bad_lines(chain: Chain, tmp_path: Path) -> None:
    now = chain_now(chain)
    start = (now - 65 * DAY) // DAY * DAY  # periods 0 and 1 have ended, period 2 is running
    licence_id = register(chain, start)
    fund(chain, licence_id, 10_000 * USDX)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            f"A-1,{licence_id},{day(start)},US,apparel,retail,10,1000.00,100.00,USD",
            f"A-2,{licence_id},{day(start + 5 * DAY)},GB,toys,online,1,250.555555,0,USD",
            f"A-3,{licence_id},{day(start + 31 * DAY)},DE,apparel,online,2,99.99,0,USD",
            f"A-4,{licence_id},{day(start + 32 * DAY)},JP,apparel,online,2,500,0,USD",  # out of scope
            f"A-5,{licence_id},{day(start + 61 * DAY)},US,apparel,retail,1,10,0,USD",  # period 2: not due
            f"A-6,{licence_id},{day(start)},US,apparel,retail,-1,10,0,USD",  # bad: negative units
            f"A-7,{licence_id},{day(start)},US,apparel,retail,1,10,0,EUR",  # bad: wrong currency
        ],
    )
    service = _service(chain, tmp_path)
    ingested, built, sent = service.run([feed])

    assert (ingested[0].lines_read, ingested[0].valid, ingested[0].rejected) == (7, 5, 2)
    assert [(r.line_number, r.field) for r in ingested[0].rejections] == [(7, "units"), (8, "currency")]
    assert len(built) == 2 and len(sent.settled) == 2
    by_period = {r.period: r for r in sent.settled}
    # period 0: 10% of (900.00 + 250.555555) = 115.055555 (rounded down to the unit)
    assert by_period[0].royalty == 115_055_555
    # period 1: 10% of 99.99 in scope; the JP bucket earns nothing
    assert by_period[1].royalty == 9_999_000
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 115_055_555 - 9_999_000

    # The same file again changes nothing: all duplicates, no new report.
    again, built_again, sent_again = service.run([feed])
    assert (again[0].valid, again[0].duplicates, again[0].rejected) == (0, 5, 2)
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
