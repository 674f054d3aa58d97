"""`make run` with stand-ins for its processes, for the supervisor tests: the same supervision
code as scripts/_devstack.py (scripts/_supervisor.py), with sleepers instead of Anvil, the API,
the oracle and the keeper.

``python standin_stack.py DATA_DIR CHAIN_PORT API_PORT --pids FILE [--grace S] [--backoff S]``: the chain
stand-in is started the way royalty_chain.dev.devnet starts Anvil (a session of its own, a
wrapper process with the port held by its child) and adopted; the keeper stand-in ignores
SIGTERM. Prints ``ready`` once everything runs; every sleeper appends its pid to the --pids file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from _supervisor import Backoff, Port, StackError, Supervisor, port_answers  # noqa: E402

SLEEPER = str(Path(__file__).resolve().with_name("sleeper.py"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("chain_port", type=int)
    parser.add_argument("api_port", type=int)
    parser.add_argument("--grace", type=float, default=1.5)
    parser.add_argument("--backoff", type=float, default=0.2)
    parser.add_argument("--pids", type=Path, required=True, help="where every sleeper appends its pid")
    args = parser.parse_args()
    pids = ["--pids", str(args.pids)]

    supervisor = Supervisor(
        args.data / "run", args.data / "logs", ROOT, backoff=Backoff(first=args.backoff), grace=args.grace
    )
    supervisor.install_signal_handlers()
    ports = [
        Port("chain", args.chain_port, f"set RPC_URL=http://127.0.0.1:{args.chain_port} to attach to it"),
        Port("API", args.api_port, "set API_PORT to use another port"),
    ]
    try:
        for note in supervisor.check_stale(ports):
            print(note, flush=True)
    except StackError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        raise SystemExit(1) from err
    supervisor.start_watchdog()
    try:
        chain = subprocess.Popen(
            [sys.executable, SLEEPER, "--grandchild", "--port", str(args.chain_port), *pids],
            cwd=ROOT,
            start_new_session=True,
        )
        while not port_answers(args.chain_port):
            time.sleep(0.05)
        supervisor.adopt("chain", chain, grace=args.grace)
        supervisor.spawn("api", [sys.executable, SLEEPER, "--port", str(args.api_port), *pids])
        supervisor.spawn("oracle", [sys.executable, SLEEPER, *pids])
        supervisor.spawn("keeper", [sys.executable, SLEEPER, "--stubborn", *pids])
        while not port_answers(args.api_port):
            time.sleep(0.05)
        print("ready", flush=True)
        ended = supervisor.run(interval=0.1)
        print(f"{ended.name} exited", flush=True)
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        supervisor.stop()


if __name__ == "__main__":
    main()
