"""No secret reaches a log line: the services run as real processes with passwords in their
database and NATS URLs, the api with its admin token, a machine with its token; they work,
refuse, fail to start and stop, at debug level, and every line they wrote is searched."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from tally.sdk import role_passwords
from tally.sdk.processes import free_port
from tally.sdk.testing import eventually
from tally.supervisor import ServiceProcess

from .conftest import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROLES = ("tally_gateway", "tally_ingest", "tally_app")


def upload(seq: int) -> bytes:
    message = {
        "boot_id": "b1",
        "seq": seq,
        "ts": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "signals": [{"kind": "counter", "name": "packs_total", "value": seq}],
    }
    return msgspec.json.encode({"messages": [message]})


async def exited(service: ServiceProcess, within: float = 60.0) -> int:
    await eventually(lambda: service.process.poll() is not None, within, interval=0.1)
    return service.process.returncode


async def _log_in_and_use_a_key(
    client: httpx.AsyncClient, url: str, tenant: str, admin_token: str
) -> list[str]:
    """A user logs in (once with a wrong password), makes an API key and uses it; the
    passwords, the session id and the key are returned, to be looked for in the logs."""
    password, wrong = f"pw-{secrets.token_hex(8)}", f"wrong-{secrets.token_hex(8)}"
    admin = {"Authorization": f"Bearer {admin_token}"}
    user = {"email": "ana@example.com", "name": "Ana", "role": "admin", "password": password}
    added = await client.post(f"{url}/v1/admin/tenants/{tenant}/users", json=user, headers=admin)
    assert added.status_code == 201, added.text
    login = {"tenant": tenant, "email": "ana@example.com"}
    refused = await client.post(f"{url}/v1/session", json={**login, "password": wrong})
    assert refused.status_code == 401
    session = await client.post(f"{url}/v1/session", json={**login, "password": password})
    assert session.status_code == 200, session.text
    cookie = session.headers["set-cookie"].partition(";")[0]
    headers = {"Cookie": cookie, "X-CSRF-Token": session.json()["csrf_token"]}
    made = await client.post(f"{url}/v1/keys", json={"name": "ERP"}, headers=headers)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    used = await client.get(f"{url}/v1/keys", headers={"Authorization": f"Bearer {key}"})
    assert used.status_code == 403  # a viewer key: refused, and logged as such
    return [password, wrong, cookie.partition("=")[2], key.rpartition("_")[2]]


async def test_no_secret_reaches_a_log_line(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The roles' passwords: the server's own when it asks for them, else made up (the embedded
    # server trusts local logins, and the services put them in their URLs all the same).
    passwords = role_passwords(os.environ)
    for role in ROLES:
        if role not in passwords:
            passwords[role] = f"pw-{role}-{secrets.token_hex(8)}"
            monkeypatch.setenv(f"TALLY_DATABASE_PASSWORD_{role.upper()}", passwords[role])
    nats_password = f"nats-{secrets.token_hex(8)}"
    admin_token = f"admin-{secrets.token_hex(16)}"
    (tenant, _), machine_token = next(iter(pipeline.tokens.items()))
    hidden = [*passwords.values(), nats_password, admin_token, machine_token]
    env = {
        "TALLY_NATS_URL": pipeline.nats_url.replace("nats://", f"nats://probe:{nats_password}@"),
        "TALLY_LOG_LEVEL": "debug",
        "TALLY_API_ADMIN_TOKEN": admin_token,
        "TALLY_CONNECT_SECONDS": "2",
    }
    services = pipeline.services
    started = [services.start(name, extra=env) for name in ("gateway", "recorder", "api")]
    await asyncio.gather(*(services.wait_ready(s) for s in started))
    gateway, _, api = started
    async with httpx.AsyncClient(timeout=10) as client:
        for token in (machine_token, "tly_wrong"):
            await client.post(
                f"{gateway.url}/v1/telemetry",
                content=upload(1),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        for token in (admin_token, "wrong"):
            await client.get(
                f"{api.url}/v1/admin/tenants", headers={"Authorization": f"Bearer {token}"}
            )
        hidden += await _log_in_and_use_a_key(client, api.url, tenant, admin_token)
    services.stop_all()
    # Start-ups that fail: NATS and PostgreSQL unreachable, with the passwords in their URLs.
    closed = free_port()
    no_nats = {**env, "TALLY_NATS_URL": f"nats://probe:{nats_password}@127.0.0.1:{closed}"}
    no_database = {
        **env,
        "TALLY_DATABASE_URL": (
            f"postgresql://tally_app:{passwords['tally_app']}@127.0.0.1:{closed}/tally"
        ),
    }
    failing = [services.start("recorder", extra=no_nats), services.start("api", extra=no_database)]
    assert [await exited(service) for service in failing] == [1, 1]

    logs = {path.name: path.read_text() for path in Path(gateway.log).parent.glob("*.log")}
    assert set(logs) == {"gateway.log", "recorder.log", "api.log"}
    for name, text in logs.items():
        for secret in hidden:
            assert secret not in text, f"{name} shows a secret"
    assert f"nats://probe:***@127.0.0.1:{closed}" in logs["recorder.log"]
    assert f"postgresql://tally_app:***@127.0.0.1:{closed}/tally" in logs["api.log"]
    assert "refused upload" in logs["gateway.log"]  # the 401 was logged, without the token
