"""`make run`'s supervision (scripts/_supervisor.py), through a stand-in stack of sleepers.

Whatever ends the supervisor (SIGKILL, SIGTERM to it or to its process group, SIGHUP, Ctrl-C
twice), no process of its stack may survive: each pid it started, and its grandchildren, must be
gone from /proc. A service that dies is restarted with backoff while the others run on; a stack
an earlier run left behind is stopped only when its pid file proves it ours, anything else on a
port is reported with its pid.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
STANDIN = HERE / "standin_stack.py"
SLEEPER = HERE / "sleeper.py"
GRACE = 1.5  # the stand-in's grace before SIGKILL; its keeper ignores SIGTERM


def ports() -> tuple[int, int]:
    """Two distinct free ports for the chain and the API stand-ins."""
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return int(first.getsockname()[1]), int(second.getsockname()[1])


def running(pid: int) -> bool:
    """In /proc and not a zombie (an orphan's zombie waits for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def carrying(stack_id: str) -> list[int]:
    """Every running process started with this stack id, found by reading /proc directly."""
    found = []
    marker = f"ROYALTY_STACK_ID={stack_id}".encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and running(int(entry)):
                found.append(int(entry))
    return found


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data: Path
    tag: str

    @property
    def out(self) -> str:
        return (self.data / f"{self.tag}.stdout").read_text()

    @property
    def err(self) -> str:
        return (self.data / f"{self.tag}.stderr").read_text()

    def record(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.data / "run" / "stack.json").read_text())

    def child(self, name: str) -> int:
        """The child's pid by the pid file; 0 while it is not running (waiting to restart)."""
        return int(self.record()["children"].get(name, {}).get("pid", 0))

    def pids(self) -> list[int]:
        """Every sleeper pid (the chain's wrapper and its child, each service, each restart)."""
        path = self.data / f"{self.tag}.pids"
        return [int(line) for line in path.read_text().split()] if path.exists() else []


def start(data: Path, chain_port: int, api_port: int, ready: bool = True, tag: str = "stack") -> Stack:
    """The stand-in stack on ``data`` (its run/ and logs/ there); its output and its sleepers'
    pids go to ``data/<tag>.stdout``, ``.stderr`` and ``.pids``."""
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("ROYALTY_STACK_ID", None)
    with open(data / f"{tag}.stdout", "ab") as out, open(data / f"{tag}.stderr", "ab") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                str(STANDIN),
                str(data),
                str(chain_port),
                str(api_port),
                "--grace",
                str(GRACE),
                "--pids",
                str(data / f"{tag}.pids"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a group of its own, as a terminal's foreground job has
        )
    stack = Stack(process, data, tag)
    if ready:
        wait_for(lambda: "ready" in stack.out or process.poll() is not None, 30, "the stand-in stack")
        assert process.poll() is None, stack.err
        wait_for(lambda: len(stack.pids()) == 5, 10, "every sleeper")
    return stack


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    """Stacks started by a test; whatever a failed test leaves is killed here."""
    started: list[Stack] = []
    yield started
    for stack in started:
        if stack.process.poll() is None:
            os.killpg(stack.process.pid, signal.SIGKILL)
            stack.process.wait()
        for pid in stack.pids():
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def assert_all_gone(stack: Stack, pids: list[int], stack_id: str) -> None:
    wait_for(lambda: not any(running(p) for p in pids), GRACE + 10, f"pids {pids} to end")
    assert [p for p in pids if running(p)] == []
    assert carrying(stack_id) == []


