"""`make run`: the whole system on one machine, resumable.

1. a local chain (Anvil with its state in data/chain, Ganache with CHAIN=ganache, or any
   endpoint given by RPC_URL);
2. the contracts (`ape run deploy`, skipped when the manifest's contracts are live);
3. the demo licences of examples/licences, each signed by both parties and relayed (skipped
   when the chain already has them: the chain is the record, no local state decides);
4. the oracle over the demo feeds (its outbox makes a second run change nothing), a minimum-
   guarantee charge, a dispute and a withdrawal;
5. the API and dashboard, the oracle watching data/oracle/inbox for new feeds, and the keeper
   (`royalty-oracle keep`: releases after dispute windows, guarantee shortfalls after contract
   years, expiries; its log is data/logs/keeper.log).

Ctrl-C stops every process it started. `make clean` forgets all local state.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from _demo import DemoResult, load_demo  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from royalty_chain.client import Chain  # noqa: E402
from royalty_chain.dev.devnet import LocalChain, deploy, start_anvil, start_ganache, wait_for_rpc  # noqa: E402
from royalty_chain.manifest import manifest_path  # noqa: E402

# A wide console when the output is not a terminal (CI logs, `make run > file`), so tables stay readable.
console = Console(width=None if sys.stdout.isatty() else 160)
DATA = Path(os.environ.get("ROYALTY_DATA_DIR", ROOT / "data"))
API_PORT = int(os.environ.get("API_PORT", "8000"))
CHAIN_PORT = int(os.environ.get("CHAIN_PORT", "8545"))


def _start_chain() -> tuple[str, LocalChain | None]:
    url = os.environ.get("RPC_URL")
    if url:
        console.print(f"attaching to {url}")
        wait_for_rpc(url)
        return url, None
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    existing = f"http://127.0.0.1:{CHAIN_PORT}"
    try:
        wait_for_rpc(existing, timeout=1)
    except Exception:
        pass
    else:
        console.print(
            f"[red]port {CHAIN_PORT} already answers JSON-RPC[/red]: stop that node, or set RPC_URL={existing}"
        )
        raise SystemExit(1)
    if os.environ.get("CHAIN", "anvil") == "ganache":
        console.print(f"starting Ganache on {existing} (state in {DATA / 'chain' / 'ganache'})")
        local = start_ganache(CHAIN_PORT, db_path=DATA / "chain" / "ganache", log_path=logs / "ganache.log")
    else:
        state = DATA / "chain" / "anvil-state.json"
        console.print(f"starting Anvil on {existing} (state in {state}, saved every 5 s)")
        local = start_anvil(CHAIN_PORT, state_file=state, state_interval=5, log_path=logs / "anvil.log")
    return local.url, local


def _spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(DATA / "logs" / f"{name}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _summary(result: DemoResult, api: str) -> None:
    table = Table(title="Demo licences")
    columns = ("licence", "id", "kind", "status", "reports settled", "nil reports", "royalty", "late interest",
               "arrears", "escrow")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right" if column not in ("licence", "kind", "status") else "left")
    for row in result.rows:
        table.add_row(
            row.name, str(row.licence_id), row.kind, row.status, str(row.settled), str(row.nil_reports), row.royalty,
            row.interest, row.arrears, row.escrow,
        )  # fmt: skip
    console.print(table)
    accounts = Table(title="Accounts to look at")
    accounts.add_column("who")
    accounts.add_column("address")
    accounts.add_column("dashboard")
    for who, address in result.accounts:
        accounts.add_row(who, address, f"{api}/ui/parties/{address}")
    console.print(accounts)
    for line in result.notes:
        console.print(f"  {line}")


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill` stops everything too, like Ctrl-C
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    url, local = _start_chain()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        chain_id = wait_for_rpc(url)
        manifest_file = manifest_path(chain_id, DATA)
        console.print("deploying the contracts (skipped when they are already live) ...")
        manifest = deploy(url, manifest_file)
        chain = Chain(url, manifest)
        console.print(f"registry {manifest.registry.address}, ledger {manifest.ledger.address} on chain {chain_id}")

        result = load_demo(chain, ROOT / "examples", DATA, console=console)

        env = dict(os.environ)
        env.update(
            API_RPC_URL=url,
            API_MANIFEST=str(manifest_file),
            API_DATA_DIR=str(DATA),
            API_ORACLE_OUTBOX=str(DATA / "oracle" / "outbox.sqlite"),
            ORACLE_RPC_URL=url,
            ORACLE_MANIFEST=str(manifest_file),
            ORACLE_DATA_DIR=str(DATA),
            KEEPER_RPC_URL=url,
            KEEPER_MANIFEST=str(manifest_file),
        )
        env.setdefault("KEEPER_INTERVAL_SECONDS", "5")
        env.setdefault("API_OPERATOR_TOKEN", "local-operator-token")
        api = f"http://127.0.0.1:{API_PORT}"
        processes.append(
            _spawn(
                "api",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.app:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(API_PORT),
                ],
                env,
            )
        )
        inbox = DATA / "oracle" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        processes.append(_spawn("oracle", [sys.executable, "-m", "oracle.cli", "watch", str(inbox)], env))
        processes.append(_spawn("keeper", [sys.executable, "-m", "oracle.cli", "keep"], env))

        _summary(result, api)
        console.print(f"\n[bold]Dashboard[/bold]  {api}/")
        console.print(f"[bold]API docs[/bold]   {api}/docs")
        console.print(f"[bold]Chain[/bold]      {url} (chain id {chain_id})")
        console.print(f"[bold]Inbox[/bold]      drop CSV / JSON Lines feeds into {inbox}")
        console.print(f"[bold]Logs[/bold]       {DATA / 'logs'}")
        console.print("Ctrl-C stops everything; `make clean` forgets all local state.")
        while all(p.poll() is None for p in processes):
            time.sleep(1)
        for p in processes:
            if p.poll() is not None:
                args = [str(a) for a in p.args] if isinstance(p.args, list) else [str(p.args)]
                name = " ".join(args[2:4]) if len(args) > 2 else " ".join(args)
                console.print(f"[red]{name} exited ({p.returncode})[/red]: see {DATA / 'logs'}")
    except KeyboardInterrupt:
        console.print("\nstopping ...")
    finally:
        for p in processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        if local is not None:
            local.stop()


if __name__ == "__main__":
    main()
