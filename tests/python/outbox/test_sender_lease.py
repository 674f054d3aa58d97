"""The sender lease, on SQLite and on PostgreSQL: one holder at a time, taken over once it
expires under a new epoch, and a deposed holder can record (so send) nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from oracle_testkit import line_leaf

from intake.validate import ValidLine
from outbox import Outbox, ReportState
from outbox.lease import LeaseLost, SenderLease

LICENSEE = "0x00000000000000000000000000000000000000aa"


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Outbox:
    location = tmp_path / "outbox.sqlite" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    box = Outbox(location)
    request.addfinalizer(box.close)
    return box


def _signed_report(outbox: Outbox) -> int:
    leaf = line_leaf("L-1", 3, 0, 1_700_000_000, 232, 10, 1, 1, 100, 0)
    line = ValidLine(1, "L-1", 3, 0, 0, 1_700_000_000, 232, 10, 1, 1, 100, 0, leaf, True)
    with outbox.connect() as conn:
        assert outbox.store_lines(conn, {3: LICENSEE}, [line, line], source="f.csv") == 1
        conn.commit()
        return outbox.add_report(
            conn, licence_id=3, period=0, sequence=1, deadline=1_800_000_000, lines_root=leaf, line_count=1,
            buckets=[[0, 232, 10, 1, 1, 100, 0]], signatures=[b"\x01" * 65],
        )  # fmt: skip


def test_one_holder_the_other_stands_by_until_the_lease_expires(outbox: Outbox) -> None:
    first = SenderLease(outbox.engine, ttl=1.0, renew_every=0.2, holder="first")
    second = SenderLease(outbox.engine, ttl=1.0, renew_every=0.2, holder="second")
    assert first.acquire() and first.epoch == 1
    assert not second.acquire() and second.epoch is None
    assert first.renew() and first.held()
    state = second.state()
    assert (state.holder, state.epoch) == ("first", 1) and 0.5 < state.expires_in <= 1.0
    time.sleep(1.1)  # the first stops renewing (it died)
    assert not first.held() and not first.may_broadcast()  # by its own clock, too
    assert second.acquire() and second.epoch == 2
    assert not first.renew()  # deposed: its epoch is gone
    assert first.epoch is None and not first.acquire()


def test_a_deposed_holder_records_no_send(outbox: Outbox) -> None:
    report_id = _signed_report(outbox)
    first = SenderLease(outbox.engine, ttl=0.6, renew_every=0.1, holder="first")
    second = SenderLease(outbox.engine, ttl=5.0, renew_every=1.0, holder="second")
    assert first.acquire()
    time.sleep(0.7)
    assert second.acquire()
    # The first does not know yet that it lost the lease (it was paused): the fenced write refuses.
    with first._lock:
        first.epoch, first._valid_until = 1, time.monotonic() + 10
    with outbox.connect() as conn:
        with pytest.raises(LeaseLost, match="lost the sender lease"):
            outbox.mark_sent(conn, [report_id], "0x" + "aa" * 32, fence=first.fence)
        assert outbox.get_report(conn, report_id).state == ReportState.SIGNED  # nothing recorded
        outbox.mark_sent(conn, [report_id], "0x" + "bb" * 32, fence=second.fence)
        stored = outbox.get_report(conn, report_id)
        assert (stored.state, stored.tx_hash) == (ReportState.SENT, "0x" + "bb" * 32)


def test_release_hands_over_at_once(outbox: Outbox) -> None:
    first = SenderLease(outbox.engine, ttl=30.0, renew_every=5.0, holder="first")
    second = SenderLease(outbox.engine, ttl=30.0, renew_every=5.0, holder="second")
    assert first.acquire() and not second.acquire()
    first.release()
    assert second.acquire() and second.epoch == 2
    with pytest.raises(LeaseLost), outbox.connect() as conn:
        first.fence(conn)


def test_background_renewal_keeps_the_lease_past_its_ttl(outbox: Outbox) -> None:
    holder = SenderLease(outbox.engine, ttl=0.6, renew_every=0.1, holder="holder")
    other = SenderLease(outbox.engine, ttl=0.6, renew_every=0.1, holder="other")
    assert holder.acquire()
    holder.start_renewing()
    try:
        time.sleep(1.5)
        assert holder.held() and not other.acquire()
    finally:
        holder.stop_renewing()


def test_the_outbox_works_on_both_databases(outbox: Outbox) -> None:
    report_id = _signed_report(outbox)
    with outbox.connect() as conn:
        outbox.store_rejections(conn, outbox.start_file(conn, "f.csv"), [])
        outbox.close_period(conn, 3, 0)
        outbox.close_period(conn, 3, 0)  # twice: still one row
        assert outbox.is_closed(conn, 3, 0)
        assert [line["report_id"] for line in outbox.find_line(conn, "L-1")] == [report_id]
        outbox.mark_sent(conn, [report_id], "0x" + "cc" * 32)
        outbox.mark_settled(conn, report_id, 7, 10, 10, "0x" + "cc" * 32)
        assert outbox.counts(conn) == {"lines_reported": 1, "reports_settled": 1}
