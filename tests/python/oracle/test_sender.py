"""The sender's branches against a fake node (no chain): nonces, gas, receipts, refusals, pipeline.

Each test puts signed reports into a real outbox (SQLite in tmp_path), runs rounds of
``ReportSender.send`` against :class:`fake_node.FakeNode`, and checks the exact nonces, gas limits
and outbox states that result. Royalty in the fake ledger is 10% of a report's gross.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from eth_account import Account
from fake_node import FakeNode, revert
from sqlalchemy.engine import Connection

from oracle import sender as sender_module
from oracle.sender import MAX_IN_FLIGHT, ReportSender
from outbox import Outbox, StoredReport
from royalty_chain.client import FeeCaps

ACCOUNT = Account.from_key("0x" + "5e" * 32)
DEADLINE = 1_086_400  # the fake node's time (1_000_000) plus a day
GROSS = 1_000_000  # every report's gross: royalty 100_000
# int(100_000 gas executed x SIMULATED_GAS_MARGIN (1.3759973...)) + 50_000
SIMULATED_GAS = 187_599
# int(200_000 estimated x 1.2) + 50_000
ESTIMATED_GAS = 290_000


class Resigner:
    """Re-signs as the report builder does: next sequence, a fresh deadline, new signatures."""

    def __init__(self, node: FakeNode, outbox: Outbox, conn: Connection) -> None:
        self.node, self.outbox, self.conn = node, outbox, conn
        self.calls: list[int] = []

    def __call__(self, stored: StoredReport) -> StoredReport:
        self.calls.append(stored.id)
        chain_last = self.node.last_sequence.get(stored.licence_id, 0)
        sequence = self.outbox.next_sequence(self.conn, stored.licence_id, chain_last)
        self.outbox.resign(self.conn, stored.id, sequence, self.node.time + 86_400, [b"\x03" * 65])
        return self.outbox.get_report(self.conn, stored.id)


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.node = FakeNode()
        self.outbox = Outbox(tmp_path / "outbox.sqlite")
        self.conn = self.outbox.connect()
        self.resigner = Resigner(self.node, self.outbox, self.conn)

    def sender(self, batch_size: int = 1) -> ReportSender:
        return ReportSender(
            self.node,
            self.node.ledger,
            self.outbox,
            self.conn,
            ACCOUNT,
            self.resigner,
            batch_size=batch_size,
            clock=self.node.clock,
            sleep=self.node.sleep,
        )

    def report(self, licence_id: int, period: int = 0, sequence: int = 1) -> int:
        return self.outbox.add_report(
            self.conn,
            licence_id=licence_id,
            period=period,
            sequence=sequence,
            deadline=DEADLINE,
            lines_root=b"\x01" * 32,
            line_count=1,
            buckets=[[0, 1, 1, 1, 1, GROSS, 0]],
            signatures=[b"\x02" * 65],
        )

    def states(self) -> list[tuple[int, str, int | None, int | None, str | None]]:
        return [(r.id, r.state, r.settlement_id, r.royalty, r.tx_hash) for r in self.outbox.all_reports(self.conn)]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path)
    yield made
    made.conn.close()


# ---------------------------------------------------------------- nonces and gas


def test_a_round_sends_with_consecutive_local_nonces_and_the_simulated_gas(world: World) -> None:
    world.node.nonce = 5
    ids = [world.report(licence_id) for licence_id in (1, 2, 3)]

    result = world.sender(batch_size=2).send()

    node = world.node
    assert [(s.nonce, s.gas, [r[0] for r in s.reports]) for s in node.sent] == [
        (5, SIMULATED_GAS, [1, 2]),
        (6, SIMULATED_GAS, [3]),
    ]
    assert (node.requests.count("pending_nonce"), node.requests.count("fee_fields")) == (1, 1)
    assert world.states() == [
        (ids[0], "settled", 1, 100_000, node.sent[0].hash),
        (ids[1], "settled", 2, 100_000, node.sent[0].hash),
        (ids[2], "settled", 3, 100_000, node.sent[1].hash),
    ]
    assert (result.sent, [r.id for r in result.settled], result.waiting) == (3, ids, 0)
    assert result.paid == dict.fromkeys(ids, 100_000)


def test_a_fee_above_the_cap_sends_nothing_logs_it_and_keeps_the_reports_queued(world: World) -> None:
    ids = [world.report(licence_id) for licence_id in (1, 2)]
    world.node.fee_caps = FeeCaps(max_fee_per_gas=1_500_000_000, max_priority_fee_per_gas=5_000_000_000)

    with structlog.testing.capture_logs() as logs:
        result = world.sender().send()

    assert world.node.sent == []
    assert [s[1] for s in world.states()] == ["signed", "signed"]
    assert (result.sent, result.waiting) == (0, 2)
    assert [e for e in logs if e["event"] == "fee_cap_exceeded"] == [
        {"event": "fee_cap_exceeded", "log_level": "warning", "cap": "max_fee_per_gas", "capped": 1_500_000_000,
         "asked": 2_000_000_000, "reports": 2, "action": "reports stay queued"}
    ]  # fmt: skip
    world.node.fee_caps = None  # the fee fell: the next round sends them
    assert world.sender().send().sent == 2
    assert [s[0] for s in world.states()] == ids


def test_paid_is_what_the_settlement_drew_from_escrow(world: World) -> None:
    world.node.shortfall = 30_000  # escrow covered 70_000 of the 100_000 royalty
    report_id = world.report(1)

    result = world.sender().send()

    assert result.paid == {report_id: 70_000}
    assert [(r.id, r.royalty) for r in result.settled] == [(report_id, 100_000)]


def test_the_nonce_of_a_lost_transaction_is_used_again(world: World) -> None:
    world.node.nonce = 9
    world.node.drop_sends = True  # accepted, then lost (a node restart, a reorg)
    report_id = world.report(1)

    first = world.sender().send()

    assert (first.sent, first.settled, first.waiting) == (1, [], 1)
    assert world.states() == [(report_id, "sent", None, None, world.node.sent[0].hash)]
    world.node.drop_sends = False

    second = world.sender().send()  # reconciliation: the node knows no such transaction

    assert [s.nonce for s in world.node.sent] == [9, 9]
    assert world.node.sent[1].hash == world.node.sent[0].hash  # the same report, sequence and nonce
    assert world.states() == [(report_id, "settled", 1, 100_000, world.node.sent[1].hash)]
    assert (second.sent, [r.id for r in second.settled], second.waiting) == (1, [report_id], 0)
    assert world.resigner.calls == []  # its sequence and deadline were still good


def test_a_node_without_simulate_v1_gets_eth_estimate_gas_from_then_on(world: World) -> None:
    world.node.simulate_v1 = False
    world.report(1)
    sender = world.sender()

    sender.send()
    world.report(2)
    sender.send()

    assert sender.simulation == "eth_estimateGas"
    assert [(s.nonce, s.gas) for s in world.node.sent] == [(0, ESTIMATED_GAS), (1, ESTIMATED_GAS)]
    assert world.node.requests.count("eth_simulateV1") == 1  # asked once, then never again
    assert world.node.requests.count("eth_estimateGas") == 2


def test_a_transaction_that_fails_on_chain_switches_to_estimate_gas_and_is_sent_again(world: World) -> None:
    world.node.fail_below_gas = 200_000  # the simulated limit (187_599) runs out of gas on chain
    report_id = world.report(1)
    sender = world.sender()

    first = sender.send()

    failed = world.node.sent[0].hash
    assert world.node.receipts[failed]["status"] == "0x0"
    assert (first.sent, first.settled, first.waiting) == (1, [], 1)
    (stored,) = world.outbox.all_reports(world.conn)
    assert (stored.state, stored.error) == ("sent", f"transaction {failed} failed")
    assert sender.simulation == "eth_estimateGas"

    second = sender.send()  # reconciliation: mined and failed, so sent again, now estimated

    assert [(s.nonce, s.gas) for s in world.node.sent] == [(0, SIMULATED_GAS), (1, ESTIMATED_GAS)]
    assert world.states() == [(report_id, "settled", 1, 100_000, world.node.sent[1].hash)]
    assert [r.error for r in second.settled] == [None]


# ---------------------------------------------------------------- receipts in reconciliation


def test_a_pending_transaction_that_mines_during_reconciliation_is_recorded_with_its_hash(world: World) -> None:
    world.node.automine = False
    report_id = world.report(1)
    world.sender().send()  # nothing mines: the report stays sent
    world.node.mine_on_receipt_poll = True  # the node mines once the receipt is asked for

    result = world.sender().send()

    (sent,) = world.node.sent  # nothing was sent again
    assert world.states() == [(report_id, "settled", 1, 100_000, sent.hash)]  # 0x-prefixed, as sent
    assert result.paid == {report_id: 100_000}


def test_a_transaction_still_pending_after_the_wait_is_left_in_the_pool_not_sent_twice(world: World) -> None:
    world.node.automine = False
    report_id = world.report(1)
    world.sender().send()
    waited_from = world.node.clock()

    result = world.sender().send()  # the transaction stays pending for longer than RECEIPT_WAIT_S

    assert world.node.clock() - waited_from >= sender_module.RECEIPT_WAIT_S
    (sent,) = world.node.sent
    assert world.states() == [(report_id, "sent", None, None, sent.hash)]
    assert (result.sent, result.settled, result.waiting) == (0, [], 1)
    world.node.mine()
    assert [r.id for r in world.sender().send().settled] == [report_id]


def test_a_report_the_chain_settled_already_is_recorded_from_its_settlement(world: World) -> None:
    report_id = world.report(3, period=2)
    world.outbox.mark_sent(world.conn, [report_id], "0x" + "77" * 32)
    world.node.settled[3, 2] = 41  # mined before the oracle could read its receipt
    world.node.settlements[41] = (3, 2, 100_000, 64_000)

    result = world.sender().send()

    assert world.states() == [(report_id, "settled", 41, 100_000, "0x" + "77" * 32)]
    assert result.paid == {report_id: 64_000}
    assert world.node.sent == []


# ---------------------------------------------------------------- a chain that lost blocks


def test_settlements_the_chain_lost_are_sent_again_and_the_sender_says_so(world: World) -> None:
    ids = [world.report(licence_id) for licence_id in (1, 2, 3)]
    world.sender().send()
    assert [s[:3] for s in world.states()] == [(ids[0], "settled", 1), (ids[1], "settled", 2), (ids[2], "settled", 3)]
    # The node comes back from an older state: settlements 2 and 3 (and their blocks) are gone.
    world.node.lose_settlements_from(2)
    world.node.requests.clear()

    with structlog.testing.capture_logs() as logs:
        result = world.sender().send()

    assert [e for e in logs if e["event"] == "chain_lost_settlements"] == [
        {
            "event": "chain_lost_settlements",
            "log_level": "warning",
            "reports": [ids[2], ids[1]],
            "settlements": [3, 2],
            "chain_settlements": 1,
            "action": "sending these reports again",
        }
    ]
    assert [r[0] for s in world.node.sent[3:] for r in s.reports] == [2, 3]  # sent again, not licence 1's
    assert [s[:3] for s in world.states()] == [(ids[0], "settled", 1), (ids[1], "settled", 2), (ids[2], "settled", 3)]
    assert sorted(r.id for r in result.settled) == ids[1:]
    assert world.resigner.calls == []  # their sequences and deadlines were still good on the chain as it is

    # A chain that lost nothing costs two view calls a round (before the round's usual time read).
    world.node.requests.clear()
    with structlog.testing.capture_logs() as logs:
        world.sender().send()
    assert not [e for e in logs if e["event"] == "chain_lost_settlements"]
    assert world.node.requests == ["call:settlementCount", "call:settlement", "chain_time"]


def test_a_settlement_replaced_by_another_under_its_id_counts_as_lost(world: World) -> None:
    first, second = world.report(1), world.report(2)
    world.sender().send()
    world.node.lose_settlements_from(2)
    world.node.settlements[2] = (9, 0, 5, 5)  # after the loss, another licence's settlement got id 2
    world.node.settled[9, 0] = 2

    world.sender().send()

    assert [r[0] for s in world.node.sent[2:] for r in s.reports] == [2]
    assert [s[:3] for s in world.states()] == [(first, "settled", 1), (second, "settled", 3)]


# ---------------------------------------------------------------- audit findings


def _audit(world: World, corrects: int, cost: int) -> int:
    """An audit finding of licence 1's period 0, correcting settlement ``corrects``."""
    return world.outbox.add_report(
        world.conn,
        licence_id=1,
        period=0,
        sequence=2,
        deadline=DEADLINE,
        lines_root=b"\x04" * 32,
        line_count=1,
        buckets=[[0, 1, 1, 1, 1, GROSS, 0]],
        signatures=[b"\x02" * 65],
        adjustment=1,
        corrects=corrects,
        audit=True,
        audit_cost=cost,
        finding_ref="AUD-1",
    )


