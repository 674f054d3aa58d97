"""The oracle CLI with a crash hook, for the crash tests only: ``python crashing_oracle.py
POINT[@N] <royalty-oracle arguments>`` runs the real CLI, and the oracle SIGKILLs itself the N-th
time (default the first) it reaches the fault point POINT (see :mod:`oracle.hooks`).

The hook is injected through OracleService's ``fault`` argument; production code never reads a
test switch.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Sequence

import oracle.cli
from oracle.hooks import FAULT_POINTS
from oracle.service import OracleService


class KillAt:
    """A fault hook that kills this process the ``nth`` time it reaches ``point``."""

    def __init__(self, spec: str, known: Sequence[str] = FAULT_POINTS) -> None:
        point, _, nth = spec.partition("@")
        if point not in known:
            raise SystemExit(f"unknown fault point {point!r}; known: {', '.join(known)}")
        self.point, self.nth, self.hits = point, int(nth or 1), 0

    def __call__(self, point: str) -> None:
        if point != self.point:
            return
        self.hits += 1
        if self.hits == self.nth:
            print(f"fault_injected point={point} hit={self.hits}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    spec, *args = argv
    # The CLI builds its OracleService by this name; the crash hook goes in as its fault argument.
    oracle.cli.OracleService = functools.partial(OracleService, fault=KillAt(spec))  # type: ignore[misc]
    oracle.cli.app(args=args, prog_name="royalty-oracle")


if __name__ == "__main__":
    main(sys.argv[1:])
