"""Services log in as least-privileged roles; only the migrations run as the owner.

Each service's `database_role` is a login role that is no superuser and cannot become one
(`SET ROLE`, `SET SESSION AUTHORIZATION` and `RESET ROLE` all leave it itself); a service given
a superuser's URL refuses to start; and the service processes of the end-to-end fixtures (as
the demo starts them) are connected as their roles.
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tally.sdk import Service
from tally.sdk.processes import free_port
from tally.sdk.testing import LoginUrl
from tally.supervisor import ServiceProcesses

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]


def database_services() -> list[Service[Any, Any]]:
    """Every service of the workspace that uses the database, from its declaration."""
    found = []
    for member in sorted(ROOT.glob("services/*/src/tally/*")):
        module = importlib.import_module(f"tally.{member.name}.service")
        found += [v for v in vars(module).values() if isinstance(v, Service) and v.uses_database]
    return found


def test_the_services_declare_their_own_roles() -> None:
    roles = {s.name: s.database_role for s in database_services()}
    assert roles == {
        "api": "tally_app",
        "gateway": "tally_gateway",
        "recorder": "tally_ingest",
        "rollup": "tally_rollup",
    }


async def test_no_service_role_can_become_a_superuser(
    fresh_database_url: str, login_url: LoginUrl
) -> None:
    owner = await asyncpg.connect(fresh_database_url)
    try:
        superusers = [
            r["rolname"] for r in await owner.fetch("SELECT rolname FROM pg_roles WHERE rolsuper")
        ]
    finally:
        await owner.close()
    assert superusers
    for service in database_services():
        role = service.database_role
        connection = await asyncpg.connect(login_url(fresh_database_url, role))
        try:
            for superuser in superusers:
                for attempt in (
                    f'SET ROLE "{superuser}"',
                    f'SET SESSION AUTHORIZATION "{superuser}"',
                ):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await connection.execute(attempt)
            await connection.execute("RESET ROLE; RESET SESSION AUTHORIZATION")
            who = await connection.fetchrow(
                "SELECT current_user AS acting, session_user AS login, r.rolsuper AS superuser"
                " FROM pg_roles r WHERE r.rolname = current_user"
            )
            assert who is not None
            assert (who["acting"], who["login"], who["superuser"]) == (role, role, False)
        finally:
            await connection.close()


def test_a_service_refuses_to_start_with_a_superuser_url(
    fresh_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "gateway.log"
    env = {
        **os.environ,
        "TALLY_NATS_URL": nats_url,
        "TALLY_DATABASE_URL": fresh_database_url,  # the owner's: a superuser
        "TALLY_HTTP_PORT": str(port),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tally.gateway"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        # Watch it until it exits: at no point may it have answered ready.
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            assert not _ready(port), f"the gateway started as a superuser:\n{log.read_text()}"
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait()
    text = log.read_text()
    assert process.returncode == 1, text
    assert "must log in as tally_gateway" in text
    assert "superuser" in text


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def test_service_processes_log_in_as_their_roles(
    fresh_database_url: str, service_processes: ServiceProcesses
) -> None:
    admin_token = {"TALLY_API_ADMIN_TOKEN": secrets.token_hex(16)}
    started = [
        service_processes.start("gateway"),
        service_processes.start("recorder"),
        service_processes.start("api", extra=admin_token),
    ]
    for service in started:
        await service_processes.wait_ready(service)
    # Each service holds its pool's first connection from start-up on.
    owner = await asyncpg.connect(fresh_database_url)
    try:
        rows = await owner.fetch(
            "SELECT DISTINCT application_name, usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = ANY($1::text[])",
            [s.name for s in started],
        )
    finally:
        await owner.close()
    assert {(r["application_name"], r["usename"]) for r in rows} == {
        ("api", "tally_app"),
        ("gateway", "tally_gateway"),
        ("recorder", "tally_ingest"),
    }
