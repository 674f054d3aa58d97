"""`make run`'s children: restarted with backoff when they crash, never outliving the supervisor.

How nothing is left behind, whatever ends the supervisor (Ctrl-C, SIGTERM to it or to its process
group, SIGHUP from a closed terminal, SIGKILL):

- Every process of one stack carries ``ROYALTY_STACK_ID=<random id>`` in its environment: it is
  set in ``os.environ`` before the chain starts, so the chain, the services and whatever they
  start (the Anvil binary under its npm wrapper, the oracle's parsing process) inherit it.
- The services (API, oracle, keeper) start in sessions of their own, so a signal to the
  supervisor's group reaches only the supervisor, which stops them in order; and with
  ``prctl(PR_SET_PDEATHSIG, SIGTERM)``, so Linux sends them SIGTERM if the supervisor dies.
- A watchdog process, in a session of its own and deaf to SIGINT, SIGTERM and SIGHUP, reads a
  pipe whose only writer is the supervisor. When the supervisor ends, however it ends, the pipe
  reaches end-of-file and the watchdog stops every process that carries the stack's id
  (SIGTERM, then SIGKILL after a grace period): the chain and grandchildren too.
- A first signal starts an orderly stop (services first, then the chain); a second one during
  the stop SIGKILLs whatever is left at once, so it never leaves anything running either.

``run/stack.json`` names the supervisor and each child with its start time. A next run reads it:
a supervisor still alive is reported (it is running, not stale); processes that carry the
stack id it names are what an earlier run left behind, and are stopped. A port held by anything
else is reported with the holder's pid, its command and how to stop it; nothing is killed that
the pid file does not prove to be ours.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import structlog

STACK_ENV = "ROYALTY_STACK_ID"
PID_FILE = "stack.json"
_PR_SET_PDEATHSIG = 1
_LIBC: ctypes.CDLL | None = None


class StackError(Exception):
    """This stack cannot start; the message says what is in the way and how to clear it."""


# ------------------------------------------------------------------------------ processes


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22); None when
    there is no such process or it has ended (a zombie). A pid and its start time name one
    process: a pid reused later has another start time."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def is_running(pid: int, started: int | None = None) -> bool:
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def stack_of(pid: int) -> str | None:
    """The ``ROYALTY_STACK_ID`` a process was started with, if any."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as env:
            entries = env.read().split(b"\0")
    except OSError:
        return None
    prefix = f"{STACK_ENV}=".encode()
    for entry in entries:
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def stack_members(stack_id: str, exclude: Iterable[int] = ()) -> list[int]:
    """Every running process started with this stack's id (a sweep of /proc)."""
    skip = {os.getpid(), *exclude}
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in skip and stack_of(int(entry)) == stack_id and is_running(int(entry)):
            members.append(int(entry))
    return sorted(members)


def command_of(pid: int, limit: int = 120) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            text = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def terminate(pids: Sequence[int], grace: float) -> None:
    """SIGTERM to each, SIGKILL to those still running after ``grace`` seconds; returns when all
    have ended. Children of this process are reaped; others are left to their parent or init."""
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal_all(_running(pids), signal.SIGKILL)
    while _running(pids):
        time.sleep(0.02)


def _running(pids: Iterable[int]) -> list[int]:
    for pid in pids:  # reap our own children, so that an ended one stops looking alive
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
    return [pid for pid in pids if is_running(pid)]


