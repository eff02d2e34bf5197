"""Who a process logs in to PostgreSQL as: each service as its own least-privileged role.

The schema owner (a superuser, or a role with CREATEROLE and BYPASSRLS) only migrates and
administers. A service logs in as its `Service.database_role`, and at connect the SDK checks
that the login is that role, is no superuser and cannot become one (`check_login`).

Where the owner's URL is at hand (the embedded servers, `tally demo`, tests), a role's URL is
the owner's with the user swapped (`role_url`): the embedded server trusts local logins. A
server that asks for passwords gets them from ``TALLY_DATABASE_PASSWORD_<ROLE>``, which
`tally migrate` sets on the roles (`set_role_passwords`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from tally.sdk._errors import InfrastructureError, SettingsError

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    from asyncpg.pool import PoolConnectionProxy

    Connection = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]

PASSWORD_PREFIX = "TALLY_DATABASE_PASSWORD_"
OWNER_URL_VARIABLE = "TALLY_OWNER_DATABASE_URL"
SERVICE_URL_VARIABLE = "TALLY_DATABASE_URL"
_SCRAM_ITERATIONS = 4096

# Roles whose members are superusers in all but name: they run programs or read and write
# files as the server's operating-system user.
_SERVER_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")

_LOGIN = """
SELECT session_user AS login, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
       (SELECT array_agg(o.rolname ORDER BY o.rolname) FROM pg_roles o
        WHERE o.oid <> r.oid AND (o.rolsuper OR o.rolname = ANY($1::text[]))
          AND pg_has_role(r.oid, o.oid, 'MEMBER')) AS escalations
FROM pg_roles r WHERE r.rolname = session_user
"""

_PASSWORD_TARGETS = """
SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND NOT rolcreaterole
"""


def role_url(url: str, role: str, password: str | None = None) -> str:
    """The URL of the same server and database as `url`, logging in as `role`."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(role, safe="")
    login = user if password is None else f"{user}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def owner_database_url(environ: Mapping[str, str]) -> str | None:
    """The owner's URL for tools (migrate, demo, tests) from TALLY_OWNER_DATABASE_URL; None for
    an embedded server. A service's own TALLY_DATABASE_URL alone is refused, not ignored."""
    given = environ.get(OWNER_URL_VARIABLE) or None
    if given is None and environ.get(SERVICE_URL_VARIABLE):
        raise SettingsError(
            f"{SERVICE_URL_VARIABLE} is set, but it is a service's own login; migrations, the "
            f"demo and the tests need the schema owner's: set {OWNER_URL_VARIABLE} (and "
            f"unset {SERVICE_URL_VARIABLE} here, or leave both unset for an embedded server)"
        )
    return given


def role_passwords(environ: Mapping[str, str]) -> dict[str, str]:
    """The passwords given as ``TALLY_DATABASE_PASSWORD_<ROLE>``, by role name."""
    return {
        name.removeprefix(PASSWORD_PREFIX).lower(): value
        for name, value in environ.items()
        if name.startswith(PASSWORD_PREFIX) and value
    }


async def check_login(connection: Connection, role: str, service: str) -> None:
    """Raise InfrastructureError unless the session logged in as `role`, a role that is no
    superuser and cannot become one."""
    found = await connection.fetchrow(_LOGIN, list(_SERVER_ROLES))
    assert found is not None, "session_user is always a role"
    login: str = found["login"]
    problem = None
    if login != role:
        kind = "a superuser" if found["superuser"] else "another role"
        problem = f"its URL logs in as {login}, {kind}"
    elif found["superuser"] or found["createrole"]:
        problem = f"{login} is {'a superuser' if found['superuser'] else 'allowed to CREATEROLE'}"
    elif found["escalations"]:
        problem = f"{login} can become {', '.join(found['escalations'])} (membership)"
    if problem is not None:
        raise InfrastructureError(
            f"{service} must log in as {role}, a role with only the rights it needs, but "
            f"{problem}. Give it {role}'s own URL (postgresql://{role}:PASSWORD@HOST/DB, in "
            "TALLY_DATABASE_URL), never the owner's; `tally migrate` makes the role."
        )


async def set_role_passwords(url: str, passwords: Mapping[str, str]) -> list[str]:
    """Set the password of each of the services' login roles named; return their names.

    `url` is the owner's. Only login roles that are no superuser may be named. The password
    reaches the server as a SCRAM-SHA-256 verifier, never as clear text in its logs.
    """
    if not passwords:
        return []
    for role, password in passwords.items():
        if not (password.isascii() and password.isprintable()):
            raise SettingsError(
                f"{PASSWORD_PREFIX}{role.upper()}: use printable ASCII characters only"
            )
    connection = await asyncpg.connect(url)
    try:
        targets = {row["rolname"] for row in await connection.fetch(_PASSWORD_TARGETS)}
        unknown = sorted(set(passwords) - targets)
        if unknown:
            ours = ", ".join(sorted(t for t in targets if t.startswith("tally_")))
            raise SettingsError(
                f"{', '.join(unknown)} is no login role of a service (from {PASSWORD_PREFIX}*);"
                f" the roles the migrations made: {ours or 'none yet'}"
            )
        for role in sorted(passwords):
            statement = await connection.fetchval(
                "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                role,
                scram_verifier(passwords[role]),
            )
            await connection.execute(statement)
    finally:
        await connection.close()
    return sorted(passwords)


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, 7677)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def text(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{text(salt)}${text(stored_key)}:{text(server_key)}"
