"""A stand-in for one process of the stack: sleeps until signalled.

``--port N`` listens on 127.0.0.1:N; ``--grandchild`` starts a second sleeper (holding the port
instead) and forwards SIGTERM to it, as Anvil's npm wrapper does for the Anvil binary;
``--stubborn`` ignores SIGTERM, as a service stuck in a call would; ``--pids FILE`` appends this
process's pid to FILE.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--grandchild", action="store_true")
    parser.add_argument("--stubborn", action="store_true")
    parser.add_argument("--pids", type=Path)
    args = parser.parse_args()
    if args.stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.grandchild:
        command = [sys.executable, __file__, *(["--pids", str(args.pids)] if args.pids else [])]
        child = subprocess.Popen([*command, *(["--port", str(args.port)] if args.port else [])])

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)
            child.wait()
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, forward)
    elif args.port:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", args.port))
        server.listen()
    if args.pids:
        with args.pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