def _signal_all(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def dies_with(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGTERM when ``parent`` ends (Linux), and ends at once
    if the parent is already gone."""
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls it
    libc = _LIBC

    def preexec() -> None:
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


# ------------------------------------------------------------------------------ ports


@dataclass(frozen=True)
class Port:
    """A port this stack listens on; ``hint`` says what else the user can do when it is taken."""

    name: str
    number: int
    hint: str


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def port_holder(port: int) -> int | None:
    """The pid of a process listening on ``port`` (from /proc/net/tcp*), None if none is visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as rows:
                next(rows, None)
                for row in rows:
                    cols = row.split()
                    if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rpartition(":")[2], 16) == port:
                        inodes.add(f"socket:[{cols[9]}]")
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    return int(entry)
    return None


# ------------------------------------------------------------------------------ the supervisor


@dataclass
class Backoff:
    """Seconds before restarting a service that exited: ``first``, doubling with each exit that
    came less than ``stable_after`` seconds after its start, at most ``cap``."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0

    def delay(self, quick_exits: int) -> float:
        return float(min(self.cap, self.first * 2 ** max(0, quick_exits - 1)))


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str] | None
    restart: bool
    grace: float
    """Seconds between SIGTERM and SIGKILL when stopping it."""
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restarts: int = 0
    restart_at: float | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)


class _HangupSafe:
    """A stream that ignores write errors: after SIGHUP the terminal is gone, and a log line
    that cannot be written must not stop the supervisor from stopping its children."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()


def stderr_log(stream: IO[str] | None = None) -> Any:
    """The supervisor's log: one key=value line per event, like the oracle's, on stderr."""
    return structlog.wrap_logger(
        structlog.PrintLogger(file=_HangupSafe(stream or sys.stderr)),  # type: ignore[arg-type]
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )


def _exit_status(code: int) -> dict[str, object]:
    if code < 0:
        with contextlib.suppress(ValueError):
            return {"signal": signal.Signals(-code).name}
    return {"code": code}


class Supervisor:
    def __init__(
        self,
        run_dir: Path,
        log_dir: Path,
        cwd: Path,
        *,
        log: Any = None,
        backoff: Backoff | None = None,
        grace: float = 10.0,
    ) -> None:
        self.run_dir, self.log_dir, self.cwd = run_dir, log_dir, cwd
        self.pid_file = run_dir / PID_FILE
        self.log = log if log is not None else stderr_log()
        self.backoff = backoff or Backoff()
        self.grace = grace
        self.children: list[Child] = []
        self.stack_id = uuid.uuid4().hex
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._hurry = False

    # -------------------------------------------------------------- before anything starts

    def check_stale(self, ports: Sequence[Port]) -> list[str]:
        """Stops what an earlier run left behind (only processes its pid file proves to be
        ours) and returns what it did; raises StackError naming whatever else is in the way."""
        done = []
        record = self._read_pid_file()
        if record is not None:
            supervisor = record.get("supervisor", {})
            pid = int(supervisor.get("pid", 0))
            if pid and pid != os.getpid() and is_running(pid, supervisor.get("start_time")):
                raise StackError(
                    f"make run is already running here: pid {pid} ({command_of(pid)}), pid file {self.pid_file}. "
                    f"Stop it with Ctrl-C in its terminal or `kill {pid}`, or start this one with another "
                    "ROYALTY_DATA_DIR and other ports."
                )
            names = {int(c["pid"]): name for name, c in record.get("children", {}).items()}
            stack_id = str(record.get("stack_id") or "")
            left = stack_members(stack_id) if stack_id else []
            if left:
                what = ", ".join(f"{names.get(p, command_of(p, 60))} (pid {p})" for p in left)
                self.log.warning("stale_stack_stopping", stack=stack_id, pids=left)
                terminate(left, self.grace)
                done.append(f"stopped what an earlier make run left running: {what}")
                self.log.warning("stale_stack_stopped", stack=stack_id, pids=left)
            self.pid_file.unlink(missing_ok=True)
        for port in ports:
            if not port_answers(port.number):
                continue
            holder = port_holder(port.number)
            if holder is None:
                raise StackError(
                    f"port {port.number} ({port.name}) is in use by a process this user cannot see: "
                    f"stop it, or {port.hint}."
                )
            other = stack_of(holder)
            whose = (
                f"started by another make run ({STACK_ENV}={other}) that {self.pid_file} does not name"
                if other
                else f"which no pid file in {self.run_dir} names as this project's"
            )
            raise StackError(
                f"port {port.number} ({port.name}) is in use by pid {holder} ({command_of(holder)}), {whose}: "
                f"stop it with `kill {holder}`, or {port.hint}."
            )
        return done

    def start_watchdog(self) -> None:
        """Marks this process's future children with the stack id and starts the watchdog."""
        os.environ[STACK_ENV] = self.stack_id
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != STACK_ENV}  # the watchdog is not swept
        with open(self.log_dir / "watchdog.log", "ab") as out:
            self._watchdog = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "watchdog",
                    self.stack_id,
                    str(self.grace),
                    str(self.pid_file),
                ],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        self._write_pid_file()

    def install_signal_handlers(self) -> None:
        """SIGINT, SIGTERM and SIGHUP: the first raises KeyboardInterrupt (an orderly stop),
        any later one SIGKILLs every child at once."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if not self._stopping:
            self._stopping = True
            self.log.warning("stopping", signal=signal.Signals(signum).name)
            raise KeyboardInterrupt
        if not self._hurry:
            self._hurry = True
            self.log.warning("stopping_now", signal=signal.Signals(signum).name)
            for child in self.children:
                if child.process is not None:
                    _signal_group(child.process.pid, signal.SIGKILL)

    # -------------------------------------------------------------- children

    def adopt(self, name: str, process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
        """A child started elsewhere (the chain, by royalty_chain.dev.devnet), in a session of
        its own: stopped after the services (Anvil saves its state on SIGTERM, so it gets
        ``grace`` seconds for it), never restarted; its exit ends ``run``."""
        child = Child(name, [], None, restart=False, grace=grace, process=process, started_at=time.monotonic())
        self.children.append(child)
        self._write_pid_file()

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Child:
        """Starts a service, restarted with backoff whenever it exits; its output is appended
        to ``<log_dir>/<name>.log``."""
        child = Child(name, args, env, restart=True, grace=self.grace)
        self.children.append(child)
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        if child._log is None:
            child._log = open(self.log_dir / f"{child.name}.log", "ab")  # noqa: SIM115 - closed in stop()
        env = dict(child.env if child.env is not None else os.environ)
        env[STACK_ENV] = self.stack_id
        # preexec_fn is safe here: the supervisor runs no threads.
        child.process = subprocess.Popen(
            child.args,
            cwd=self.cwd,
            env=env,
            stdout=child._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=dies_with(os.getpid()),
        )
        child.started_at = time.monotonic()
        self._write_pid_file()

    def poll(self) -> Child | None:
        """Restarts services that exited once their backoff has passed; returns a child that is
        not restarted (the chain) if it exited."""
        now = time.monotonic()
        for child in self.children:
            process = child.process
            if process is not None and process.poll() is not None:
                ran = now - child.started_at
                child.process = None
                _signal_group(process.pid, signal.SIGKILL)  # anything it left in its group
                status = _exit_status(process.returncode)
                if not child.restart:
                    self.log.error("child_exited", child=child.name, pid=process.pid, **status, ran_for=round(ran, 1))
                    self._write_pid_file()
                    return child
                child.quick_exits = 1 if ran >= self.backoff.stable_after else child.quick_exits + 1
                delay = self.backoff.delay(child.quick_exits)
                child.restart_at = now + delay
                self.log.warning(
                    "service_exited",
                    service=child.name,
                    pid=process.pid,
                    **status,
                    ran_for=round(ran, 1),
                    restart_in=delay,
                    restarts=child.restarts,
                )
                self._write_pid_file()
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                child.restarts += 1
                self._start(child)
                assert child.process is not None
                self.log.warning(
                    "service_restarted", service=child.name, pid=child.process.pid, restarts=child.restarts
                )
        return None

    def run(self, interval: float = 0.5) -> Child:
        """Supervises until a child that is not restarted exits, and returns it (a signal
        raises KeyboardInterrupt instead)."""
        while True:
            ended = self.poll()
            if ended is not None:
                return ended
            time.sleep(interval)

    def stop(self) -> None:
        """Stops the services, then the adopted children (each SIGTERM, SIGKILL to its group after
        the grace period), then lets the watchdog sweep whatever else carries the stack id."""
        self._stopping = True
        try:
            for group in ([c for c in self.children if c.restart], [c for c in self.children if not c.restart]):
                self._stop_all(group)
        finally:
            for child in self.children:
                if child._log is not None:
                    child._log.close()
            self._close_watchdog()
            self._remove_pid_file()

    def _stop_all(self, children: list[Child]) -> None:
        running = [c.process for c in children if c.process is not None and c.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + max((c.grace for c in children), default=0.0)
        while any(p.poll() is None for p in running) and time.monotonic() < deadline and not self._hurry:
            time.sleep(0.05)
        for child in children:
            if child.process is not None:
                _signal_group(child.process.pid, signal.SIGKILL)  # late, or what it left in its group
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=5)
                self.log.info(
                    "child_stopped",
                    child=child.name,
                    pid=child.process.pid,
                    **_exit_status(child.process.returncode or 0),
                )

    def _close_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        if watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                watchdog.stdin.close()  # end-of-file: it sweeps, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=self.grace + 10)

    # -------------------------------------------------------------- the pid file

    def _read_pid_file(self) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self.pid_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            self.log.warning("pid_file_unreadable", path=str(self.pid_file), error=str(err))
            return None
        return record

    def _write_pid_file(self) -> None:
        children = {
            c.name: {"pid": c.process.pid, "start_time": start_time(c.process.pid)}
            for c in self.children
            if c.process is not None
        }
        record = {
            "stack_id": self.stack_id,
            "supervisor": {"pid": os.getpid(), "start_time": start_time(os.getpid())},
            "watchdog": self._watchdog.pid if self._watchdog is not None else None,
            "children": children,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.pid_file.with_name(self.pid_file.name + ".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.pid_file)

    def _remove_pid_file(self) -> None:
        record = self._read_pid_file()
        if record is not None and record.get("stack_id") == self.stack_id:
            self.pid_file.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ the watchdog


def watchdog(stack_id: str, grace: float, pid_file: Path) -> None:
    """Waits for end-of-file on stdin (the supervisor ended), then stops every process of the
    stack and removes the stack's pid file."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    log = stderr_log()
    while True:
        try:
            if not os.read(0, 4096):
                break
        except OSError as err:
            if err.errno != errno.EINTR:
                break
    for _ in range(3):  # a process may start another while it is being stopped
        left = stack_members(stack_id)
        if not left:
            break
        log.warning("watchdog_stopping", stack=stack_id, pids=left, commands=[command_of(p) for p in left])
        terminate(left, grace)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(pid_file.read_text(encoding="utf-8")).get("stack_id") == stack_id:
            pid_file.unlink()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "watchdog":
        watchdog(sys.argv[2], float(sys.argv[3]), Path(sys.argv[4]))
    else:
        raise SystemExit("usage: _supervisor.py watchdog STACK_ID GRACE_SECONDS PID_FILE")
