"""Services as separate processes, as in production: started, watched, measured, stopped.

Each service runs as ``python -m tally.<name>`` with its own environment and a log file; it
dies with this process (parent-death signal) so no service outlives a crashed command. A service
that uses the database gets the login of its own role (its `Service.database_role`), never the
owner's URL or the roles' passwords.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from tally.sdk import InfrastructureError, Service, SettingsError, role_passwords, role_url
from tally.sdk.processes import free_port, log_tail, parent_death_hook

# What a service must not inherit: the owner's login, the roles' passwords, and a
# TALLY_DATABASE_URL meant for someone else.
_NOT_FOR_SERVICES = ("TALLY_OWNER_DATABASE_URL", "TALLY_DATABASE_PASSWORD_", "TALLY_DATABASE_URL")


def database_role(name: str) -> str | None:
    """The role service `name` logs in as (from its declaration); None if it needs no database."""
    module = f"tally.{name.replace('-', '_')}.service"
    try:
        declared = [
            v for v in vars(importlib.import_module(module)).values() if isinstance(v, Service)
        ]
    except ModuleNotFoundError as error:
        raise SettingsError(f"no service {name!r}: expected a module {module}") from error
    if len(declared) != 1:
        raise SettingsError(f"{module} declares {len(declared)} services; expected one")
    return declared[0].database_role if declared[0].uses_database else None


def service_environment(name: str, owner_database_url: str | None) -> dict[str, str]:
    """This process's environment for service `name`: without the owner's secrets, and with
    TALLY_DATABASE_URL the login of the service's role on the owner's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_FOR_SERVICES)}
    role = database_role(name)
    if role is not None and owner_database_url is not None:
        # The owner's URL with the user swapped; on a server that asks for passwords, the
        # role's from TALLY_DATABASE_PASSWORD_<ROLE>.
        password = role_passwords(os.environ).get(role)
        env["TALLY_DATABASE_URL"] = role_url(owner_database_url, role, password)
    return env


@dataclass
class ServiceProcess:
    name: str
    port: int
    # /healthz, /readyz and /metrics answer here, apart from the public port.
    ops_port: int
    process: subprocess.Popen[bytes]
    log: Path
    # How it was started, so that it can be started again alike.
    workers: int = 1
    extra: dict[str, str] | None = None
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
    """Starts services with a shared environment; stops all of them, however we exit.

    `owner_database_url` is the database the services use, as the owner's URL: each service is
    given its own role's login to it."""

    def __init__(
        self, env: dict[str, str], log_dir: Path, owner_database_url: str | None = None
    ) -> None:
        self._env = env
        self._owner_database_url = owner_database_url
        self._log_dir = log_dir
        self.running: dict[str, ServiceProcess] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        *,
        workers: int = 1,
        extra: dict[str, str] | None = None,
        port: int | None = None,
    ) -> ServiceProcess:
        """Start `name` on `port` (a free one if None: give the old one to restart a service
        at the address its clients know); its operations port is a free one."""
        port, ops_port = (free_port() if port is None else port), free_port()
        log = self._log_dir / f"{name}.log"
        env = {
            **service_environment(name, self._owner_database_url),
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
        service = ServiceProcess(name, port, ops_port, process, log, workers, extra)
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
