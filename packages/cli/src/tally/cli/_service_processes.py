"""Services as separate processes, as in production: started, watched, measured, stopped.

Each service runs as ``python -m tally.<name>`` with its own environment and a log file; it
dies with this process (parent-death signal) so no service outlives a crashed command.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tally.sdk import InfrastructureError
from tally.sdk._processes import parent_death_hook
from tally.sdk._server_process import free_port, log_tail


@dataclass
class ServiceProcess:
    name: str
    port: int
    # /healthz, /readyz and /metrics answer here, apart from the public port.
    ops_port: int
    process: subprocess.Popen[bytes]
    log: Path
    peak_rss: int = 0
    _handle: psutil.Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.ops_port}"

    def rss(self) -> int:
        """Resident memory of the service and its workers, in bytes (and track the peak)."""
        try:
            if self._handle is None:
                self._handle = psutil.Process(self.process.pid)
            total = self._handle.memory_info().rss
            total += sum(child.memory_info().rss for child in self._handle.children(True))
        except psutil.Error:
            return 0
        self.peak_rss = max(self.peak_rss, total)
        return total


class ServiceProcesses:
    """Starts services with a shared environment; stops all of them, however we exit."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = env
        self._log_dir = log_dir
        self.running: dict[str, ServiceProcess] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(
        self, name: str, *, workers: int = 1, extra: dict[str, str] | None = None
    ) -> ServiceProcess:
        port, ops_port = free_port(), free_port()
        log = self._log_dir / f"{name}.log"
        env = {
            **os.environ,
            **self._env,
            **(extra or {}),
            "TALLY_HTTP_PORT": str(port),
            "TALLY_OPS_PORT": str(ops_port),
        }
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", f"tally.{name}", "--workers", str(workers)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=parent_death_hook(),
                # A session of its own: Ctrl-C in the terminal reaches only the command, which
                # stops the services itself once what they accepted is stored.
                start_new_session=True,
            )
        service = ServiceProcess(name, port, ops_port, process, log)
        self.running[name] = service
        return service

    async def wait_ready(self, service: ServiceProcess, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if service.process.poll() is not None:
                    raise InfrastructureError(
                        f"{service.name} exited with {service.process.returncode} at start-up; "
                        f"its log {service.log}:\n{log_tail(service.log)}"
                    )
                try:
                    if (await client.get(f"{service.ops_url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise InfrastructureError(f"{service.name} not ready after {within}s; see {service.log}")

    def stop_all(self, timeout: float = 30.0) -> None:
        """SIGTERM every service (they drain), then wait; SIGKILL what is left."""
        for service in self.running.values():
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in self.running.values():
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