def test_a_report_is_sent_with_the_conversions_it_was_signed_with(world: World) -> None:
    """The stored conversions go into the calldata as signed (bytes3 currency, every member), and
    a re-signed report keeps them: the outbox changes its sequence, deadline and signatures only."""
    names = ("bucket", "currency", "minor_units", "rate_day", "rate", "gross", "deductions")
    fx = [
        dict(zip(names, (0, "EUR", 2, 1_767_225_600, 1_085_600_000_000_000_000, 92_118, 0), strict=True)),
        dict(zip(names, (0, "JPY", 0, 1_767_225_600, 67 * 10**15, 10_000, 0), strict=True)),
    ]  # as the outbox keeps them (oracle.conversion.ConversionRecord.as_dict)
    stored = world.outbox.add_report(
        world.conn,
        licence_id=1,
        period=0,
        sequence=1,
        deadline=DEADLINE,
        lines_root=b"\x01" * 32,
        line_count=2,
        buckets=[[0, 1, 1, 1, 1, GROSS, 0]],
        signatures=[b"\x02" * 65],
        fx=fx,
    )
    world.node.last_sequence[1] = 1  # the sequence is stale: the report is re-signed before it goes out

    world.sender().send()

    assert world.resigner.calls == [stored]
    (sent,) = world.node.sent
    (report,) = sent.reports
    assert report[11] == (
        (0, b"EUR", 2, 1_767_225_600, 1_085_600_000_000_000_000, 92_118, 0),
        (0, b"JPY", 0, 1_767_225_600, 67 * 10**15, 10_000, 0),
    )
    assert report[2] == 2 and world.outbox.get_report(world.conn, stored).fx == fx


