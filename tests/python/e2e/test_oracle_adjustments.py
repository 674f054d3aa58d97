"""Returns and adjustment reports through the real oracle service on Anvil.

Every licence here: 30-day periods, 10% of net sales (``oracle_world.register``'s default), US
apparel retail sales, USDX with 6 decimals. Period 0 (days 0..29) and period 1 (days 30..59) have
ended; nil reports are off, so only periods with lines are reported.

- Returns net against the period's sales in the report's ``returned`` buckets; a return naming
  a sale may not take back more than it sold.
- A line that arrives for a settled period, a cancel or a replace of a settled line goes into an
  adjustment (settlement kind Adjustment) that corrects the period's latest settlement and
  settles only the difference; less than before is the licensee's credit, used against its
  next royalties. The line's proof verifies against the adjustment's own root.
"""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from oracle_world import USDX, chain_now, day, fund, register

from intake.merkle import LINE_CANCEL, LINE_REPLACE, merkle_proof, verify
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.models import Kind
from royalty_chain.terms import DAY

US, APPAREL, RETAIL = territory_index("US"), field_index("apparel"), channel_index("retail")
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,action,returns_line_id\n"


def _licence(chain: Chain) -> tuple[int, int]:
    """A licence whose periods 0 and 1 have ended, funded with 10,000 USDX; (licence id, start)."""
    start = (chain_now(chain) - 65 * DAY) // DAY * DAY
    licence_id = register(chain, start)
    fund(chain, licence_id, 10_000 * USDX)
    return licence_id, start


def _service(chain: Chain, tmp_path: Path) -> OracleService:
    signers: list[LocalAccount] = [role("oracle1"), role("oracle2")]
    return OracleService(chain, Outbox(tmp_path / "outbox.sqlite"), signers, role("oracle_sender"), nil_reports=False)


