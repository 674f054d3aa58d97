"""`make run`: the whole system on one machine, resumable.

1. a local chain that keeps its history in data/chain (Ganache's database; Anvil's state file
   with CHAIN=anvil, which a SIGKILL can set back by up to a second), or any endpoint given by
   RPC_URL;
2. the contracts: the deployment data/deployments/<chain id>.json points to, recognised by the
   code at its addresses. Deployed only when none is on record; when one is on record but the
   chain does not hold it, nothing is deployed and `make run` stops, naming `make redeploy`
   (this script's --redeploy), which deploys afresh and moves the old deployment's outbox, index
   and demo feeds to data/archive/ (its manifest stays where it is);
3. the demo licences of examples/licences, each signed by both parties and relayed (skipped
   when the chain already has them: the chain is the record, no local state decides);
4. the oracle over the demo feeds (its outbox makes a second run change nothing), a minimum-
   guarantee charge, a dispute and a withdrawal;
5. the API and dashboard, the oracle watching data/oracle/inbox for new feeds, and the keeper
   (`royalty-oracle keep`: releases after dispute windows, guarantee shortfalls after contract
   years, expiries; its log is data/logs/keeper.log).

The processes are supervised (scripts/_supervisor.py): a service that exits is restarted with
backoff while the others run on; whatever ends this script (Ctrl-C, SIGTERM, SIGHUP, SIGKILL), no
process it started survives it; a stack an earlier run left behind (data/run/stack.json) is
stopped, and anything else on the ports is reported with its pid. `make clean` forgets all local
state.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
from _demo import DemoResult, load_demo  # noqa: E402
from _supervisor import Port, StackError, Supervisor  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from api.relay_guard import local_caller  # noqa: E402
from royalty_chain.client import Chain  # noqa: E402
from royalty_chain.deployments import DeploymentNotOnChain, Deployments  # noqa: E402
from royalty_chain.dev.devnet import (  # noqa: E402
    DEFAULT_EMBEDDED_CHAIN,
    LocalChain,
    deploy,
    start_embedded_chain,
    wait_for_rpc,
)
from royalty_chain.manifest import Manifest, manifest_path  # noqa: E402

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
    address = f"http://127.0.0.1:{CHAIN_PORT}"  # a node already there was reported by Supervisor.check_stale
    kind, chain_dir = os.environ.get("CHAIN", DEFAULT_EMBEDDED_CHAIN), DATA / "chain"
    if kind == "anvil":
        console.print(f"starting Anvil on {address} (its chain in {chain_dir / 'anvil-state.json'}, written every "
                      "second and at exit: a SIGKILL loses up to the last second)")  # fmt: skip
    else:
        console.print(f"starting Ganache on {address} (its chain in {chain_dir / 'ganache'}, every block kept)")
        if (chain_dir / "anvil-state.json").exists() and not (chain_dir / "ganache").exists():
            console.print(f"  the Anvil chain of an earlier run is in {chain_dir}: CHAIN=anvil make run resumes it")
    local = start_embedded_chain(kind, chain_dir, CHAIN_PORT, DATA / "logs")
    return local.url, local


def _deployment(url: str, chain_id: int, redeploy: bool) -> tuple[Path, Manifest]:
    """The deployment to run: the one on record if the chain holds it; a first one if none is
    on record; a fresh one (the old one's off-chain state archived) only with --redeploy."""
    manifest_file = manifest_path(chain_id, DATA)
    if redeploy:
        _archive_off_chain_state(Deployments(manifest_file).current())
        console.print("deploying the contracts afresh (make redeploy) ...")
    else:
        console.print("looking for the deployment (the code at its addresses) ...")
    try:
        manifest = deploy(url, manifest_file, fresh=redeploy)
    except DeploymentNotOnChain as err:
        console.print(
            f"[red]cannot start:[/red] {err}. Nothing was deployed: `make run` never replaces a deployment. "
            "If this chain was reset on purpose, `make redeploy` deploys afresh (the old manifest is kept, and "
            f"the old deployment's outbox, index and demo feeds move to {DATA / 'archive'})."
        )
        raise SystemExit(1) from err
    return manifest_file, manifest


def _archive_off_chain_state(record: Path | None) -> None:
    """What belongs to the deployment being replaced (its outbox and inbox, its index, the demo
    feeds naming its licence ids) moves to data/archive/<its manifest's name>-<time>/."""
    archive = DATA / "archive" / f"{record.stem if record else 'unrecorded'}-{time.strftime('%Y%m%dT%H%M%S')}"
    moved = []
    for path in [DATA / "oracle", DATA / "demo", *sorted(DATA.glob("index.sqlite*"))]:
        if path.exists():
            archive.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(archive / path.name))
            moved.append(path.name)
    if moved:
        console.print(f"moved {', '.join(moved)} of the previous deployment to {archive}")


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


