"""`tally migrate`: the schema, and the passwords of the services' login roles when given."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import asyncpg
import pytest

from tally.cli.__main__ import main

pytestmark = pytest.mark.integration


def test_migrate_sets_the_passwords_it_is_given(
    scratch_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Roles are shared by the whole server: on a given one keep the password it is given.
    password = os.environ.get("TALLY_DATABASE_PASSWORD_TALLY_GATEWAY") or secrets.token_urlsafe()
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", scratch_database_url)
    monkeypatch.setenv("TALLY_DATABASE_PASSWORD_TALLY_GATEWAY", password)
    monkeypatch.setenv("TALLY_STATE_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main(["migrate"])
    assert exited.value.code in (0, None)
    out = capsys.readouterr().out
    assert "applied 0007_least_privilege.sql" in out
    assert "password set for role tally_gateway" in out
    try:
        verifier = asyncio.run(stored_password(scratch_database_url, "tally_gateway"))
    except asyncpg.InsufficientPrivilegeError:
        pytest.skip("reading stored passwords (pg_authid) takes a superuser")
    assert verifies(verifier, password)


def test_a_services_url_alone_is_refused_not_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TALLY_OWNER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TALLY_DATABASE_URL", "postgresql://tally_app@127.0.0.1:1/tally")
    monkeypatch.setenv("TALLY_STATE_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main(["migrate"])
    assert exited.value.code == 1
    assert "set TALLY_OWNER_DATABASE_URL" in capsys.readouterr().err


def verifies(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier is the password's (RFC 5802 and 7677, as
    PostgreSQL stores it: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)."""
    method, parameters, keys = verifier.split("$")
    iterations, salt = parameters.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    expected = f"{base64.b64encode(stored_key).decode()}:{base64.b64encode(server_key).decode()}"
    return method == "SCRAM-SHA-256" and keys == expected


async def stored_password(owner_url: str, role: str) -> str:
    owner = await asyncpg.connect(owner_url)
    try:
        verifier = await owner.fetchval(
            "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role
        )
    finally:
        await owner.close()
    assert isinstance(verifier, str)
    return verifier
