"""Audit findings through the oracle on Anvil: `royalty-oracle audit` and the function it calls.

Every licence here: 30-day periods due 30 days after they end, 10% of net sales, 12% a year
interest on late payment (``late_interest_bps`` 1200) and an audit threshold of 5%
(``audit_threshold_bps`` 500) unless a test says otherwise; US apparel retail sales in USDX (6
decimals). It starts 40 days before the chain's clock, so period 0 (days 0..29) has ended and is
due on day 60 (in about 20 days): its report settles on time, 100.00 for 1,000.00 of sales.

An audit finding is an adjustment of period 0 with audit=true and the audit's cost. When the
underpayment it reveals is above 5% of the 100.00 settled (``u * 10,000 > 500 * 100.00``), it is
due from day 60, so settling it on day 160 charges 100 days of interest, and its cost is charged
as a settlement of kind AuditCost; at or below 5%, neither.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from oracle_world import USDX, chain_now, day, fund, register
from rich.console import Console
from typer.testing import CliRunner

from intake.merkle import LINE_REPLACE, merkle_proof, verify
from oracle import cli
from oracle.audit import AuditError, audit_outcome
from oracle.service import OracleService
from outbox import Outbox
from royalty_chain.client import Chain
from royalty_chain.codes import channel_index, field_index, territory_index
from royalty_chain.dev.keys import role
from royalty_chain.models import Kind
from royalty_chain.spec import TermIn
from royalty_chain.terms import DAY, Term

US, APPAREL, RETAIL = territory_index("US"), field_index("apparel"), channel_index("retail")
HEADER = "line_id,licence_id,sale_date,territory,field,channel,units,gross,deductions,currency,action,returns_line_id\n"
INTEREST_YEAR = 365 * DAY  # the ledger's actual/365 year: 31,536,000 seconds


def _licence(chain: Chain, *, threshold_bps: int = 500, interest_bps: int = 1200) -> tuple[int, int]:
    """A licence whose period 0 has ended and is due on day 60, funded with 10,000 USDX; (id, start)."""
    start = (chain_now(chain) - 40 * DAY) // DAY * DAY
    terms = TermIn(
        start=start,
        end=start + 2 * 365 * DAY,
        sell_off_days=180,
        period_days=30,
        due_days=30,
        late_interest_bps=interest_bps,
        audit_threshold_bps=threshold_bps,
    )
    assert terms.period_seconds is not None
    term = Term(terms.start, terms.end, terms.sell_off_days, terms.period_seconds, terms.calendar())
    licence_id = register(chain, start, term=term)
    fund(chain, licence_id, 10_000 * USDX)
    return licence_id, start


def _service(chain: Chain, outbox: Path) -> OracleService:
    return OracleService(
        chain, Outbox(outbox), [role("oracle1"), role("oracle2")], role("oracle_sender"), nil_reports=False
    )


def _feed(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _sale(line_id: str, licence_id: int, when: int, units: int, gross: str, action: str = "") -> str:
    return f"{line_id},{licence_id},{day(when)},US,apparel,retail,{units},{gross},0,USD,{action},"


def _bucket(units: int, gross: int) -> list[int]:
    return [0, US, APPAREL, RETAIL, units, gross, 0]


def _settle_period_0(service: OracleService, tmp_path: Path, licence_id: int, start: int) -> int:
    """S-1: 10 units for 1,000.00 in period 0, settled on time: 10% = 100.00; its settlement."""
    _, _, sent = service.run([_feed(tmp_path / "q0.csv", _sale("S-1", licence_id, start + DAY, 10, "1000.00"))])
    (original,) = sent.settled
    assert (original.royalty, sent.paid[original.id]) == (100 * USDX, 100 * USDX)
    assert original.settlement_id is not None
    return original.settlement_id


def _next_block_at(chain: Chain, timestamp: int) -> None:
    """The next transaction is mined at exactly ``timestamp``. A block a minute before it comes
    first, so that what the oracle signs now (deadline: chain time + 1 day) is still valid then."""
    chain.transport.call("evm_setNextBlockTimestamp", timestamp - 60)
    chain.transport.call("evm_mine")
    chain.transport.call("evm_setNextBlockTimestamp", timestamp)


def _dump(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@pytest.fixture
def oracle_cli(chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Console, Path]:
    """`royalty-oracle` configured for this chain and a fresh outbox; its console, wide and recorded."""
    manifest = tmp_path / "manifest.json"
    chain.manifest.save(manifest)
    outbox = tmp_path / "outbox.sqlite"
    for name, value in {
        "ORACLE_RPC_URL": chain.transport.url,
        "ORACLE_MANIFEST": str(manifest),
        "ORACLE_OUTBOX": str(outbox),
        "ORACLE_NIL_REPORTS": "false",  # the shared chain's other licences are not this test's
    }.items():
        monkeypatch.setenv(name, value)
    console = Console(width=250, record=True)
    monkeypatch.setattr(cli, "console", console)
    # The command would configure structlog for the whole process (other tests capture its logs).
    monkeypatch.setattr(cli, "_configure_logging", lambda verbose: None)
    return CliRunner(), console, outbox


def _printed(console: Console) -> str:
    return " ".join(console.export_text().split())


def test_an_audit_above_the_threshold_bears_interest_from_the_due_date_and_its_cost(
    chain: Chain, tmp_path: Path, oracle_cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = oracle_cli
    licence_id, start = _licence(chain)
    submitted = runner.invoke(
        cli.app, ["submit", str(_feed(tmp_path / "q0.csv", _sale("S-1", licence_id, start + DAY, 10, "1000.00")))]
    )
    assert submitted.exit_code == 0, submitted.output
    original = chain.ledger.settled_period(licence_id, 0)
    assert chain.ledger.settlement(original).royalty == 100 * USDX  # 1,000.00 x 10%
    assert chain.ledger.events("InterestCharged", onSettlementId=original) == []  # paid before day 60
    # The audit found a sale never reported (L-1, 500.00) and S-1 under-reported (1,100.00, not 1,000.00).
    finding = _feed(
        tmp_path / "audit.csv",
        _sale("L-1", licence_id, start + 2 * DAY, 5, "500.00"),
        _sale("S-1", licence_id, start + DAY, 11, "1100.00", "replace"),
    )
    due = start + 60 * DAY  # period 0 ends on day 30, due 30 days later
    settled_at = due + 100 * DAY
    _next_block_at(chain, settled_at)
    console.export_text()  # what submit printed is not this test's

    done = runner.invoke(
        cli.app,
        ["audit", str(finding), "--licence", str(licence_id), "--period", "0", "--cost", "3000.00",
         "--finding-ref", "AUD-2026-01"],
    )  # fmt: skip

    assert done.exit_code == 0, done.output
    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        report = outbox.period_reports(conn, licence_id, 0)[-1]
        lines = {
            (r["line_id"], r["revision"]): r for r in outbox.find_line(conn, "L-1") + outbox.find_line(conn, "S-1")
        }
    assert (report.kind, report.adjustment, report.corrects, report.state) == ("audit", 1, original, "settled")
    assert (report.audit, report.audit_cost, report.finding_ref) == (True, 3_000 * USDX, "AUD-2026-01")
    # It adds L-1 and S-1's new values and takes S-1's old ones away.
    assert (report.line_count, report.buckets, report.returned) == (
        2,
        [_bucket(5 + 11, 500 * USDX + 1_100 * USDX)],
        [_bucket(10, 1_000 * USDX)],
    )
    assert lines["S-1", 1]["kind"] == LINE_REPLACE
    assert [lines[key]["report_id"] for key in (("L-1", 0), ("S-1", 1))] == [report.id, report.id]

    # On chain: the finding (kind Audit) is the difference, (500.00 + 100.00) x 10% = 60.00, and
    # 60.00 x 10,000 > 500 x 100.00 (60% of the period's royalty, above 5%): it is due from day 60.
    audit = chain.ledger.settlement(report.settlement_id or 0)
    assert (audit.kind, audit.period, audit.royalty, audit.paid) == (Kind.AUDIT, 0, 60 * USDX, 60 * USDX)
    assert audit.due_at == due
    assert chain.ledger.latest_of_period(licence_id, 0) == report.settlement_id
    (accepted,) = chain.ledger.events("ReportAccepted", settlementId=report.settlement_id)
    root = bytes.fromhex(str(accepted.args["linesRoot"]).removeprefix("0x"))
    assert (accepted.args["corrects"], root) == (original, report.lines_root)
    with outbox.connect() as conn:
        leaves = outbox.period_leaves(conn, licence_id, 0, report_id=report.id)
    leaf = bytes(lines["L-1", 0]["leaf"])
    assert verify(merkle_proof(leaves, leaf), root, leaf)
    # Interest from the original due date: 100 days late, at 12% a year, on the 60.00 drawn:
    # floor(60,000,000 x 1,200 x 8,640,000 / (10,000 x 31,536,000)) = floor(1,972,602.73...) = 1.972602
    (charged,) = chain.ledger.events("InterestCharged", onSettlementId=report.settlement_id)
    seconds_late = 100 * DAY
    assert (charged.args["principal"], charged.args["from"], charged.args["to"]) == (60 * USDX, due, settled_at)
    assert charged.args["interest"] == 60 * USDX * 1200 * seconds_late // (10_000 * INTEREST_YEAR) == 1_972_602
    interest = chain.ledger.settlement(charged.args["settlementId"])
    assert (interest.kind, interest.period, interest.royalty) == (Kind.INTEREST, 0, 1_972_602)
    # The audit's cost, 3,000.00, charged as its own settlement (kind AuditCost).
    outcome = audit_outcome(chain, report.settlement_id or 0)
    assert outcome is not None
    assert (outcome.underpayment, outcome.reported_royalty, outcome.threshold_bps, outcome.exceeded) == (
        60 * USDX,
        100 * USDX,
        500,
        True,
    )
    assert outcome.audit_cost == 3_000 * USDX
    cost = chain.ledger.settlement(outcome.audit_cost_id)
    assert (cost.kind, cost.period, cost.royalty, cost.paid) == (Kind.AUDIT_COST, 0, 3_000 * USDX, 3_000 * USDX)
    # One transaction made the three, in this order: the finding, its interest, its cost.
    assert (charged.args["settlementId"], outcome.audit_cost_id) == (
        (report.settlement_id or 0) + 1,
        (report.settlement_id or 0) + 2,
    )
    # Escrow: 10,000.00 - 100.00 - 60.00 - 1.972602 - 3,000.00 = 6,838.027398; the licensor, the
    # one payee, may withdraw all that was paid: 100.00 + 60.00 + 1.972602 + 3,000.00 = 3,161.972602.
    assert chain.ledger.escrow_of(licence_id) == 6_838_027_398
    assert chain.ledger.claimable(licence_id, role("licensor_brand").address) == 3_161_972_602

    printed = _printed(console)
    assert "Audit finding queued" in printed
    name = f"{day(start)}--{day(start + 29 * DAY)}"
    # report, licence, period (30-day periods are named by their days), corrects, lines, the
    # buckets it adds and takes away, the cost, the reference
    cells = [report.id, licence_id, f"0 ({name})", original, 2, "1 bucket(s)", "1 bucket(s)", "3000 USD", "AUD-2026-01"]
    assert "│ " + " │ ".join(map(str, cells)) + " │" in printed
    assert (
        f"audit settlement {report.settlement_id}: underpayment 60 USD against 100 USD settled for the period, "
        "above the licence's threshold of 5%: due from the period's original due date"
    ) in printed
    assert (
        f"interest 1.972602 USD (settlement {charged.args['settlementId']}) from {day(due)} to {day(settled_at)} "
        "(8640000 seconds, 100 days late)"
    ) in printed
    assert f"audit cost 3000 USD charged as settlement {outcome.audit_cost_id}" in printed


def test_an_audit_at_the_threshold_is_due_as_it_settles_and_its_cost_is_not_charged(
    chain: Chain, tmp_path: Path
) -> None:
    licence_id, start = _licence(chain)
    service = _service(chain, tmp_path / "outbox.sqlite")
    original = _settle_period_0(service, tmp_path, licence_id, start)
    count = chain.ledger.settlement_count()
    finding = _feed(tmp_path / "audit.csv", _sale("L-1", licence_id, start + 3 * DAY, 1, "50.00"))
    settled_at = start + 160 * DAY  # 100 days after period 0's due date
    _next_block_at(chain, settled_at)

    queued = service.queue_audit(finding, licence_id=licence_id, period=0, cost="3000.00")
    sent = service.send()

    assert (queued.period_name, queued.cost, queued.found_nothing) == (
        f"{day(start)}--{day(start + 29 * DAY)}",
        "3000",
        False,
    )
    (report,) = sent.settled
    assert (report.id, report.kind, report.corrects, report.audit_cost) == (
        queued.report.id,
        "audit",
        original,
        3_000 * USDX,
    )
    # 50.00 x 10% = 5.00 underpaid: 5,000,000 x 10,000 = 500 x 100,000,000, not above 5% of the
    # 100.00 settled. So the finding is due as it settles (no interest for the 100 days since the
    # period's due date) and the audit's 3,000.00 are not charged: one settlement, of kind Audit.
    audit = chain.ledger.settlement(report.settlement_id or 0)
    assert (audit.kind, audit.royalty, audit.paid, audit.due_at) == (Kind.AUDIT, 5 * USDX, 5 * USDX, settled_at)
    outcome = audit_outcome(chain, report.settlement_id or 0)
    assert outcome is not None
    assert (outcome.underpayment, outcome.reported_royalty, outcome.exceeded) == (5 * USDX, 100 * USDX, False)
    assert (outcome.audit_cost_id, outcome.audit_cost, outcome.interest) == (0, 0, [])
    assert chain.ledger.settlement_count() == count + 1
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 100 * USDX - 5 * USDX


def test_an_audit_that_found_nothing_is_settled_at_zero_and_never_charges_its_cost(
    chain: Chain, tmp_path: Path, oracle_cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = oracle_cli
    licence_id, start = _licence(chain, threshold_bps=0)  # even "any underpayment" needs one
    original = _settle_period_0(_service(chain, outbox_path), tmp_path, licence_id, start)
    count = chain.ledger.settlement_count()
    nothing = _feed(tmp_path / "nothing.csv")  # the header alone: no line changes

    done = runner.invoke(
        cli.app, ["audit", str(nothing), "--licence", str(licence_id), "--period", "0", "--cost", "1500.50"]
    )

    assert done.exit_code == 0, done.output
    printed = _printed(console)
    assert (
        "an audit that found nothing: no line changes, so no underpayment. Its cost (1500.5 USD) is charged only "
        "when the underpayment exceeds the licence's threshold, that is never: it settles as an audit of 0 and "
        "the cost is not charged"
    ) in printed
    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        report = outbox.period_reports(conn, licence_id, 0)[-1]
    assert (report.kind, report.line_count, report.buckets, report.returned) == ("audit", 0, [], [])
    assert (report.lines_root, report.corrects, report.audit_cost) == (bytes(32), original, 1_500_500_000)
    audit = chain.ledger.settlement(report.settlement_id or 0)
    assert (audit.kind, audit.royalty, audit.paid) == (Kind.AUDIT, 0, 0)
    outcome = audit_outcome(chain, report.settlement_id or 0)
    assert outcome is not None
    assert (outcome.underpayment, outcome.exceeded, outcome.audit_cost_id, outcome.audit_cost) == (0, False, 0, 0)
    assert chain.ledger.settlement_count() == count + 1
    assert (
        "underpayment 0 USD against 100 USD settled for the period, not above the licence's threshold of 0%" in printed
    )
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 100 * USDX


def test_an_audit_signed_again_for_the_periods_latest_settlement_keeps_its_flag_and_cost(
    chain: Chain, tmp_path: Path
) -> None:
    licence_id, start = _licence(chain, threshold_bps=0)
    service = _service(chain, tmp_path / "outbox.sqlite")
    original = _settle_period_0(service, tmp_path, licence_id, start)
    finding = _feed(tmp_path / "audit.csv", _sale("L-1", licence_id, start + 2 * DAY, 1, "10.00"))
    queued = service.queue_audit(finding, licence_id=licence_id, period=0, cost="250.00", finding_ref="AUD-7")
    # As if another settlement of the period had been the latest when it was signed: the sender
    # reads latestOfPeriod again and signs it anew, naming the latest (the ledger would refuse
    # it with AdjustmentNotOfLatest); the signature covers audit=true and the cost again.
    service.conn.exec_driver_sql("UPDATE reports SET corrects = ? WHERE id = ?", (original + 1000, queued.report.id))
    service.conn.commit()

    sent = service.send()

    (report,) = sent.settled
    assert (report.id, report.corrects, report.sequence) == (queued.report.id, original, queued.report.sequence + 1)
    assert (report.kind, report.audit, report.audit_cost, report.finding_ref) == ("audit", True, 250 * USDX, "AUD-7")
    # 10.00 x 10% = 1.00 underpaid, above a threshold of 0 ("any underpayment"); settled before
    # the period's due date (day 60), so it is not late: no interest, and the 250.00 charged.
    audit = chain.ledger.settlement(report.settlement_id or 0)
    assert (audit.kind, audit.royalty, audit.due_at) == (Kind.AUDIT, 1 * USDX, start + 60 * DAY)
    outcome = audit_outcome(chain, report.settlement_id or 0)
    assert outcome is not None
    assert (outcome.underpayment, outcome.exceeded, outcome.audit_cost, outcome.interest) == (
        1 * USDX,
        True,
        250 * USDX,
        [],
    )
    assert chain.ledger.settlement(outcome.audit_cost_id).kind == Kind.AUDIT_COST
    assert chain.ledger.escrow_of(licence_id) == 10_000 * USDX - 100 * USDX - 1 * USDX - 250 * USDX


@pytest.fixture
def settled(chain: Chain, tmp_path: Path) -> tuple[OracleService, int, int, int]:
    """A licence whose period 0 settled (S-1, 100.00) and a second licence, both of the same
    licensee: (service, licence, other licence, start)."""
    licence_id, start = _licence(chain)
    other, _ = _licence(chain)
    service = _service(chain, tmp_path / "outbox.sqlite")
    _settle_period_0(service, tmp_path, licence_id, start)
    return service, licence_id, other, start


def _bad_audits(licence: int, other: int, start: int) -> list[tuple[str, list[str], dict[str, object], str]]:
    """(case, feed rows, queue_audit arguments, the error it gives); one good line otherwise."""
    good = [_sale("L-1", licence, start + 2 * DAY, 1, "500.00")]
    name0, name1 = f"{day(start)}--{day(start + 29 * DAY)}", f"{day(start + 30 * DAY)}--{day(start + 59 * DAY)}"
    return [
        ("unsettled period", [_sale("L-1", licence, start + 31 * DAY, 1, "5.00")], {"period": 1},
         f"licence {licence} period 1 ({name1}) is not settled on chain: an audit finding corrects a settled "
         "period (a report of it on its way settles with `royalty-oracle send`)"),
        ("unknown licence", good, {"licence_id": 10**9}, "--licence 1000000000: there is no licence 1000000000 in "
         "the registry"),
        ("line of another licence", [*good, _sale("X-1", other, start + 2 * DAY, 1, "5.00")], {},
         "audit.csv: 1 line(s) of another licence or period: an audit finding is signed whole, for one licence "
         f"and period, so every line must be good | line 3: line_id 'X-1' is of licence {other}, not of licence "
         f"{licence}"),
        ("line of another period", [*good, _sale("L-2", licence, start + 35 * DAY, 1, "5.00")], {},
         "audit.csv: 1 line(s) of another licence or period: an audit finding is signed whole, for one licence "
         f"and period, so every line must be good | line 3: line_id 'L-2' is in period 1 ({name1}), not in "
         f"period 0 ({name0})"),
        ("bad line", [*good, f"L-3,{licence},{day(start + DAY)},us,apparel,retail,1,5.00,0,USD,,"], {},
         "audit.csv: 1 line(s) rejected: an audit finding is signed whole, for one licence and period, so every "
         "line must be good | line 3: territory 'us' is not an ISO 3166-1 alpha-2 code (codes are "
         "case-sensitive: 'US')"),
        ("line reported before", [*good, _sale("S-1", licence, start + DAY, 10, "1000.00")], {},
         "audit.csv: 1 line(s) are in the outbox already with the same content (was this audit queued before? "
         "`royalty-oracle status` lists the reports): a finding carries only new lines, cancels and replaces "
         "that change a line"),
        ("negative cost", good, {"cost": "-5"}, "--cost '-5' is negative: an audit's cost is what the licensee is "
         "charged for it, 0 or more"),
        ("malformed cost", good, {"cost": "3,000.00"}, "--cost '3,000.00' is not a decimal number: give it in USD "
         "with at most 6 decimals, like a feed's amounts (3000.00)"),
        ("cost finer than the token", good, {"cost": "0.0000001"}, "--cost '0.0000001' has 7 decimals; at most 6 "
         "allowed: give it in USD with at most 6 decimals, like a feed's amounts (3000.00)"),
        ("cost beyond uint128", good, {"cost": str(2**128)}, f"--cost '{2**128}' exceeds uint128 when scaled to 6 "
         "decimals: give it in USD with at most 6 decimals, like a feed's amounts (3000.00)"),
        ("empty reference", good, {"finding_ref": " "}, "--finding-ref is empty: leave it out, or name the finding "
         "(an audit report's number)"),
    ]  # fmt: skip


CASES = [case for case, *_ in _bad_audits(1, 2, 0)]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_audit_is_refused_naming_what_is_wrong_and_nothing_is_stored(
    settled: tuple[OracleService, int, int, int], tmp_path: Path, case: str
) -> None:
    service, licence_id, other, start = settled
    ((_, rows, arguments, message),) = [bad for bad in _bad_audits(licence_id, other, start) if bad[0] == case]
    feed = _feed(tmp_path / "audit.csv", *rows)
    before = _dump(service.outbox.path)
    call: dict[str, object] = {"licence_id": licence_id, "period": 0, "cost": "3000.00", **arguments}

    with pytest.raises(AuditError) as refused:
        service.queue_audit(feed, **call)  # type: ignore[arg-type]

    assert " | ".join([str(refused.value), *refused.value.problems]) == message
    assert _dump(service.outbox.path) == before
    assert service.send().sent == 0  # nothing signed either


def test_an_audit_waits_for_the_periods_lines_and_reports_on_their_way_and_a_reference_is_used_once(
    settled: tuple[OracleService, int, int, int], tmp_path: Path
) -> None:
    service, licence_id, _, start = settled
    name = f"{day(start)}--{day(start + 29 * DAY)}"
    finding = _feed(tmp_path / "audit.csv", _sale("A-1", licence_id, start + 2 * DAY, 1, "5.00"))
    # A late line of period 0 waits for an adjustment: the finding would carry it too.
    service.ingest(_feed(tmp_path / "late.csv", _sale("L-9", licence_id, start + 4 * DAY, 1, "7.00")))
    before = _dump(service.outbox.path)
    with pytest.raises(AuditError) as waiting:
        service.queue_audit(finding, licence_id=licence_id, period=0, cost="1.00")
    assert str(waiting.value) == (
        f"licence {licence_id} period 0 ({name}): 1 line(s) of the period wait for an adjustment: let them settle "
        "first (`royalty-oracle send`), so that the finding carries only its own lines"
    )
    assert _dump(service.outbox.path) == before
    # Signed into an adjustment, not sent yet: the finding would correct a settlement about to change.
    (adjustment,) = service.build_reports()
    before = _dump(service.outbox.path)
    with pytest.raises(AuditError) as on_its_way:
        service.queue_audit(finding, licence_id=licence_id, period=0, cost="1.00")
    assert str(on_its_way.value) == (
        f"licence {licence_id} period 0 ({name}): its adjustment report {adjustment} is on its way (signed): let it "
        "settle first (`royalty-oracle send`), so that the finding corrects the period as settled"
    )
    assert _dump(service.outbox.path) == before
    assert [r.id for r in service.send().settled] == [adjustment]

    queued = service.queue_audit(finding, licence_id=licence_id, period=0, cost="1.00", finding_ref="AUD-1")
    assert queued.report.corrects == service.outbox.get_report(service.conn, adjustment).settlement_id
    before = _dump(service.outbox.path)
    again = _feed(tmp_path / "again.csv", _sale("A-2", licence_id, start + 2 * DAY, 1, "5.00"))
    with pytest.raises(AuditError) as twice:
        service.queue_audit(again, licence_id=licence_id, period=0, cost="1.00", finding_ref="AUD-1")
    assert str(twice.value) == (
        f"--finding-ref 'AUD-1': licence {licence_id} has that finding already, report {queued.report.id} of "
        "period 0 (signed); an audit is queued once"
    )
    assert _dump(service.outbox.path) == before


def test_the_cli_refuses_a_bad_audit_with_exit_1_and_stores_nothing(
    chain: Chain, tmp_path: Path, oracle_cli: tuple[CliRunner, Console, Path]
) -> None:
    runner, console, outbox_path = oracle_cli
    licence_id, start = _licence(chain)
    finding = _feed(tmp_path / "audit.csv", _sale("L-1", licence_id, start + 2 * DAY, 1, "500.00"))

    done = runner.invoke(
        cli.app, ["audit", str(finding), "--licence", str(licence_id), "--period", "0", "--cost", "-5"]
    )

    assert done.exit_code == 1
    assert _printed(console) == (
        "audit finding not queued: --cost '-5' is negative: an audit's cost is what the licensee is charged for it, "
        "0 or more nothing was stored"
    )
    outbox = Outbox(outbox_path)
    with outbox.connect() as conn:
        assert (outbox.all_reports(conn), outbox.counts(conn)) == ([], {})