def _feed(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _sale(line_id: str, licence_id: int, when: int, units: int, gross: str, action: str = "") -> str:
    return f"{line_id},{licence_id},{day(when)},US,apparel,retail,{units},{gross},0,USD,{action},"


def _bucket(units: int, gross: int) -> list[int]:
    return [0, US, APPAREL, RETAIL, units, gross, 0]


def _settle_period_0(chain: Chain, tmp_path: Path) -> tuple[OracleService, int, int, int]:
    """S-1: 10 units for 1,000.00 in period 0, settled: 10% = 100.00; (service, licence, start, settlement)."""
    licence_id, start = _licence(chain)
    service = _service(chain, tmp_path)
    _, _, sent = service.run([_feed(tmp_path / "q0.csv", _sale("S-1", licence_id, start + DAY, 10, "1000.00"))])
    (original,) = sent.settled
    assert (original.period, original.royalty, original.kind) == (0, 100 * USDX, "original")
    assert original.settlement_id is not None
    return service, licence_id, start, original.settlement_id


def test_a_return_nets_against_the_periods_sales(chain: Chain, tmp_path: Path) -> None:
    licence_id, start = _licence(chain)
    feed = _feed(
        tmp_path / "q0.csv",
        _sale("S-1", licence_id, start + DAY, 10, "1000.00"),
        f"R-1,{licence_id},{day(start + 5 * DAY)},US,apparel,retail,-2,-200.00,0,USD,,S-1",
    )
    service = _service(chain, tmp_path)

    ingested, built, sent = service.run([feed])

    assert (ingested[0].valid, ingested[0].rejected, len(built)) == (2, 0, 1)
    (report,) = sent.settled
    assert report.buckets == [_bucket(10, 1_000 * USDX)]
    assert report.returned == [_bucket(2, 200 * USDX)]
    # (1,000.00 sold - 200.00 returned) x 10% = 80.00
    assert report.royalty == 80 * USDX
    assert chain.ledger.settlement(report.settlement_id or 0).royalty == 80 * USDX
    (returned,) = chain.ledger.events("ReturnReported", settlementId=report.settlement_id)
    assert (returned.args["units"], returned.args["gross"]) == (2, 200 * USDX)
    assert chain.ledger.credit_of(licence_id) == 0


def test_a_return_larger_than_the_sale_it_names_is_rejected_and_the_other_lines_settle(
    chain: Chain, tmp_path: Path
) -> None:
    licence_id, start = _licence(chain)
    feed = _feed(
        tmp_path / "q0.csv",
        _sale("S-1", licence_id, start + DAY, 10, "1000.00"),
        f"R-1,{licence_id},{day(start + 2 * DAY)},US,apparel,retail,-12,-100.00,0,USD,,S-1",
        f"R-2,{licence_id},{day(start + 2 * DAY)},US,apparel,retail,-1,-1000.01,0,USD,,S-1",
        _sale("S-2", licence_id, start + 3 * DAY, 1, "500.00"),
    )
    service = _service(chain, tmp_path)

    ingested, _, sent = service.run([feed])

    assert (ingested[0].valid, ingested[0].rejected) == (2, 2)
    assert [(r.line_number, r.field, r.value, r.reason) for r in ingested[0].rejections] == [
        (3, "units", "-12", "returns 12 units of line S-1, which sold 10"),
        (4, "gross", "-1000.01", "returns 1000.01 of gross of line S-1, which sold 1000"),
    ]
    (report,) = sent.settled
    assert (report.line_count, report.returned) == (2, [])
    assert report.royalty == 150 * USDX  # (1,000.00 + 500.00) x 10%


def test_a_late_line_for_a_settled_period_goes_into_an_adjustment(chain: Chain, tmp_path: Path) -> None:
    service, licence_id, start, original = _settle_period_0(chain, tmp_path)
    late = _feed(tmp_path / "late.csv", _sale("L-1", licence_id, start + 2 * DAY, 5, "500.00"))

    ingested, built, sent = service.run([late])

    assert (ingested[0].valid, ingested[0].rejected, len(built)) == (1, 0, 1)
    (adjustment,) = sent.settled
    assert (adjustment.kind, adjustment.adjustment, adjustment.corrects) == ("adjustment", 1, original)
    assert (adjustment.period, adjustment.line_count, adjustment.buckets, adjustment.returned) == (
        0,
        1,
        [_bucket(5, 500 * USDX)],
        [],
    )
    assert adjustment.royalty == 50 * USDX  # only the difference: 500.00 x 10%
    settlement = chain.ledger.settlement(adjustment.settlement_id or 0)
    assert (settlement.kind, settlement.period, settlement.royalty) == (Kind.ADJUSTMENT, 0, 50 * USDX)
    assert chain.ledger.latest_of_period(licence_id, 0) == adjustment.settlement_id
    assert chain.ledger.settled_period(licence_id, 0) == original
    (accepted,) = chain.ledger.events("ReportAccepted", settlementId=adjustment.settlement_id)
    assert (accepted.args["corrects"], accepted.args["lineCount"]) == (original, 1)
    root = bytes.fromhex(str(accepted.args["linesRoot"]).removeprefix("0x"))
    assert root == adjustment.lines_root
    # The line records the report that carried it, and its proof verifies against that root.
    (row,) = service.outbox.find_line(service.conn, "L-1")
    assert (row["state"], row["report_id"]) == ("reported", adjustment.id)
    leaves = service.outbox.period_leaves(service.conn, licence_id, 0, report_id=adjustment.id)
    leaf = bytes(row["leaf"])
    assert verify(merkle_proof(leaves, leaf), root, leaf)
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 100 * USDX - 50 * USDX


def test_a_cancelled_settled_line_becomes_credit_used_against_the_next_period(chain: Chain, tmp_path: Path) -> None:
    service, licence_id, start, original = _settle_period_0(chain, tmp_path)
    cancel = _feed(tmp_path / "cancel.csv", f"S-1,{licence_id},,,,,,,,,cancel,")

    _, _, sent = service.run([cancel])

    (adjustment,) = sent.settled
    assert (adjustment.kind, adjustment.corrects, adjustment.buckets) == ("adjustment", original, [])
    assert adjustment.returned == [_bucket(10, 1_000 * USDX)]
    # -1,000.00 x 10% = -100.00: nothing is paid back, it is the licensee's credit
    assert adjustment.royalty == 0
    assert chain.ledger.credit_of(licence_id) == 100 * USDX
    (carried,) = chain.ledger.events("CreditCarried", licenceId=licence_id)
    assert (carried.args["settlementId"], carried.args["amount"]) == (adjustment.settlement_id, 100 * USDX)
    versions = service.outbox.find_line(service.conn, "S-1")
    assert [(v["revision"], v["kind"], v["report_id"]) for v in versions] == [
        (0, 0, service.outbox.report_for(service.conn, licence_id, 0).id),  # type: ignore[union-attr]
        (1, LINE_CANCEL, adjustment.id),
    ]

    # Period 1: 2,000.00 x 10% = 200.00, of which the 100.00 credit pays half.
    _, _, sent = service.run([_feed(tmp_path / "q1.csv", _sale("S-2", licence_id, start + 40 * DAY, 1, "2000.00"))])
    (next_period,) = sent.settled
    assert (next_period.period, next_period.royalty, sent.paid[next_period.id]) == (1, 200 * USDX, 100 * USDX)
    (applied,) = chain.ledger.events("CreditApplied", licenceId=licence_id)
    assert (applied.args["amount"], applied.args["creditLeft"]) == (100 * USDX, 0)
    assert chain.ledger.credit_of(licence_id) == 0
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 100 * USDX - 100 * USDX


def test_a_replaced_settled_line_settles_its_difference(chain: Chain, tmp_path: Path) -> None:
    service, licence_id, start, original = _settle_period_0(chain, tmp_path)
    replace = _feed(tmp_path / "replace.csv", _sale("S-1", licence_id, start + DAY, 12, "1200.00", "replace"))

    _, _, sent = service.run([replace])

    (adjustment,) = sent.settled
    assert adjustment.corrects == original
    # the new values added, the old ones taken away: (1,200.00 - 1,000.00) x 10% = 20.00
    assert (adjustment.buckets, adjustment.returned) == ([_bucket(12, 1_200 * USDX)], [_bucket(10, 1_000 * USDX)])
    assert adjustment.royalty == 20 * USDX
    assert chain.ledger.settlement(adjustment.settlement_id or 0).kind == Kind.ADJUSTMENT
    (_, replaced) = service.outbox.find_line(service.conn, "S-1")
    assert (replaced["kind"], replaced["units"], replaced["gross"]) == (LINE_REPLACE, "12", str(1_200 * USDX))


def test_a_second_adjustment_corrects_the_first(chain: Chain, tmp_path: Path) -> None:
    service, licence_id, start, original = _settle_period_0(chain, tmp_path)
    _, _, first = service.run([_feed(tmp_path / "l1.csv", _sale("L-1", licence_id, start + 2 * DAY, 1, "500.00"))])
    _, _, second = service.run([_feed(tmp_path / "l2.csv", _sale("L-2", licence_id, start + 3 * DAY, 1, "300.00"))])

    (one,), (two,) = first.settled, second.settled
    assert (one.adjustment, one.corrects, one.royalty) == (1, original, 50 * USDX)  # 500.00 x 10%
    assert (two.adjustment, two.corrects, two.royalty) == (2, one.settlement_id, 30 * USDX)  # 300.00 x 10%
    assert chain.ledger.latest_of_period(licence_id, 0) == two.settlement_id
    assert [r.kind for r in service.outbox.period_reports(service.conn, licence_id, 0)] == [
        "original",
        "adjustment",
        "adjustment",
    ]


def test_a_cancel_of_a_line_this_oracle_never_accepted_is_rejected(chain: Chain, tmp_path: Path) -> None:
    licence_id, start = _licence(chain)
    feed = _feed(
        tmp_path / "q0.csv",
        f"X-9,{licence_id},,,,,,,,,cancel,",
        _sale("S-1", licence_id, start + DAY, 1, "100.00"),
    )
    service = _service(chain, tmp_path)

    ingested, _, sent = service.run([feed])

    assert [(r.line_number, r.field, r.value, r.reason) for r in ingested[0].rejections] == [
        (2, "line_id", "X-9", "cancels line X-9, which this oracle never accepted")
    ]
    (report,) = sent.settled
    assert (report.line_count, report.royalty) == (1, 10 * USDX)


def test_a_line_cancelled_before_its_period_is_reported_is_in_no_amount(chain: Chain, tmp_path: Path) -> None:
    licence_id, start = _licence(chain)
    feed = _feed(
        tmp_path / "q0.csv",
        _sale("S-1", licence_id, start + DAY, 10, "1000.00"),
        _sale("S-2", licence_id, start + DAY, 1, "100.00"),
        _sale("S-2", licence_id, start + DAY, 3, "300.00", "replace"),
        f"S-1,{licence_id},,,,,,,,,cancel,",
    )
    service = _service(chain, tmp_path)

    _, built, sent = service.run([feed])

    # One original report: S-1 came and went, S-2 counts at its new values (300.00 x 10% = 30.00);
    # all four lines are in its root.
    (report,) = sent.settled
    assert (len(built), report.kind, report.line_count) == (1, "original", 4)
    assert (report.buckets, report.returned) == ([_bucket(3, 300 * USDX)], [])
    assert report.royalty == 30 * USDX


def test_an_adjustment_is_signed_again_when_the_periods_latest_settlement_moved(chain: Chain, tmp_path: Path) -> None:
    service, licence_id, start, original = _settle_period_0(chain, tmp_path)
    service.ingest(_feed(tmp_path / "late.csv", _sale("L-1", licence_id, start + 2 * DAY, 1, "500.00")))
    (built,) = service.build_reports()
    assert service.outbox.get_report(service.conn, built).corrects == original
    # As if another settlement of the period had been the latest when it was signed: the sender
    # reads latestOfPeriod again and signs it anew, naming the latest.
    service.conn.exec_driver_sql("UPDATE reports SET corrects = ? WHERE id = ?", (original + 1000, built))
    service.conn.commit()

    sent = service.send()

    (adjustment,) = sent.settled
    assert (adjustment.id, adjustment.corrects, adjustment.royalty) == (built, original, 50 * USDX)
    assert chain.ledger.latest_of_period(licence_id, 0) == adjustment.settlement_id
