"""A report's state moves only as the outbox's docstring says; the database refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from outbox import Outbox, ReportState, ReportStateError


def _signed(outbox: Outbox, conn: Connection, period: int) -> int:
    return outbox.add_report(
        conn,
        licence_id=1,
        period=period,
        sequence=period,
        deadline=2_000_000_000,
        lines_root=b"\x00" * 32,
        line_count=0,
        buckets=[],
        signatures=[b"\x01" * 65],
    )


def test_the_allowed_path_signed_sent_signed_again_sent_settled(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        report = _signed(outbox, conn, 1)
        outbox.mark_sent(conn, [report], "0x" + "aa" * 32)
        outbox.resign(conn, report, 2, 2_000_000_100, [b"\x02" * 65])  # the sent tx was lost
        again = outbox.get_report(conn, report)
        assert (again.state, again.sequence, again.tx_hash, again.signatures) == (
            ReportState.SIGNED,
            2,
            None,
            (b"\x02" * 65,),
        )
        outbox.mark_sent(conn, [report], "0x" + "bb" * 32)
        outbox.mark_settled(conn, report, 5, 100, 100, None)
        done = outbox.get_report(conn, report)
        assert (done.state, done.attempts, done.tx_hash, done.settlement_id) == (
            ReportState.SETTLED,
            2,
            "0x" + "bb" * 32,
            5,
        )


def test_a_settled_report_is_never_signed_sent_or_rejected_again(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        report = _signed(outbox, conn, 1)
        outbox.mark_settled(conn, report, 5, 100, 100, "0x" + "cc" * 32)
        with pytest.raises(ReportStateError, match=r"cannot mark signed: report 1 is settled"):
            outbox.resign(conn, report, 9, 2_000_000_100, [b"\x02" * 65])
        with pytest.raises(ReportStateError, match=r"cannot mark sent: report 1 is settled \(only signed"):
            outbox.mark_sent(conn, [report], "0x" + "dd" * 32)
        with pytest.raises(ReportStateError, match=r"cannot mark rejected: report 1 is settled"):
            outbox.mark_rejected(conn, report, "late")
        with pytest.raises(ReportStateError, match=r"cannot mark settled: report 1 is settled"):
            outbox.mark_settled(conn, report, 6, 1, 1, None)
        kept = outbox.get_report(conn, report)
        assert (kept.state, kept.sequence, kept.tx_hash, kept.settlement_id, kept.error) == (
            ReportState.SETTLED,
            1,
            "0x" + "cc" * 32,
            5,
            None,
        )


def test_a_batch_with_one_report_in_the_wrong_state_moves_none_of_them(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with outbox.connect() as conn:
        first, second = _signed(outbox, conn, 1), _signed(outbox, conn, 2)
        outbox.mark_rejected(conn, second, "ScopeMismatch")
        with pytest.raises(ReportStateError, match=r"report 2 is rejected") as refused:
            outbox.mark_sent(conn, [first, second, 99], "0x" + "ee" * 32)
        assert refused.value.states == {2: "rejected", 99: None}
        assert [(r.id, r.state, r.tx_hash) for r in outbox.all_reports(conn)] == [
            (1, ReportState.SIGNED, None),
            (2, ReportState.REJECTED, None),
        ]
