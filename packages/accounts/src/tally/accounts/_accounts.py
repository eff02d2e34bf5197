"""Users, sessions and API keys of tenants, over the database the caller gives.

    accounts = Accounts(database, SessionTerms(), LoginLimits())
    user = await accounts.add_user("acme", "ana@acme.example", "Ana", Role.ADMIN, "correct horse")
    started = await accounts.login("acme", "ana@acme.example", "correct horse", "10.0.0.7")
    who = await accounts.session(token_hash(cookie))       # before the tenant is known
    new = await accounts.create_key("acme", "ERP", Role.VIEWER, created_by=user.email)

Every tenant table is read and written in a transaction scoped to its tenant (row-level
security); the lookups by session hash and key id go through 0011's SECURITY DEFINER functions.
Disabling a user or setting its password ends its sessions; a role change applies to its live
sessions at their next request (the lookup reads the role).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import asyncpg
import msgspec

from tally.accounts._errors import AccountError, AccountExists, LoginLimited, LoginRefused
from tally.accounts._passwords import hash_password, needs_rehash, verify_password
from tally.accounts._queries import (
    KeyRow,
    UserRow,
    credentials,
    end_session,
    end_sessions_of_user,
    insert_key,
    insert_session,
    insert_user,
    keys_of_tenant,
    live_session,
    login_failed,
    login_succeeded,
    login_wait,
    prune_sessions,
    rehash_password,
    revoke_key,
    set_password_hash,
    stored_key,
    update_user,
    user_by_email,
    users_of_tenant,
)
from tally.accounts._records import ApiKey, NewKey, Role, SessionView, User
from tally.sdk import (
    Database,
    StoredKey,
    StoredSession,
    TenantApiKey,
    TenantCaller,
    Tx,
    UserSession,
)

T = TypeVar("T")


@dataclass(frozen=True)
class SessionTerms:
    """How long a session lives: at most `lifetime`, and only while used within `idle`."""

    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed per user and per source address within `window`; past either,
    that user (or address) is refused for `lock` — on every worker, as the count is kept in
    PostgreSQL."""

    per_user: int = 5
    per_address: int = 30
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class StartedSession:
    """A login's outcome: `session_id` for the cookie only; `view` for the answer."""

    session_id: str
    view: SessionView


