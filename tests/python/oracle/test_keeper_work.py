"""The keeper's decisions from chain values, without a chain: which contract years have ended
inside the term (as chargeMinimumGuarantee bounds them) and which pending settlements matured."""

from __future__ import annotations

from oracle.keeper.work import EndedYear, closed, ended_years, matured
from royalty_chain.calendar import timestamp_of
from royalty_chain.codes import Scope
from royalty_chain.models import Kind, Settlement, SettlementContext, State
from royalty_chain.terms import DAY, Calendar

START = timestamp_of(2025, 3, 1)
ZERO = "0x" + "00" * 20


def _context(effective_end: int) -> SettlementContext:
    return SettlementContext(
        licensor=ZERO, licensee=ZERO, start=START, effective_end=effective_end, sell_off_end=effective_end,
        period_seconds=0, calendar=Calendar(period_months=3), threshold=1, dispute_window=0, arbiter=ZERO,
        scope=Scope(1, 1, 1),
    )  # fmt: skip


def test_years_end_on_the_anniversary_and_the_last_one_at_the_effective_end() -> None:
    # contract years from 1 March 2025; terminated on 1 September 2026 (in year 1)
    context = _context(timestamp_of(2026, 9, 1))
    year0 = EndedYear(0, START, timestamp_of(2026, 3, 1))
    assert ended_years(context, timestamp_of(2026, 3, 1) - 1) == []
    assert ended_years(context, timestamp_of(2026, 3, 1)) == [year0]
    assert ended_years(context, timestamp_of(2026, 8, 31)) == [year0]
    cut = EndedYear(1, timestamp_of(2026, 3, 1), timestamp_of(2026, 9, 1))
    assert ended_years(context, timestamp_of(2030, 1, 1)) == [year0, cut]  # year 2 starts after the end


def _settlement(state: State, dispute_until: int) -> Settlement:
    return Settlement(1, 0, Kind.REPORT, state, 0, dispute_until, 0, 0, 100, 100, 100, 0)


def test_a_pending_settlement_matures_at_its_dispute_until() -> None:
    now = START + 10 * DAY
    settlements = {
        1: _settlement(State.PENDING, now),  # the ledger releases at block.timestamp >= disputeUntil
        2: _settlement(State.PENDING, now + 1),
        3: _settlement(State.DISPUTED, now - DAY),  # the arbiter's, not the keeper's
        4: _settlement(State.FINAL, now - DAY),
    }
    assert matured(settlements, now) == [1]
    assert closed(settlements) == [4]
