"""Child server processes: the plumbing shared by the embedded NATS and PostgreSQL servers.

Spawning (on a free port, out of reach of Ctrl-C, never outliving us), waiting until ready,
stopping, the `server.json` record that lets a later process attach to a running server, and
`EmbeddedServer`, the start/attach/stop life both servers share.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar, Self, TypeVar

from tally.sdk._errors import InfrastructureError
from tally.sdk._processes import parent_death_hook

_T = TypeVar("_T")
_KILL_TIMEOUT = 10.0
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
                preexec_fn=parent_death_hook(death_signal),
            )
        except OSError as error:
            raise InfrastructureError(f"cannot start {argv[0]}: {error}") from error
    return process, offset


def wait_until_ready(
    ready: Callable[[], bool],
    *,
    process: subprocess.Popen[bytes],
    what: str,
    log_path: Path,
    log_offset: int,
    timeout: float,
) -> None:
    """Poll `ready` until true; if it never is, kill `process` and raise InfrastructureError
    with the log tail."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if process.poll() is not None:
                tail = log_tail(log_path, log_offset)
                lost_port = "address already in use" in tail.lower()
                raise (PortInUse if lost_port else InfrastructureError)(
                    f"{what} exited with code {process.returncode} while starting; "
                    f"last lines of {log_path}:\n{tail}"
                )
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"{what} was not ready after {timeout:.0f} s; "
                    f"last lines of {log_path}:\n{log_tail(log_path, log_offset)}"
                )
            time.sleep(0.05)
    except BaseException:  # also Ctrl-C: never leave a half-started server behind
        stop_process(process, stop_signal=signal.SIGKILL, timeout=_KILL_TIMEOUT)
        raise


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


class EmbeddedServer(abc.ABC):
    """A server run as our child, its state kept in `state_dir/<folder>` with a `server.json`.

    `start()` attaches to the server already running for this `state_dir` if there is one
    (then `owned` is False and `stop()` leaves it running), otherwise it starts a new one.
    A server this instance started, then stopped or killed, starts again on the same ports,
    so its clients reconnect to the URL they were given.
    """

    _folder: ClassVar[str]
    _stop_signal: ClassVar[signal.Signals]
    _stop_timeout: ClassVar[float]

    def __init__(self, state_dir: Path, *, startup_timeout: float = 20.0) -> None:
        self.directory = state_dir.resolve() / self._folder
        self.owned = False
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._record: ServerRecord | None = None
        # The ports of this instance's last server, taken again by the next start.
        self._previous: ServerRecord | None = None

    @property
    def url(self) -> str:
        """The URL of the running server."""
        return self._running().url

    @property
    def pid(self) -> int:
        """Process id of the running server."""
        return self._running().pid

    def start(self) -> str:
        """Attach to this state folder's running server or start one; returns its URL."""
        if self._record is not None:
            return self._record.url
        self.directory.mkdir(parents=True, exist_ok=True)
        with state_lock(self.directory):
            record = read_record(self._record_path)
            if record is not None and self._is_ours(record):
                self._record, self.owned = record, False
                return record.url
            process, record = retry_on_port_clash(self._launch)
            write_record(self._record_path, record)
            self._process, self._record, self.owned = process, record, True
            return record.url

    def stop(self) -> None:
        """Stop the server if this instance started it (SIGKILL after a timeout)."""
        if self._process is not None:
            stop_process(self._process, stop_signal=self._stop_signal, timeout=self._stop_timeout)
            self._forget()
        self._process, self._record, self.owned = None, None, False

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would: no shutdown, its state left as it
        was. For fault tests; `start()` then starts it again on the same state and ports."""
        if self._process is None:
            raise InfrastructureError(f"the server for {self.directory} was not started here")
        stop_process(self._process, stop_signal=signal.SIGKILL, timeout=_KILL_TIMEOUT)
        self._forget()
        self._process, self._record, self.owned = None, None, False

    def _forget(self) -> None:
        self._previous = self._record
        self._record_path.unlink(missing_ok=True)

    def _port(self) -> int:
        """The port of this instance's previous server, or a free one."""
        return self._previous.port if self._previous is not None else free_port()

    def _monitoring_port(self) -> int:
        previous = None if self._previous is None else self._previous.monitoring_port
        return previous if previous is not None else free_port()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def _record_path(self) -> Path:
        return self.directory / "server.json"

    def _running(self) -> ServerRecord:
        if self._record is None:
            raise InfrastructureError(
                f"the server for {self.directory} is not started: call start() first"
            )
        return self._record

    @abc.abstractmethod
    def _launch(self) -> tuple[subprocess.Popen[bytes], ServerRecord]:
        """Start a server on free ports and wait until it is ready (or raise `PortInUse`).

        Called under the state lock, again after a port clash."""

    @abc.abstractmethod
    def _is_ours(self, record: ServerRecord) -> bool:
        """Whether the recorded server still runs and serves this state folder."""
