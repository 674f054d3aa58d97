"""One round of the watch service's inbox with the real ingest into a real outbox, without a
chain, for the inbox crash tests: ``python inbox_worker.py INBOX OUTBOX [--kill POINT[@N]]
[--only FEED] [--max-attempts N]``.

Licence 1 of ``oracle_testkit`` is the only licence; the chain's time is fixed. With ``--kill``
the process SIGKILLs itself the N-th time (default the first) it reaches POINT (a point of
:mod:`oracle.hooks`); with ``--only FEED`` only while FEED is in hand. It prints one JSON line
per outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import structlog
from oracle_testkit import TERM_START, licence

from oracle.hooks import FAULT_POINTS
from oracle.inbox import FeedInbox
from oracle.ingest import IngestResult, ingest
from outbox import Outbox

CHAIN_TIME = TERM_START + 200 * 86_400  # 2025-07-20: every sale of the test feeds is in the past


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("inbox", type=Path)
    parser.add_argument("outbox", type=Path)
    parser.add_argument("--kill", default=None, help="POINT[@N]")
    parser.add_argument("--only", default=None, help="kill only while this feed is in hand")
    parser.add_argument("--max-attempts", type=int, default=3)
    args = parser.parse_args(argv)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))  # stdout: outcomes

    point, nth, hits = None, 1, 0
    if args.kill:
        point, _, n = args.kill.partition("@")
        if point not in FAULT_POINTS:
            raise SystemExit(f"unknown fault point {point!r}")
        nth = int(n or 1)

    def fault(reached: str) -> None:
        nonlocal hits
        if reached != point or (args.only and (inbox.in_hand is None or inbox.in_hand.name != args.only)):
            return
        hits += 1
        if hits == nth:
            print(f"fault_injected point={reached}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    inbox = FeedInbox(args.inbox, max_attempts=args.max_attempts, fault=fault)
    outbox = Outbox(args.outbox)
    conn = outbox.connect()
    licences = {1: licence()}

    def read(path: Path) -> IngestResult:
        return ingest(path, outbox, conn, licences, chain_time=CHAIN_TIME, fault=fault, resume=True)

    for outcome in inbox.run_round(read):
        print(json.dumps({"feed": outcome.feed, "state": outcome.state, "attempt": outcome.attempt}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
