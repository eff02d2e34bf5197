"""Users and API keys of a tenant: its administrators manage them under /v1/users and /v1/keys
(the tenant is the caller's own), the platform administrators under
/v1/admin/tenants/{tenant}/users and /keys. Both go through `tally.accounts`, in transactions
scoped to the one tenant, so an email or key id of another tenant is simply not found (404).

Nothing here ever answers or logs a password, a key's secret or a hash: a new key is shown once
in the answer to its creation, and refusals of a password name the field without echoing it.
"""

from __future__ import annotations

import logging

import msgspec

from tally.accounts import (
    AccountError,
    AccountExists,
    ApiKey,
    Email,
    KeyId,
    Name,
    NewKey,
    Password,
    Role,
    User,
)
from tally.api.admin import ApiDeps
from tally.api.paths import TenantPath
from tally.api.problems import conflict, not_found
from tally.api.queries import tenant_by_id
from tally.sdk import AdminCaller, Call, NoParams, Rejected, TenantCaller, Tx, invalid

_log = logging.getLogger("tally.api.users")


class UserPath(msgspec.Struct, frozen=True, kw_only=True):
    email: Email


class KeyPath(msgspec.Struct, frozen=True, kw_only=True):
    key_id: KeyId


class TenantUserPath(TenantPath, frozen=True, kw_only=True):
    email: Email


class TenantKeyPath(TenantPath, frozen=True, kw_only=True):
    key_id: KeyId


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A user to add. `password`: 10 to 1024 characters (never echoed in an answer)."""

    email: Email
    name: Name
    role: Role = Role.VIEWER
    password: Password


class UserChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change of a user; what is left out stays. A disabled user's sessions end."""

    name: Name | None = None
    role: Role | None = None
    disabled: bool | None = None


