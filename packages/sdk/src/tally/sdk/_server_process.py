"""Child server processes: the plumbing shared by the embedded NATS and PostgreSQL servers.

Spawning (on a free port, out of reach of Ctrl-C, never outliving us), waiting until ready,
stopping, and the `server.json` record that lets a later process attach to a running server.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from tally.sdk._errors import InfrastructureError

_T = TypeVar("_T")
_PR_SET_PDEATHSIG = 1
_LOG_TAIL_LINES = 30
_PORT_ATTEMPTS = 3


class PortInUse(InfrastructureError):
    """The port picked as free was taken before the server bound it; pick another and retry."""


@dataclass(frozen=True)
class ServerRecord:
    """What `server.json` holds about a running server, so that others can find and attach to it."""

    pid: int
    port: int
    url: str
    monitoring_port: int | None = None


def read_record(path: Path) -> ServerRecord | None:
    """The record at `path`, or None when it is missing or unreadable (then nothing is reused)."""
    try:
        raw = json.loads(path.read_text())
        monitoring = raw.get("monitoring_port")
        return ServerRecord(
            pid=int(raw["pid"]),
            port=int(raw["port"]),
            url=str(raw["url"]),
            monitoring_port=None if monitoring is None else int(monitoring),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_record(path: Path, record: ServerRecord) -> None:
    """Write `record` atomically, so a reader never sees half a file."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(asdict(record), indent=2) + "\n")
    partial.replace(path)


@contextlib.contextmanager
def state_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on `directory`: two processes must not both start a server there."""
    with (directory / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def retry_on_port_clash(launch: Callable[[], _T]) -> _T:
    """Call `launch` again (it picks new ports) if another process took a port it picked."""
    for _ in range(_PORT_ATTEMPTS - 1):
        with contextlib.suppress(PortInUse):
            return launch()
    return launch()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def log_tail(path: Path, offset: int = 0) -> str:
    """The last lines written to the log at `path` after byte `offset`, for error messages."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    lines = text.splitlines()[-_LOG_TAIL_LINES:]
    return "\n".join(lines) if lines else "(the log is empty)"


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    death_signal: signal.Signals,
    cwd: Path | None = None,
    user: str | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start `argv` with output appended to `log_path`; returns the process and the log offset.

    The server gets its own session, so a Ctrl-C in the terminal reaches us and we stop it in
    order. On Linux it also receives `death_signal` when we die, even by SIGKILL. With `user`
    (we are root) it runs as that user, with that user's group and none of root's groups:
    left in group root, it would be refused folders that are open to others but not to root's
    group (such as pytest's 0701 temporary folders).
    """
    account = None if user is None else pwd.getpwnam(user)
    with log_path.open("ab") as log:
        offset = log.tell()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                user=None if account is None else account.pw_uid,
                group=None if account is None else account.pw_gid,
                extra_groups=None if account is None else [],
                start_new_session=True,
                preexec_fn=_die_with_parent(death_signal),
            )
        except OSError as error:
            raise InfrastructureError(f"cannot start {argv[0]}: {error}") from error
    return process, offset


def _die_with_parent(death_signal: signal.Signals) -> Callable[[], None] | None:
    # The kernel sends the signal when the *thread* that forked exits, not the process: started
    # from a worker thread, the server would die with that thread. So only the main thread asks.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not sys.platform.startswith("linux") or not in_main_thread:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: no dlopen in the child
    parent = os.getpid()

    def arrange() -> None:
        prctl(_PR_SET_PDEATHSIG, int(death_signal))
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return arrange


def wait_until_ready(
    ready: Callable[[], bool],
    *,
    process: subprocess.Popen[bytes],
    what: str,
    log_path: Path,
    log_offset: int,
    timeout: float,
) -> None:
    """Poll `ready` until true; raise InfrastructureError with the log tail if it never is."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            tail = log_tail(log_path, log_offset)
            error = PortInUse if "address already in use" in tail.lower() else InfrastructureError
            raise error(
                f"{what} exited with code {process.returncode} while starting; "
                f"last lines of {log_path}:\n{tail}"
            )
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"{what} was not ready after {timeout:.0f} s; "
                f"last lines of {log_path}:\n{log_tail(log_path, log_offset)}"
            )
        time.sleep(0.05)


def stop_process(
    process: subprocess.Popen[bytes], *, stop_signal: signal.Signals, timeout: float
) -> None:
    """Ask `process` to stop with `stop_signal`; SIGKILL it if it has not exited after `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(stop_signal)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
