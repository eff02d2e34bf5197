"""The accounts' SQL. Tenant tables are read and written in transactions scoped to their
tenant; the `tally_*` functions answer what comes before the tenant is known (0011)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from tally.sdk import command, query

_USER = (
    "tenant, email, name, role, disabled_at IS NOT NULL AS disabled, created_at, "
    "password_changed_at"
)
_KEY = (
    "tenant, key_id, name, role, created_at, created_by, last_used_at, "
    "revoked_at IS NOT NULL AS revoked"
)


class UserRow(msgspec.Struct, frozen=True):
    tenant: str
    email: str
    name: str
    role: str
    disabled: bool
    created_at: datetime
    password_changed_at: datetime


class CredentialRow(msgspec.Struct, frozen=True):
    role: str
    password_hash: str
    disabled: bool


class KeyRow(msgspec.Struct, frozen=True):
    tenant: str
    key_id: str
    name: str
    role: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked: bool


class SessionRow(msgspec.Struct, frozen=True):
    tenant: str
    email: str
    role: str
    csrf_token: str


class StoredKeyRow(msgspec.Struct, frozen=True):
    tenant: str
    name: str
    role: str
    secret_sha256: bytes


class Seconds(msgspec.Struct, frozen=True):
    seconds: int


class Found(msgspec.Struct, frozen=True):
    found: bool


@query(
    UserRow,
    f"""
    INSERT INTO users (tenant, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (tenant, email) DO NOTHING RETURNING {_USER}
    """,
)
def insert_user(tenant: str, email: str, name: str, role: str, password_hash: str) -> None: ...


@query(UserRow, f"SELECT {_USER} FROM users WHERE tenant = $1 ORDER BY email")
def users_of_tenant(tenant: str) -> None: ...


@query(UserRow, f"SELECT {_USER} FROM users WHERE tenant = $1 AND email = $2")
def user_by_email(tenant: str, email: str) -> None: ...


@query(
    CredentialRow,
    "SELECT role, password_hash, disabled_at IS NOT NULL AS disabled FROM users"
    " WHERE tenant = $1 AND email = $2",
)
def credentials(tenant: str, email: str) -> None: ...


@query(
    UserRow,
    f"""
    UPDATE users SET name = coalesce($3, name), role = coalesce($4, role),
        disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at
                           WHEN $5 THEN coalesce(disabled_at, now()) END
    WHERE tenant = $1 AND email = $2 RETURNING {_USER}
    """,
)
def update_user(
    tenant: str, email: str, name: str | None, role: str | None, disabled: bool | None
) -> None: ...


@query(
    UserRow,
    f"""
    UPDATE users SET password_hash = $3, password_changed_at = now()
    WHERE tenant = $1 AND email = $2 RETURNING {_USER}
    """,
)
def set_password_hash(tenant: str, email: str, password_hash: str) -> None: ...


@command("UPDATE users SET password_hash = $3 WHERE tenant = $1 AND email = $2")
def rehash_password(tenant: str, email: str, password_hash: str) -> None: ...


@command("DELETE FROM user_sessions WHERE tenant = $1 AND email = $2")
def end_sessions_of_user(tenant: str, email: str) -> None: ...


@command(
    """
    INSERT INTO user_sessions (session_sha256, tenant, email, csrf_token, expires_at)
    VALUES ($1, $2, $3, $4, $5)
    """
)
def insert_session(
    session_sha256: bytes, tenant: str, email: str, csrf_token: str, expires_at: datetime
) -> None: ...


# Sessions long over are kept no longer than it takes the user to log in again.
@command(
    """
    DELETE FROM user_sessions WHERE tenant = $1 AND email = $2
      AND (ended_at IS NOT NULL OR expires_at < now()
           OR last_seen_at < now() - make_interval(secs => $3))
    """
)
def prune_sessions(tenant: str, email: str, idle_seconds: int) -> None: ...


@command("DELETE FROM user_sessions WHERE tenant = $1 AND session_sha256 = $2")
def end_session(tenant: str, session_sha256: bytes) -> None: ...


@query(
    SessionRow,
    "SELECT tenant, email, role, csrf_token FROM tally_session($1, $2) WHERE tenant IS NOT NULL",
)
def live_session(session_sha256: bytes, idle_seconds: int) -> None: ...


@query(
    KeyRow,
    f"""
    INSERT INTO api_keys (key_id, tenant, name, role, secret_sha256, created_by)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_KEY}
    """,
)
def insert_key(
    key_id: str, tenant: str, name: str, role: str, secret_sha256: bytes, created_by: str
) -> None: ...


@query(KeyRow, f"SELECT {_KEY} FROM api_keys WHERE tenant = $1 ORDER BY created_at, key_id")
def keys_of_tenant(tenant: str) -> None: ...


@query(
    KeyRow,
    f"""
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
    WHERE tenant = $1 AND key_id = $2 RETURNING {_KEY}
    """,
)
def revoke_key(tenant: str, key_id: str) -> None: ...


@query(
    StoredKeyRow,
    "SELECT tenant, name, role, secret_sha256 FROM tally_api_key($1) WHERE tenant IS NOT NULL",
)
def stored_key(key_id: str) -> None: ...


@query(Seconds, "SELECT tally_login_wait($1) AS seconds")
def login_wait(subjects: list[str]) -> None: ...


@query(Seconds, "SELECT tally_login_failed($1, $2, $3, $4) AS seconds")
def login_failed(
    subject: str, limit_count: int, window_seconds: int, lock_seconds: int
) -> None: ...


@command("SELECT tally_login_succeeded($1)")
def login_succeeded(subject: str) -> None: ...