ENDINGS = {
    "SIGKILL to the supervisor": lambda p: os.kill(p.pid, signal.SIGKILL),
    "SIGTERM to the supervisor": lambda p: os.kill(p.pid, signal.SIGTERM),
    "SIGTERM to its process group": lambda p: os.killpg(p.pid, signal.SIGTERM),
    "SIGKILL to its process group": lambda p: os.killpg(p.pid, signal.SIGKILL),
    "SIGHUP (terminal closed)": lambda p: os.kill(p.pid, signal.SIGHUP),
    "Ctrl-C": lambda p: os.kill(p.pid, signal.SIGINT),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_no_process_of_the_stack_survives_the_supervisor(tmp_path: Path, stacks: list[Stack], ending: str) -> None:
    stack = start(tmp_path, *ports())
    stacks.append(stack)
    pids, stack_id = stack.pids(), stack.record()["stack_id"]
    assert len(pids) == 5 and all(running(p) for p in pids)
    assert sorted(carrying(stack_id)) == sorted(pids)  # every one of them carries the stack's id

    ENDINGS[ending](stack.process)
    stack.process.wait(timeout=GRACE * 2 + 15)
    assert_all_gone(stack, pids, stack_id)
    # removed by the supervisor as it stops, or by the watchdog once it has swept the stack
    wait_for(lambda: not (tmp_path / "run" / "stack.json").exists(), 5, "the pid file to go")


def test_a_second_signal_during_the_stop_kills_what_is_left_at_once(tmp_path: Path, stacks: list[Stack]) -> None:
    stack = start(tmp_path, *ports())
    stacks.append(stack)
    pids, stack_id = stack.pids(), stack.record()["stack_id"]
    os.kill(stack.process.pid, signal.SIGINT)
    wait_for(lambda: "event='stopping'" in stack.err, 5, "the orderly stop")
    began = time.monotonic()
    os.kill(stack.process.pid, signal.SIGINT)  # Ctrl-C again: the keeper ignores SIGTERM
    stack.process.wait(timeout=10)
    assert time.monotonic() - began < GRACE  # did not wait out the grace period for the keeper
    assert "event='stopping_now' signal='SIGINT'" in stack.err
    assert_all_gone(stack, pids, stack_id)


def test_a_killed_service_is_restarted_with_backoff_and_the_others_run_on(tmp_path: Path, stacks: list[Stack]) -> None:
    stack = start(tmp_path, *ports())
    stacks.append(stack)
    others = {name: stack.child(name) for name in ("chain", "api", "keeper")}
    first = stack.child("oracle")

    os.kill(first, signal.SIGKILL)
    wait_for(lambda: stack.child("oracle") not in (0, first), 10, "the oracle's restart")
    second = stack.child("oracle")
    os.kill(second, signal.SIGKILL)  # again at once: the next wait is twice as long
    wait_for(lambda: stack.child("oracle") not in (0, first, second), 10, "the second restart")

    assert running(stack.child("oracle"))
    assert {name: stack.child(name) for name in others} == others
    assert all(running(pid) for pid in others.values())
    exits = [line for line in stack.err.splitlines() if "event='service_exited'" in line]
    assert len(exits) == 2
    assert all("service='oracle'" in line and "signal='SIGKILL'" in line for line in exits)
    assert ["restart_in=0.2" in exits[0], "restart_in=0.4" in exits[1]] == [True, True]
    restarts = [line for line in stack.err.splitlines() if "event='service_restarted'" in line]
    assert [f"pid={stack.child('oracle')}" in restarts[-1], "restarts=2" in restarts[-1]] == [True, True]

    pids, stack_id = stack.pids(), stack.record()["stack_id"]
    os.kill(stack.process.pid, signal.SIGTERM)
    stack.process.wait(timeout=GRACE * 2 + 15)
    assert_all_gone(stack, pids, stack_id)


def test_the_chain_exiting_stops_the_stack(tmp_path: Path, stacks: list[Stack]) -> None:
    stack = start(tmp_path, *ports())
    stacks.append(stack)
    pids, stack_id = stack.pids(), stack.record()["stack_id"]
    os.killpg(stack.child("chain"), signal.SIGKILL)  # the chain's wrapper and its child
    stack.process.wait(timeout=GRACE * 2 + 15)
    assert "chain exited" in stack.out
    assert "event='child_exited' child='chain'" in stack.err
    assert_all_gone(stack, pids, stack_id)


def test_a_stack_left_by_a_killed_run_is_stopped_by_the_next(tmp_path: Path, stacks: list[Stack]) -> None:
    chain_port, api_port = ports()
    old = start(tmp_path, chain_port, api_port, tag="old")
    stacks.append(old)
    old_pids, old_id = old.pids(), old.record()["stack_id"]
    children = {name: old.child(name) for name in ("chain", "api", "oracle", "keeper")}
    [grandchild] = [p for p in old_pids if p not in children.values()]  # the chain's, under its wrapper
    # The watchdog and the supervisor die together (as a supervisor from before the watchdog
    # did): the API and oracle end by PDEATHSIG; the chain, its child and the keeper (which
    # ignores SIGTERM) stay.
    os.kill(old.record()["watchdog"], signal.SIGKILL)
    os.kill(old.process.pid, signal.SIGKILL)
    old.process.wait()
    wait_for(lambda: not running(children["api"]) and not running(children["oracle"]), 5, "PDEATHSIG")
    left = sorted(p for p in old_pids if running(p))
    assert left == sorted([children["chain"], grandchild, children["keeper"]])
    assert sorted(carrying(old_id)) == left

    new = start(tmp_path, chain_port, api_port, tag="new")
    stacks.append(new)
    assert "stopped what an earlier make run left running: " in new.out
    assert f"chain (pid {children['chain']})" in new.out
    assert f"keeper (pid {children['keeper']})" in new.out
    assert f"(pid {grandchild})" in new.out
    assert [p for p in left if running(p)] == []
    assert new.process.poll() is None and new.record()["stack_id"] != old_id

    pids, new_id = new.pids(), new.record()["stack_id"]
    os.kill(new.process.pid, signal.SIGTERM)
    new.process.wait(timeout=GRACE * 2 + 15)
    assert_all_gone(new, pids, new_id)


def test_a_port_held_by_a_process_the_pid_file_does_not_prove_ours_is_reported_not_killed(
    tmp_path: Path, stacks: list[Stack]
) -> None:
    chain_port, api_port = ports()
    env = {k: v for k, v in os.environ.items() if k != "ROYALTY_STACK_ID"}
    foreign = subprocess.Popen([sys.executable, str(SLEEPER), "--port", str(chain_port)], env=env)
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", chain_port)) == 0, 10, "the foreign node")
        run = tmp_path / "run"
        run.mkdir()
        # A stale pid file that names it, with a dead supervisor and another stack's id.
        (run / "stack.json").write_text(
            json.dumps(
                {
                    "stack_id": "0" * 32,
                    "supervisor": {"pid": foreign.pid, "start_time": 1},
                    "children": {"chain": {"pid": foreign.pid, "start_time": 1}},
                }
            )
        )
        stack = start(tmp_path, chain_port, api_port, ready=False)
        stacks.append(stack)
        assert stack.process.wait(timeout=30) == 1
        assert f"port {chain_port} (chain) is in use by pid {foreign.pid} (" in stack.err
        assert f"stop it with `kill {foreign.pid}`, or set RPC_URL=http://127.0.0.1:{chain_port}" in stack.err
        assert "port already answers" not in stack.err
        assert running(foreign.pid)
        assert stack.pids() == []  # nothing was started
    finally:
        foreign.kill()
        foreign.wait()


def test_a_running_stack_is_reported_not_stopped(tmp_path: Path, stacks: list[Stack]) -> None:
    first = start(tmp_path, *ports())
    stacks.append(first)
    before = first.pids()
    second = start(tmp_path, *ports(), ready=False, tag="second")  # the same data directory, other ports
    stacks.append(second)
    assert second.process.wait(timeout=30) == 1
    assert f"make run is already running here: pid {first.process.pid} (" in second.err
    assert f"`kill {first.process.pid}`" in second.err
    assert first.process.poll() is None and all(running(p) for p in before)
