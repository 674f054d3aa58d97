"""The fault suite: a stream of feeds through the whole stack while the oracle, the keeper, the
API (and its indexer) and the chain are killed with SIGKILL and SIGTERM at seeded random moments
and restarted as an operator would (see fault_world.py, which `make soak` runs for longer).

At the end every good line is settled exactly once (the chain's figures equal those computed
from the feed files, no period settled twice), the rejects are exactly the bad lines, and the
index read through the HTTP API equals eth_call of the ledger's views. The seed is in the
failure message: FAULT_SEED=<seed> runs the same faults again.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from fault_world import run_faults

CYCLES = int(os.environ.get("FAULT_CYCLES", "10"))


def test_every_good_line_settles_once_and_the_index_equals_the_chain_under_faults(tmp_path: Path) -> None:
    seed = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(10**6))
    again = f"seed {seed} (FAULT_SEED={seed} repeats it); logs in {tmp_path / 'data' / 'logs'}"
    try:
        figures = run_faults(tmp_path, CYCLES, seed)
    except Exception as err:
        raise AssertionError(f"{again}: {err!r}") from err
    report = "\n".join(figures.problems[:20])
    assert figures.clean, f"{again}, faults {figures.faults}:\n{report}"
    assert (figures.lost_lines, figures.doubled_periods, figures.reject_mismatches, figures.index_mismatches) == (
        0,
        0,
        0,
        0,
    )
    assert figures.periods_settled == figures.periods == CYCLES * 2
    assert figures.lines_settled == figures.good_lines
    assert figures.royalty_settled == figures.royalty_expected
    assert sum(figures.faults.values()) == CYCLES
