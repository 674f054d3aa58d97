"""Local development chains (Anvil by default, Ganache too) and deployment onto them.

Used by `make run`, the tests and the benches, from a checkout: both chains are started from the
project's own node_modules with the well-known development mnemonic and 20 funded accounts;
deployment goes through `ape run deploy`, the same command a developer uses against any network.
The checkout is ``$ROYALTY_PROJECT_ROOT`` when set, else the one this package sits in; the
runtime package never imports this module.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from royalty_chain.deployments import Deployments, transport_code_reader
from royalty_chain.dev.keys import DEV_ACCOUNT_COUNT, DEV_MNEMONIC
from royalty_chain.manifest import Manifest
from royalty_chain.transport import RpcError, Transport, wait_for_rpc

ROOT = Path(os.environ.get("ROYALTY_PROJECT_ROOT") or Path(__file__).resolve().parents[2])
"""The project checkout: node_modules, the ape project and its deploy script live there."""
BIN = ROOT / "node_modules" / ".bin"


class DevnetError(Exception):
    """A local chain could not be started or reached, or deployment failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalChain:
    """A chain process this program started; ``stop()`` ends it (Anvil saves its state first)."""

    kind: str
    url: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    timestamp_increment: int | None = None
    """Ganache started with a fixed block-time step (``--miner.timestampIncrement``); None: the clock."""
    _log: object | None = field(default=None, repr=False)

    def next_block_at(self, timestamp: int) -> None:
        """The next block (the next transaction's, on an instamining chain) is mined at ``timestamp``.

        Anvil has ``evm_setNextBlockTimestamp``. Ganache 7 has not; its ``evm_setTime``
        (milliseconds) moves its clock instead. On the wall clock the block then comes out at that
        second only if it is mined within the second after; with a fixed ``timestamp_increment``
        the next block is the set time plus the increment, so the clock is set that much earlier
        and the timestamp is exact: exact timestamps on Ganache need
        ``start_ganache(timestamp_increment=...)``.
        """
        if self.kind == "ganache":
            self._rpc("evm_setTime", [(timestamp - (self.timestamp_increment or 0)) * 1000])
        else:
            self._rpc("evm_setNextBlockTimestamp", [timestamp])

    def mine_at(self, timestamp: int) -> None:
        """Mines an empty block at ``timestamp``; later blocks follow on from it."""
        if self.kind == "ganache":
            self._rpc("evm_mine", [{"timestamp": timestamp}])
        else:
            self._rpc("evm_setNextBlockTimestamp", [timestamp])
            self._rpc("evm_mine", [])

    def _rpc(self, method: str, params: list[object]) -> object:
        transport = Transport(self.url, attempts=1)
        try:
            return transport.call(method, *params)
        finally:
            transport.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_anvil(
    port: int | None = None,
    state_file: Path | None = None,
    state_interval: int = 5,
    log_path: Path | None = None,
    block_time: int | None = None,
    extra_args: Sequence[str] = (),
    timestamp: int | None = None,
) -> LocalChain:
    """Starts Anvil; with ``state_file`` its chain survives a stop by Ctrl-C or SIGTERM (Anvil
    writes the file at exit) and, but for the last ``state_interval`` seconds, a SIGKILL.

    ``extra_args`` go to anvil as they are (the benchmarks raise the block gas limit);
    ``timestamp`` is the genesis block's (Unix seconds)."""
    port = port or free_port()
    args = [
        str(_anvil_binary()),
        "--port",
        str(port),
        "--accounts",
        str(DEV_ACCOUNT_COUNT),
        "--mnemonic",
        DEV_MNEMONIC,
        "--hardfork",
        "shanghai",
        # Recent states in memory only: by default Anvil spills old states to ~/.foundry/anvil/tmp
        # and leaves them behind (74 GB of them after one session of tests and benchmarks here).
        "--prune-history",
        "512",
        "--silent",
    ]
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        _check_state_file(state_file)
        args += ["--state", str(state_file), "--state-interval", str(state_interval)]
    if block_time:
        args += ["--block-time", str(block_time)]
    if timestamp is not None:
        args += ["--timestamp", str(timestamp)]
    args += list(extra_args)
    return _start("anvil", args, f"http://127.0.0.1:{port}", log_path)


def start_ganache(
    port: int | None = None,
    db_path: Path | None = None,
    log_path: Path | None = None,
    timestamp: int | None = None,
    timestamp_increment: int | None = None,
) -> LocalChain:
    """Starts Ganache (shanghai, the same mnemonic and accounts as Anvil; chain id 1337).

    ``timestamp`` is the genesis block's (Unix seconds); with ``timestamp_increment`` each block's
    timestamp is the last one's plus that many seconds instead of the wall clock's, so that
    ``LocalChain.next_block_at`` is exact."""
    port = port or free_port()
    args = [
        str(_tool("ganache")),
        "--server.port",
        str(port),
        "--wallet.mnemonic",
        DEV_MNEMONIC,
        "--wallet.totalAccounts",
        str(DEV_ACCOUNT_COUNT),
        "--chain.hardfork",
        "shanghai",
        "--chain.chainId",
        "1337",
        "--logging.quiet",
    ]
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
        args += ["--database.dbPath", str(db_path)]
    if timestamp is not None:
        args += ["--chain.time", str(timestamp * 1000)]  # a JavaScript date: milliseconds
    if timestamp_increment is not None:
        args += ["--miner.timestampIncrement", str(timestamp_increment)]
    local = _start("ganache", args, f"http://127.0.0.1:{port}", log_path)
    local.timestamp_increment = timestamp_increment
    return local