def _ports() -> list[Port]:
    ports = [Port("API", API_PORT, "set API_PORT to serve the API on another port")]
    if not os.environ.get("RPC_URL"):
        chain = f"set RPC_URL=http://127.0.0.1:{CHAIN_PORT} to attach to that node, or CHAIN_PORT to use another port"
        ports.insert(0, Port("chain", CHAIN_PORT, chain))
    return ports


def main() -> None:
    parser = argparse.ArgumentParser(description="make run: the whole system on one machine")
    parser.add_argument("--redeploy", action="store_true", help="deploy the contracts afresh (make redeploy)")
    args = parser.parse_args()
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    supervisor = Supervisor(DATA / "run", DATA / "logs", ROOT)
    supervisor.install_signal_handlers()  # SIGTERM and SIGHUP stop everything too, like Ctrl-C
    try:
        for note in supervisor.check_stale(_ports()):
            console.print(note)
    except StackError as err:
        console.print(f"[red]cannot start:[/red] {err}")
        raise SystemExit(1) from err
    supervisor.start_watchdog()
    local: LocalChain | None = None
    try:
        url, local = _start_chain()
        if local is not None and local.process is not None:
            supervisor.adopt("chain", local.process)
        chain_id = wait_for_rpc(url)
        manifest_file, manifest = _deployment(url, chain_id, args.redeploy)
        chain = Chain(url, manifest)
        console.print(f"registry {manifest.registry.address}, ledger {manifest.ledger.address} on chain {chain_id}")

        result = load_demo(chain, ROOT / "examples", DATA, console=console)

        inbox = DATA / "oracle" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            API_RPC_URL=url,
            API_MANIFEST=str(manifest_file),
            API_DATA_DIR=str(DATA),
            API_ORACLE_OUTBOX=str(DATA / "oracle" / "outbox.sqlite"),
            API_ORACLE_INBOX=str(inbox),  # large feeds sent in chunks (/feeds/uploads) land here
            ORACLE_RPC_URL=url,
            ORACLE_MANIFEST=str(manifest_file),
            ORACLE_DATA_DIR=str(DATA),
            KEEPER_RPC_URL=url,
            KEEPER_MANIFEST=str(manifest_file),
        )
        env.setdefault("KEEPER_INTERVAL_SECONDS", "5")
        env.setdefault("API_OPERATOR_TOKEN", "local-operator-token")
        # Relaying needs an organisation's API key: a local one, made once in data/relay-api-key.
        relay_key_file, relay_callers = local_caller(DATA)
        env.setdefault("API_RELAY_CALLERS_FILE", str(relay_callers))
        console.print(f"relay API key (header X-API-Key) in {relay_key_file}")
        # The API's own log rotates (API_LOG_MAX_BYTES); api.log keeps only what it prints before.
        env.setdefault("API_LOG_FILE", str(DATA / "logs" / "api-events.log"))
        api = f"http://127.0.0.1:{API_PORT}"
        uvicorn = ["-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(API_PORT)]
        supervisor.spawn("api", [sys.executable, *uvicorn], env)
        supervisor.spawn("oracle", [sys.executable, "-m", "oracle.cli", "watch", str(inbox)], env)
        supervisor.spawn("keeper", [sys.executable, "-m", "oracle.cli", "keep"], env)

        _summary(result, api)
        console.print(f"\n[bold]Dashboard[/bold]  {api}/")
        console.print(f"[bold]API docs[/bold]   {api}/docs")
        console.print(f"[bold]Chain[/bold]      {url} (chain id {chain_id})")
        console.print(f"[bold]Inbox[/bold]      drop CSV / JSON Lines feeds into {inbox}")
        console.print(f"[bold]Logs[/bold]       {DATA / 'logs'}")
        console.print(
            "A service that exits is restarted; Ctrl-C stops everything; `make clean` forgets all local state."
        )
        ended = supervisor.run()  # returns only if the chain exits: without it nothing can go on
        console.print(f"[red]the {ended.name} exited[/red]: stopping the others; see {DATA / 'logs'}")
    except KeyboardInterrupt:
        _say("\nstopping ...")
    finally:
        supervisor.stop()
        if local is not None:
            local.stop()  # nothing left to do unless it was started and not adopted


def _say(text: str) -> None:
    """Printed if the terminal is still there (after SIGHUP it is not)."""
    with contextlib.suppress(OSError):
        console.print(text)


if __name__ == "__main__":
    main()