@pytest.mark.parametrize("mined", ["at once", "found in reconciliation"])
def test_an_audit_finding_is_sent_with_its_flag_and_cost_and_settles_as_kind_audit(world: World, mined: str) -> None:
    world.report(1)
    world.sender().send()  # settlement 1: the period's original
    audit_id = _audit(world, corrects=1, cost=5_000)
    if mined == "found in reconciliation":
        world.node.automine = False
        world.sender().send()  # sent, its receipt not read
        world.node.mine_on_receipt_poll = True

    result = world.sender().send()

    (sent,) = world.node.sent[1:]
    (report,) = sent.reports
    assert report[8:] == (1, True, 5_000, ())  # corrects, audit, auditCost, fx (none): what was signed
    # The transaction settles the finding (settlement 2, kind Audit) and charges its cost
    # (settlement 3, kind AuditCost, same licence and period): the report's is the first.
    assert world.states()[1] == (audit_id, "settled", 2, 100_000, sent.hash)
    assert [(r.id, r.kind, r.audit_cost) for r in result.settled] == [(audit_id, "audit", 5_000)]
    assert world.node.settlements[3] == (1, 0, 5_000, 5_000)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "error",
    [revert("StaleSequence", 1, 1, 1), revert("ReportExpired", 1, DEADLINE, DEADLINE + 5)],
    ids=["StaleSequence", "ReportExpired"],
)
def test_a_refusal_a_fresh_signature_cures_is_resigned_and_sent(world: World, error: str) -> None:
    report_id = world.report(1)
    world.node.refusals[1] = [error]

    result = world.sender().send()

    assert world.resigner.calls == [report_id]
    (sent,) = world.node.sent
    (licence_id, period, sequence, deadline, *_) = sent.reports[0]
    assert (licence_id, period, sequence, deadline) == (1, 0, 2, 1_086_400)
    assert world.states() == [(report_id, "settled", 1, 100_000, sent.hash)]
    assert [(r.id, r.sequence) for r in result.settled] == [(report_id, 2)]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (revert("PeriodNotEnded", 1, 0, 2_000_000), "PeriodNotEnded(1, 0, 2000000)"),
        (revert("EnforcedPause"), "EnforcedPause()"),
    ],
)
def test_a_not_yet_refusal_waits_for_a_later_round(world: World, error: str, reason: str) -> None:
    report_id = world.report(1)
    world.node.refusals[1] = [error]

    result = world.sender().send()

    assert world.node.sent == []
    (stored,) = world.outbox.all_reports(world.conn)
    assert (stored.id, stored.state, stored.error) == (report_id, "signed", reason)
    assert (result.sent, result.settled, result.rejected, result.waiting) == (0, [], [], 1)
    assert [r.id for r in world.sender().send().settled] == [report_id]  # the next round settles it


