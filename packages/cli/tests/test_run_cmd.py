"""`tally run SERVICE`: a service in the foreground that stops gracefully on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import asyncpg
import httpx
import pytest

from tally.sdk.processes import free_port
from tally.sdk.testing import eventually


def test_an_unknown_service_is_named() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tally.cli", "run", "nosuch"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no service 'nosuch': expected a module tally.nosuch.service" in result.stderr


@pytest.mark.integration
async def test_a_service_runs_as_its_role_until_ctrl_c_and_then_drains(
    nats_url: str, scratch_database_url: str
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TALLY_NATS_URL": nats_url,
        "TALLY_OWNER_DATABASE_URL": scratch_database_url,
    }
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tally.cli", "run", "recorder", "--ops-port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:

        async def ready() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, seconds=60)
        assert await logins(scratch_database_url) == {("recorder", "tally_ingest")}
        process.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(process.stdout.read(), 30)).decode()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert '"msg":"service recorder stopped"' in output


async def logins(owner_url: str) -> set[tuple[str, str]]:
    """(application, login) of the services connected to the database."""
    owner = await asyncpg.connect(owner_url)
    try:
        rows = await owner.fetch(
            "SELECT DISTINCT application_name, usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await owner.close()
    return {(row["application_name"], row["usename"]) for row in rows}