class Accounts:
    """See the module docstring."""

    def __init__(
        self,
        database: Database,
        terms: SessionTerms | None = None,
        limits: LoginLimits | None = None,
    ) -> None:
        self._db = database
        self.terms = terms or SessionTerms()
        self.limits = limits or LoginLimits()

    # Users

    async def add_user(self, tenant: str, email: str, name: str, role: Role, password: str) -> User:
        """A new user; `AccountExists` when the tenant has one with this email already."""
        email = _email(email)
        hashed = await hash_password(password)

        async def work(tx: Tx) -> UserRow | None:
            return await tx.fetch_optional(insert_user(tenant, email, name, role.value, hashed))

        row = await self._write(tenant, work)
        if row is None:
            raise AccountExists(
                f"user {email!r} exists already in tenant {tenant!r}", field="email"
            )
        return _user(row)

    async def users(self, tenant: str) -> list[User]:
        rows = await self._db.transaction(
            lambda tx: tx.fetch(users_of_tenant(tenant)), tenant=tenant, readonly=True
        )
        return [_user(row) for row in rows]

    async def user(self, tenant: str, email: str) -> User | None:
        row = await self._db.transaction(
            lambda tx: tx.fetch_optional(user_by_email(tenant, _email(email))),
            tenant=tenant,
            readonly=True,
        )
        return None if row is None else _user(row)

    async def update_user(
        self,
        tenant: str,
        email: str,
        *,
        name: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> User | None:
        """Change what is given; None when there is no such user. Disabling ends its sessions."""
        email = _email(email)

        async def work(tx: Tx) -> UserRow | None:
            value = None if role is None else role.value
            row = await tx.fetch_optional(update_user(tenant, email, name, value, disabled))
            if row is not None and disabled:
                await tx.execute(end_sessions_of_user(tenant, email))
            return row

        row = await self._write(tenant, work)
        return None if row is None else _user(row)

    async def set_password(self, tenant: str, email: str, password: str) -> User | None:
        """A new password; every session of the user ends. None when there is no such user."""
        email = _email(email)
        hashed = await hash_password(password)

        async def work(tx: Tx) -> UserRow | None:
            row = await tx.fetch_optional(set_password_hash(tenant, email, hashed))
            if row is not None:
                await tx.execute(end_sessions_of_user(tenant, email))
            return row

        row = await self._write(tenant, work)
        return None if row is None else _user(row)

    # Sessions

    async def login(
        self, tenant: str, email: str, password: str, address: str | None
    ) -> StartedSession:
        """A new session for a correct password of an enabled user.

        `LoginLimited` while the user or the address is locked out (checked before the
        password, so a locked account cannot be guessed at); `LoginRefused` otherwise, the same
        for an unknown tenant, unknown email, wrong password or disabled user.
        """
        email = email.strip().lower()
        subjects = [_user_subject(tenant, email), f"address:{address or 'unknown'}"]
        wait = await self._db.transaction(lambda tx: tx.fetch_one(login_wait(subjects)))
        if wait.seconds > 0:
            raise LoginLimited(wait.seconds)
        found = await self._credentials(tenant, email)
        matches = await verify_password(None if found is None else found.password_hash, password)
        if found is None or not matches or found.disabled:
            await self._count_failure(subjects)
            raise LoginRefused("wrong tenant, email or password")
        started = UserSession.start()
        now = datetime.now(UTC)
        expires = now + self.terms.lifetime
        rehashed = await hash_password(password) if needs_rehash(found.password_hash) else None
        idle = int(self.terms.idle.total_seconds())

        async def work(tx: Tx) -> None:
            await tx.execute(login_succeeded(subjects[0]))
            await tx.execute(prune_sessions(tenant, email, idle))
            await tx.execute(
                insert_session(started.session_hash, tenant, email, started.csrf_token, expires)
            )
            if rehashed is not None:
                await tx.execute(rehash_password(tenant, email, rehashed))

        await self._db.transaction(work, tenant=tenant)
        view = SessionView(
            tenant=tenant,
            email=email,
            role=Role(found.role),
            csrf_token=started.csrf_token,
            expires_at=expires,
        )
        return StartedSession(started.session_id, view)

    async def session(self, session_hash: bytes) -> StoredSession[TenantCaller] | None:
        """The live session with this hash (of the cookie's id), or None."""
        idle = int(self.terms.idle.total_seconds())
        row = await self._db.transaction(
            lambda tx: tx.fetch_optional(live_session(session_hash, idle))
        )
        if row is None:
            return None
        caller = TenantCaller(tenant=row.tenant, identity=row.email, role=row.role)
        return StoredSession(caller, row.csrf_token)

    async def logout(self, tenant: str, session_hash: bytes) -> None:
        await self._db.transaction(
            lambda tx: tx.execute(end_session(tenant, session_hash)), tenant=tenant
        )

    # API keys

    async def create_key(self, tenant: str, name: str, role: Role, *, created_by: str) -> NewKey:
        """A new key of the tenant; its secret is returned this once, and stored as a hash."""
        issued = TenantApiKey.issue()

        async def work(tx: Tx) -> KeyRow:
            return await tx.fetch_one(
                insert_key(issued.key_id, tenant, name, role.value, issued.secret_hash, created_by)
            )

        row = await self._write(tenant, work)
        return NewKey(tenant=tenant, key_id=row.key_id, name=row.name, role=role, key=issued.key)

    async def keys(self, tenant: str) -> list[ApiKey]:
        rows = await self._db.transaction(
            lambda tx: tx.fetch(keys_of_tenant(tenant)), tenant=tenant, readonly=True
        )
        return [msgspec.convert(row, ApiKey, from_attributes=True) for row in rows]

    async def revoke_key(self, tenant: str, key_id: str) -> ApiKey | None:
        """Revoke the key (at once, on every worker); None when the tenant has no such key."""
        row = await self._db.transaction(
            lambda tx: tx.fetch_optional(revoke_key(tenant, key_id)), tenant=tenant
        )
        return None if row is None else msgspec.convert(row, ApiKey, from_attributes=True)

    async def key(self, key_id: str) -> StoredKey[TenantCaller] | None:
        """The unrevoked key with this id: whose it is and its secret's hash; or None."""
        row = await self._db.transaction(lambda tx: tx.fetch_optional(stored_key(key_id)))
        if row is None:
            return None
        caller = TenantCaller(tenant=row.tenant, identity=f"key:{key_id}", role=row.role)
        return StoredKey(caller, row.secret_sha256)

    # Helpers

    async def _credentials(self, tenant: str, email: str) -> _Credentials | None:
        try:
            row = await self._db.transaction(
                lambda tx: tx.fetch_optional(credentials(tenant, email)),
                tenant=tenant,
                readonly=True,
            )
        except ValueError:
            # Not a tenant id at all (the database refuses to scope to it): nobody's.
            return None
        return None if row is None else _Credentials(row.role, row.password_hash, row.disabled)

    async def _count_failure(self, subjects: list[str]) -> None:
        limits = self.limits
        window, lock = int(limits.window.total_seconds()), int(limits.lock.total_seconds())

        async def work(tx: Tx) -> None:
            for subject, allowed in zip(
                subjects, (limits.per_user, limits.per_address), strict=True
            ):
                await tx.fetch_one(login_failed(subject, allowed, window, lock))

        await self._db.transaction(work)

    async def _write(self, tenant: str, work: Callable[[Tx], Awaitable[T]]) -> T:
        """`work` in a transaction of the tenant; a value the schema refuses names its field."""
        try:
            return await self._db.transaction(work, tenant=tenant)
        except asyncpg.ForeignKeyViolationError:
            raise AccountError(f"tenant {tenant!r} does not exist", field="tenant") from None
        except asyncpg.CheckViolationError as error:
            column = str(getattr(error, "constraint_name", "") or "").removeprefix("users_")
            field = column.removeprefix("api_keys_").removesuffix("_check") or "$"
            raise AccountError(f"the value of {field} is not accepted", field=field) from None


@dataclass(frozen=True)
class _Credentials:
    role: str
    password_hash: str
    disabled: bool


def _email(email: str) -> str:
    return email.strip().lower()


def _user_subject(tenant: str, email: str) -> str:
    # Hashed: the login limits' table spans tenants and need not hold anybody's address.
    return "user:" + hashlib.sha256(f"{tenant}/{email}".encode()).hexdigest()


def _user(row: UserRow) -> User:
    return msgspec.convert(row, User, from_attributes=True)