def test_any_other_refusal_is_final_and_never_retried(world: World) -> None:
    report_id = world.report(1)
    world.node.refusals[1] = [revert("InvalidSignature", 0, 1, b"\x00" * 32)]

    result = world.sender().send()
    again = world.sender().send()

    reason = "InvalidSignature(0, 1, 0x" + "00" * 32 + ")"
    assert [(r.id, r.state, r.error) for r in result.rejected] == [(report_id, "rejected", reason)]
    assert world.node.sent == [] and world.node.requests.count("eth_simulateV1") == 1
    assert (again.sent, again.rejected, again.waiting) == (0, [], 0)


def test_a_period_settled_meanwhile_is_recorded_from_the_refusal(world: World) -> None:
    report_id = world.report(4)
    world.node.refusals[4] = [revert("PeriodAlreadySettled", 4, 0, 42)]
    world.node.settlements[42] = (4, 0, 555, 500)

    result = world.sender().send()

    assert world.node.sent == []
    assert world.states() == [(report_id, "settled", 42, 555, None)]
    assert result.paid == {report_id: 500}


def test_a_refused_batch_is_split_and_the_rest_settles(world: World) -> None:
    ids = [world.report(licence_id) for licence_id in (1, 2, 3)]
    bad = revert("InvalidSignature", 0, 1, b"\x00" * 32)
    world.node.refusals[2] = [bad, bad]  # refuses the batch, then itself alone
    sender = world.sender(batch_size=3)

    result = sender.send()

    assert [[r[0] for r in s.reports] for s in world.node.sent] == [[1], [3]]
    assert [s.nonce for s in world.node.sent] == [0, 1]
    assert [r.id for r in result.rejected] == [ids[1]]
    assert sorted(r.id for r in result.settled) == [ids[0], ids[2]]
    assert sender.simulation == "eth_simulateV1"  # a refusal is no reason to stop simulating