EMBEDDED_CHAINS = ("ganache", "anvil")
DEFAULT_EMBEDDED_CHAIN = "ganache"
"""The chain `make run` embeds unless CHAIN says otherwise: the one that keeps every block."""


def start_embedded_chain(kind: str, data_dir: Path, port: int | None = None, log_dir: Path | None = None) -> LocalChain:
    """The chain `make run` embeds, keeping its history in ``data_dir`` across restarts.

    ``ganache`` (the default of `make run`): a LevelDB database in ``data_dir/ganache`` to
    which each block is written as it is mined. Measured with Ganache 7.9.2 (the transactions'
    receipts read before the stop): after Ctrl-C, SIGTERM and SIGKILL at random moments under
    load, every block, transaction, receipt, log and balance came back, and the genesis hash
    with them.

    ``anvil``: Anvil 1.7.1 keeps its chain (blocks, transactions, receipts and logs included) in
    ``data_dir/anvil-state.json``, which it rewrites every second and at exit. Ctrl-C and
    SIGTERM keep everything; a SIGKILL loses what came after the last write (36 to 412
    confirmed transactions per kill under a load of about 700 a second; up to about a second's
    blocks at `make run`'s pace), and everything if it comes before the first write. Its genesis
    block is sometimes regenerated on a restart (block 1 then names the old one as its parent),
    so a deployment is recognised by its code (royalty_chain.deployments), never by that hash.
    """
    logs = log_dir or data_dir
    logs.mkdir(parents=True, exist_ok=True)
    if kind == "ganache":
        return start_ganache(port, db_path=data_dir / "ganache", log_path=logs / "ganache.log")
    if kind == "anvil":
        state = data_dir / "anvil-state.json"
        return start_anvil(port, state_file=state, state_interval=1, log_path=logs / "anvil.log")
    raise DevnetError(f"no embedded chain {kind!r}: choose one of {', '.join(EMBEDDED_CHAINS)}")


def deploy(url: str, manifest_file: Path, timeout: float = 300.0, fresh: bool = False) -> Manifest:
    """The contracts on the chain at ``url``, with ``manifest_file`` as the pointer to their
    manifest (see royalty_chain.deployments).

    When the chain holds the current deployment (the code at its addresses), that deployment,
    without running ape. When none is on record, `ape run deploy` deploys. When one is on record
    but the chain does not hold it, DeploymentNotOnChain and nothing deployed, unless ``fresh``:
    then a new deployment, its own manifest, and every earlier manifest kept as it was."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    ape = shutil.which("ape", path=env["PATH"])
    if ape is None:
        raise DevnetError("ape is not installed: run `make setup`")
    if not (ROOT / "ape-config.yaml").exists():
        raise DevnetError(f"{ROOT} is not the project checkout: set ROYALTY_PROJECT_ROOT")
    transport = Transport(url)
    try:
        chain_id = transport.chain_id()
        if not fresh:
            existing = Deployments(manifest_file).on_chain(chain_id, transport_code_reader(transport))
            if existing is not None:
                return existing
    finally:
        transport.close()
    result = subprocess.run(
        [ape, "run", "deploy", "--network", url, "--manifest", str(manifest_file), *(["--force"] if fresh else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise DevnetError(f"ape run deploy failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return Manifest.load(manifest_file)


def _check_state_file(state_file: Path) -> None:
    """Anvil rewrites its state file in place (truncated, then written), so a SIGKILL in between
    leaves a file it refuses to load. Each start keeps a copy of a complete file to resume from."""
    if not state_file.exists():
        return
    copy = state_file.with_name(state_file.name + ".last-start")
    try:
        json.loads(state_file.read_bytes())
    except ValueError as err:
        resume = (
            f"the copy taken when the chain last started is {copy}: copy it over {state_file} to resume from "
            "there (what came after it is lost; the oracle sends its reports again)"
            if copy.exists()
            else f"move {state_file} away to start a new chain"
        )
        raise DevnetError(f"{state_file} is incomplete (Anvil was stopped while writing it): {resume}") from err
    shutil.copyfile(state_file, copy)


def _anvil_binary() -> Path:
    """The Anvil binary itself, not its npm wrapper: on SIGINT or SIGTERM the wrapper passes the
    signal on and exits within milliseconds, while Anvil writes its state file and takes about two
    seconds more to exit (measured with 5,000 blocks). Whoever waited for the wrapper raced that
    write: a restart right after it read a half-written file, and make run's supervisor SIGKILLs
    whatever is left in the chain's process group once the wrapper has gone."""
    for binary in sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(binary, os.X_OK):
            return binary
    return _tool("anvil")


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        raise DevnetError(f"{path} is missing: run `make setup`")
    return path


def _start(kind: str, args: list[str], url: str, log_path: Path | None) -> LocalChain:
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    chain = LocalChain(kind=kind, url=url, process=process, log_path=log_path, _log=log)
    try:
        wait_for_rpc(url, timeout=60)
    except RpcError as err:
        chain.stop()
        raise DevnetError(f"{kind} did not start: {err}") from err
    return chain


__all__ = [
    "BIN",
    "DEFAULT_EMBEDDED_CHAIN",
    "EMBEDDED_CHAINS",
    "ROOT",
    "DevnetError",
    "LocalChain",
    "deploy",
    "free_port",
    "start_anvil",
    "start_embedded_chain",
    "start_ganache",
    "wait_for_rpc",
]