class NewPassword(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new password (10 to 1024 characters); every session of the user ends."""

    password: Password


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A key to make: a name saying what uses it (the ERP), and its role (viewer: read only)."""

    name: Name
    role: Role = Role.VIEWER


class Users(msgspec.Struct, frozen=True, kw_only=True):
    users: list[User]


class Keys(msgspec.Struct, frozen=True, kw_only=True):
    keys: list[ApiKey]


# The tenant's administrators: the tenant is the caller's own.


async def list_users(deps: ApiDeps, call: Call[TenantCaller]) -> Users:
    return Users(users=await deps.accounts.users(call.caller.tenant))


async def add_user(deps: ApiDeps, call: Call[TenantCaller, NoParams, NoParams, NewUser]) -> User:
    return await _add_user(deps, call.caller.tenant, call.body, call.caller.identity)


async def change_user(
    deps: ApiDeps, call: Call[TenantCaller, UserPath, NoParams, UserChange]
) -> User:
    return await _change_user(deps, call.caller.tenant, call.path.email, call.body, call.caller)


async def set_password(
    deps: ApiDeps, call: Call[TenantCaller, UserPath, NoParams, NewPassword]
) -> User:
    return await _set_password(deps, call.caller.tenant, call.path.email, call.body, call.caller)


async def list_keys(deps: ApiDeps, call: Call[TenantCaller]) -> Keys:
    return Keys(keys=await deps.accounts.keys(call.caller.tenant))


async def create_key(
    deps: ApiDeps, call: Call[TenantCaller, NoParams, NoParams, KeyRequest]
) -> NewKey:
    return await _create_key(deps, call.caller.tenant, call.body, call.caller.identity)


async def revoke_key(deps: ApiDeps, call: Call[TenantCaller, KeyPath]) -> ApiKey:
    return await _revoke_key(deps, call.caller.tenant, call.path.key_id, call.caller.identity)


# The platform administrators: the tenant is named in the path, and must exist.


async def admin_list_users(deps: ApiDeps, call: Call[AdminCaller, TenantPath]) -> Users:
    tenant = await _existing(call)
    return Users(users=await deps.accounts.users(tenant))


async def admin_add_user(
    deps: ApiDeps, call: Call[AdminCaller, TenantPath, NoParams, NewUser]
) -> User:
    return await _add_user(deps, await _existing(call), call.body, "admin")


async def admin_change_user(
    deps: ApiDeps, call: Call[AdminCaller, TenantUserPath, NoParams, UserChange]
) -> User:
    tenant = await _existing(call)
    return await _change_user(deps, tenant, call.path.email, call.body, call.caller)


async def admin_set_password(
    deps: ApiDeps, call: Call[AdminCaller, TenantUserPath, NoParams, NewPassword]
) -> User:
    tenant = await _existing(call)
    return await _set_password(deps, tenant, call.path.email, call.body, call.caller)


async def admin_list_keys(deps: ApiDeps, call: Call[AdminCaller, TenantPath]) -> Keys:
    return Keys(keys=await deps.accounts.keys(await _existing(call)))


async def admin_create_key(
    deps: ApiDeps, call: Call[AdminCaller, TenantPath, NoParams, KeyRequest]
) -> NewKey:
    return await _create_key(deps, await _existing(call), call.body, "admin")


async def admin_revoke_key(deps: ApiDeps, call: Call[AdminCaller, TenantKeyPath]) -> ApiKey:
    tenant = await _existing(call)
    return await _revoke_key(deps, tenant, call.path.key_id, "admin")


# Shared


async def _add_user(deps: ApiDeps, tenant: str, new: NewUser, by: str) -> User:
    try:
        user = await deps.accounts.add_user(tenant, new.email, new.name, new.role, new.password)
    except AccountExists as error:
        raise conflict(str(error), "email", new.email) from None
    except AccountError as error:
        raise _refused(error) from None
    _log.info("tenant %s: user %s added as %s by %s", tenant, user.email, user.role, by)
    return user


async def _change_user(
    deps: ApiDeps, tenant: str, email: str, change: UserChange, by: AdminCaller | TenantCaller
) -> User:
    try:
        user = await deps.accounts.update_user(
            tenant, email, name=change.name, role=change.role, disabled=change.disabled
        )
    except AccountError as error:
        raise _refused(error) from None
    if user is None:
        raise _no_user(tenant, email)
    _log.info("tenant %s: user %s changed by %s", tenant, email, by.identity)
    return user


async def _set_password(
    deps: ApiDeps, tenant: str, email: str, new: NewPassword, by: AdminCaller | TenantCaller
) -> User:
    try:
        user = await deps.accounts.set_password(tenant, email, new.password)
    except AccountError as error:
        raise _refused(error) from None
    if user is None:
        raise _no_user(tenant, email)
    _log.info("tenant %s: password of %s set by %s", tenant, email, by.identity)
    return user


async def _create_key(deps: ApiDeps, tenant: str, request: KeyRequest, by: str) -> NewKey:
    try:
        key = await deps.accounts.create_key(tenant, request.name, request.role, created_by=by)
    except AccountError as error:
        raise _refused(error) from None
    _log.info("tenant %s: API key %s (%s) created by %s", tenant, key.key_id, key.name, by)
    return key


async def _revoke_key(deps: ApiDeps, tenant: str, key_id: str, by: str) -> ApiKey:
    key = await deps.accounts.revoke_key(tenant, key_id)
    if key is None:
        raise not_found(f"tenant {tenant!r} has no API key {key_id!r}", "key_id", key_id)
    _log.info("tenant %s: API key %s revoked by %s", tenant, key_id, by)
    return key


async def _existing(call: Call[AdminCaller, TenantPath, NoParams, object]) -> str:
    tenant = call.path.tenant

    async def work(tx: Tx) -> None:
        if await tx.fetch_optional(tenant_by_id(tenant)) is None:
            detail = f"tenant {tenant!r} does not exist; create it first (PUT /v1/admin/tenants/…)"
            raise not_found(detail, "tenant", tenant)

    await call.database_for(tenant).transaction(work, readonly=True)
    return tenant


def _no_user(tenant: str, email: str) -> Rejected:
    return not_found(f"tenant {tenant!r} has no user {email!r}", "email", email)


def _refused(error: AccountError) -> Rejected:
    # Never the value: the field may be the password.
    return invalid(str(error), error.field, None)
