"""Logins: a role's URL on the owner's server, the variables that name URLs and passwords, and
passwords set as the verifiers PostgreSQL itself would store."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from urllib.parse import unquote, urlsplit

import asyncpg
import pytest

from tally.sdk._errors import SettingsError
from tally.sdk._logins import (
    owner_database_url,
    role_passwords,
    role_url,
    scram_verifier,
    set_role_passwords,
)


def test_a_roles_url_is_the_owners_with_the_user_swapped() -> None:
    owner = "postgresql://postgres:owners@db.example:5433/tally?sslmode=require"
    assert (
        role_url(owner, "tally_app")
        == "postgresql://tally_app@db.example:5433/tally?sslmode=require"
    )
    with_password = role_url(owner, "tally_ingest", "p@ss:w/rd %")
    parts = urlsplit(with_password)
    assert (parts.username, unquote(parts.password or "")) == ("tally_ingest", "p@ss:w/rd %")
    assert (parts.hostname, parts.port, parts.path) == ("db.example", 5433, "/tally")


def test_passwords_come_from_their_variables_by_role() -> None:
    environ = {
        "TALLY_DATABASE_PASSWORD_TALLY_GATEWAY": "g",
        "TALLY_DATABASE_PASSWORD_TALLY_APP": "",
        "TALLY_DATABASE_URL": "postgresql://tally_gateway@h/db",
    }
    assert role_passwords(environ) == {"tally_gateway": "g"}


def test_the_owners_url_is_never_taken_from_a_services_variable() -> None:
    assert owner_database_url({}) is None
    assert owner_database_url({"TALLY_OWNER_DATABASE_URL": "postgresql://o@h/db"}) == (
        "postgresql://o@h/db"
    )
    with pytest.raises(SettingsError, match="set TALLY_OWNER_DATABASE_URL"):
        owner_database_url({"TALLY_DATABASE_URL": "postgresql://tally_app@h/db"})


@pytest.fixture
async def owner(scratch_database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    connection = await asyncpg.connect(scratch_database_url)
    if not await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        await connection.close()
        pytest.skip("reading stored passwords (pg_authid) takes a superuser")
    yield connection
    await connection.close()


@pytest.fixture
async def probe(owner: asyncpg.Connection[asyncpg.Record]) -> AsyncIterator[str]:
    """A login role of the test's own (roles are shared by every database of the server)."""
    role = f"probe_{secrets.token_hex(4)}"
    await owner.execute(f"CREATE ROLE {role} LOGIN")
    yield role
    await owner.execute(f"DROP ROLE {role}")


async def stored(owner: asyncpg.Connection[asyncpg.Record], role: str) -> tuple[str, bytes]:
    """The verifier stored for `role`, and its salt."""
    verifier = await owner.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    assert isinstance(verifier, str)
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    return verifier, base64.b64decode(verifier.split("$")[1].split(":")[1])


async def test_the_verifier_is_the_one_postgresql_makes(
    owner: asyncpg.Connection[asyncpg.Record], probe: str
) -> None:
    await owner.execute("SET password_encryption = 'scram-sha-256'")
    await owner.execute(f"ALTER ROLE {probe} PASSWORD 'correct horse battery staple'")
    verifier, salt = await stored(owner, probe)
    assert scram_verifier("correct horse battery staple", salt) == verifier
    assert scram_verifier("Correct horse battery staple", salt) != verifier


async def test_passwords_reach_the_roles_as_verifiers(
    owner: asyncpg.Connection[asyncpg.Record], probe: str, scratch_database_url: str
) -> None:
    assert await set_role_passwords(scratch_database_url, {probe: "s3cret!"}) == [probe]
    verifier, salt = await stored(owner, probe)
    assert verifier == scram_verifier("s3cret!", salt)


@pytest.mark.parametrize(
    ("passwords", "refusal"),
    [
        ({"postgres": "x"}, "postgres is no login role of a service"),
        ({"tally_nosuch": "x"}, "tally_nosuch is no login role of a service"),
        ({"tally_app": "pässword"}, "TALLY_DATABASE_PASSWORD_TALLY_APP: use printable ASCII"),
    ],
)
async def test_only_service_roles_get_passwords(
    owner: asyncpg.Connection[asyncpg.Record],
    scratch_database_url: str,
    passwords: dict[str, str],
    refusal: str,
) -> None:
    before = await owner.fetch("SELECT rolname, rolpassword FROM pg_authid ORDER BY 1")
    with pytest.raises(SettingsError, match=refusal):
        await set_role_passwords(scratch_database_url, passwords)
    assert await owner.fetch("SELECT rolname, rolpassword FROM pg_authid ORDER BY 1") == before
