"""`tally admin user` and `tally admin key`: a tenant's users and API keys (tally.accounts).

    tally admin user add TENANT EMAIL --name NAME [--role admin|viewer]   asks for the password
    tally admin user list TENANT
    tally admin user role TENANT EMAIL admin|viewer
    tally admin user disable TENANT EMAIL [--enable]                     ends its sessions
    tally admin user password TENANT EMAIL                               ends its sessions
    tally admin key create TENANT --name NAME [--role viewer|admin]      prints the key once
    tally admin key list TENANT
    tally admin key revoke TENANT KEY_ID

A password is read from the terminal (twice), or from standard input with --password-stdin
(one line, for scripts): never from the command line, where `ps` and shell history show it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable

import msgspec

from tally.accounts import AccountError, Accounts, Role
from tally.cli._endpoints import endpoints
from tally.registry import RegistryError
from tally.sdk import Database

Action = Callable[[Accounts, argparse.Namespace], Awaitable[None]]


def add_parsers(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`user` and `key`."""
    user = kinds.add_parser("user", help="users of a tenant").add_subparsers(required=True)
    add = user.add_parser("add", help="add a user (asks for the password)")
    _user(add)
    add.add_argument("--name", required=True)
    add.add_argument("--role", type=Role, choices=list(Role), default=Role.VIEWER)
    _password_source(add)
    add.set_defaults(run=_runner(_add_user))
    listing = user.add_parser("list", help="a tenant's users")
    listing.add_argument("tenant")
    listing.set_defaults(run=_runner(_list_users))
    role = user.add_parser("role", help="set a user's role")
    _user(role)
    role.add_argument("role", type=Role, choices=list(Role))
    role.set_defaults(run=_runner(_set_role))
    disable = user.add_parser("disable", help="disable a user (its sessions end)")
    _user(disable)
    disable.add_argument("--enable", action="store_true", help="enable it again instead")
    disable.set_defaults(run=_runner(_disable))
    password = user.add_parser("password", help="set a user's password (its sessions end)")
    _user(password)
    _password_source(password)
    password.set_defaults(run=_runner(_set_password))

    key = kinds.add_parser("key", help="API keys of a tenant").add_subparsers(required=True)
    create = key.add_parser("create", help="make an API key; printed this once")
    create.add_argument("tenant")
    create.add_argument("--name", required=True, help="what uses it, e.g. ERP")
    create.add_argument("--role", type=Role, choices=list(Role), default=Role.VIEWER)
    create.set_defaults(run=_runner(_create_key))
    keys = key.add_parser("list", help="a tenant's API keys (never their secrets)")
    keys.add_argument("tenant")
    keys.set_defaults(run=_runner(_list_keys))
    revoke = key.add_parser("revoke", help="revoke an API key at once")
    revoke.add_argument("tenant")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_runner(_revoke_key))


async def _add_user(accounts: Accounts, a: argparse.Namespace) -> None:
    user = await accounts.add_user(a.tenant, a.email, a.name, a.role, _password(a))
    print(f"user {user.tenant}/{user.email} added as {user.role}")


async def _list_users(accounts: Accounts, a: argparse.Namespace) -> None:
    for user in await accounts.users(a.tenant):
        state = "disabled" if user.disabled else "enabled"
        print(f"{user.email:<40}{user.role:<8}{state:<10}{user.name}")


async def _set_role(accounts: Accounts, a: argparse.Namespace) -> None:
    _found(await accounts.update_user(a.tenant, a.email, role=a.role), a)
    print(f"user {a.tenant}/{a.email} is {a.role} now")


async def _disable(accounts: Accounts, a: argparse.Namespace) -> None:
    _found(await accounts.update_user(a.tenant, a.email, disabled=not a.enable), a)
    print(f"user {a.tenant}/{a.email} {'enabled' if a.enable else 'disabled'}")


async def _set_password(accounts: Accounts, a: argparse.Namespace) -> None:
    _found(await accounts.set_password(a.tenant, a.email, _password(a)), a)
    print(f"password of {a.tenant}/{a.email} set; its sessions have ended")


async def _create_key(accounts: Accounts, a: argparse.Namespace) -> None:
    key = await accounts.create_key(a.tenant, a.name, a.role, created_by="tally admin")
    print(f"# key {key.key_id} ({key.name}, {key.role}) of {key.tenant}; shown this once:")
    print(key.key)


async def _list_keys(accounts: Accounts, a: argparse.Namespace) -> None:
    for key in await accounts.keys(a.tenant):
        used = key.last_used_at.isoformat() if key.last_used_at else "never used"
        state = "revoked" if key.revoked else "live"
        print(f"{key.key_id:<18}{key.role:<8}{state:<9}{used:<34}{key.name}")


async def _revoke_key(accounts: Accounts, a: argparse.Namespace) -> None:
    if await accounts.revoke_key(a.tenant, a.key_id) is None:
        raise RegistryError(f"tenant {a.tenant!r} has no API key {a.key_id!r}")
    print(f"key {a.key_id} of {a.tenant} revoked")


def _user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tenant")
    parser.add_argument("email")


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def _password(a: argparse.Namespace) -> str:
    if a.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise RegistryError("the two passwords differ")
    return first


def _found(user: object, a: argparse.Namespace) -> None:
    if user is None:
        raise RegistryError(f"tenant {a.tenant!r} has no user {a.email!r}")


def _runner(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with endpoints() as found:
            return asyncio.run(_with_accounts(found.database_url, action, args))

    return run


async def _with_accounts(url: str, action: Action, args: argparse.Namespace) -> int:
    async with await Database.connect(url, max_size=1, switch_role=True) as database:
        try:
            await action(Accounts(database), args)
        except AccountError as error:
            # Shown as the registry's errors are: `tally admin` says what to fix, exit 2.
            raise RegistryError(f"{error.field}: {error}") from error
        except msgspec.ValidationError as error:
            raise RegistryError(f"invalid value: {error}") from error
    return 0
