"""The keeper CLI with a crash hook, for the crash tests only: ``python crashing_keeper.py
POINT[@N] <royalty-oracle arguments>`` runs the real CLI, and the keeper SIGKILLs itself the N-th
time (default the first) it reaches the fault point POINT (``oracle.keeper.KEEPER_FAULT_POINTS``).

The hook goes in through Keeper's ``fault`` argument; production code never reads a test switch.
"""

from __future__ import annotations

import functools
import sys

from crashing_oracle import KillAt

import oracle.cli
from oracle.keeper import KEEPER_FAULT_POINTS, Keeper


def main(argv: list[str]) -> None:
    spec, *args = argv
    # The CLI builds its Keeper by this name; the crash hook goes in as its fault argument.
    oracle.cli.Keeper = functools.partial(Keeper, fault=KillAt(spec, KEEPER_FAULT_POINTS))  # type: ignore[misc]
    oracle.cli.app(args=args, prog_name="royalty-oracle")


if __name__ == "__main__":
    main(sys.argv[1:])