# ---------------------------------------------------------------- the pipeline


def test_no_more_than_max_in_flight_transactions_wait_for_receipts(world: World) -> None:
    assert MAX_IN_FLIGHT == 8
    world.node.automine = False
    world.node.mine_on_receipt_poll = True
    ids = [world.report(licence_id) for licence_id in range(1, 11)]

    result = world.sender().send()

    assert world.node.max_pool == 8
    assert world.node.receipt_polls == [8, 8, 2, 2]  # each drain: one poll finds nothing, the next all
    assert [s.nonce for s in world.node.sent] == list(range(10))
    assert sorted(r.id for r in result.settled) == ids


def test_a_licence_with_a_transaction_in_flight_waits_for_its_receipt(world: World) -> None:
    world.node.automine = False
    world.node.mine_on_receipt_poll = True
    world.report(1, period=0, sequence=1)
    world.report(1, period=1, sequence=2)
    world.report(2)

    result = world.sender().send()

    # licence 1's second report is simulated only once its first one mined; licence 2's does not wait
    assert world.node.pool_at_simulation == [0, 0, 1]
    assert world.node.receipt_polls == [1, 1, 2, 2]
    assert [(r.licence_id, r.period, r.settlement_id) for r in result.settled] == [(1, 0, 1), (1, 1, 2), (2, 0, 3)]


def test_receipts_missing_after_the_drain_timeout_are_left_for_reconciliation(world: World) -> None:
    world.node.automine = False
    report_id = world.report(1)

    result = world.sender().send()

    assert world.node.clock() == pytest.approx(sender_module.DRAIN_TIMEOUT_S + sender_module.POLL_S)
    assert len(world.node.receipt_polls) == 6_002  # every 0.02 s for 120 s, once more past the deadline
    (sent,) = world.node.sent
    assert world.states() == [(report_id, "sent", None, None, sent.hash)]
    assert (result.sent, result.settled, result.waiting) == (1, [], 1)


def test_a_nil_report_is_sent_like_any_other_and_a_legacy_report_never(world: World) -> None:
    nil_id = world.outbox.add_report(
        world.conn,
        licence_id=4,
        period=2,
        sequence=1,
        deadline=DEADLINE,
        lines_root=bytes(32),
        line_count=0,
        buckets=[],
        signatures=[b"\x02" * 65],
    )

    result = world.sender().send()

    (sent,) = world.node.sent
    assert [r[:7] for r in sent.reports] == [(4, 2, 1, DEADLINE, bytes(32), 0, ())]
    assert [(r.id, r.settlement_id, r.royalty) for r in result.settled] == [(nil_id, 1, 0)]
    # A report kept from before contract years (six-int buckets) is history: it cannot be sent.
    legacy = world.outbox.get_report(world.conn, nil_id)
    legacy = StoredReport(**{**{f: getattr(legacy, f) for f in legacy.__slots__}, "buckets": [[1, 1, 1, 1, 5, 0]]})
    assert legacy.legacy and not world.outbox.get_report(world.conn, nil_id).legacy
    with pytest.raises(ValueError, match="signed for the ledger before contract years: it cannot be sent"):
        sender_module.as_report(legacy)
