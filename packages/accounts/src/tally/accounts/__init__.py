"""tally.accounts: who may see a tenant's figures — users with roles (admin, viewer) and
argon2id password hashes, browser sessions (expiry, idle timeout, logout), login limits kept in
PostgreSQL (per user and per source address, across workers), and tenant API keys (shown once,
stored as hashes, revocable, last use recorded).

    Accounts        the operations, over a `tally.sdk.Database` (the api's, the CLI's)
    SessionTerms    a session's lifetime and idle timeout
    LoginLimits     failed logins allowed per user and per address, and the lockout
    Role            admin (everything of the tenant) or viewer (read only)

A library for the api service and `tally admin user|key`; the tables are 0011_accounts.sql.
"""

from tally.accounts._accounts import Accounts, LoginLimits, SessionTerms, StartedSession
from tally.accounts._errors import AccountError, AccountExists, LoginLimited, LoginRefused
from tally.accounts._passwords import LONGEST_PASSWORD, SHORTEST_PASSWORD, check_password
from tally.accounts._records import (
    ApiKey,
    Email,
    KeyId,
    Name,
    NewKey,
    Password,
    Role,
    SessionView,
    User,
)

__all__ = [
    "LONGEST_PASSWORD",
    "SHORTEST_PASSWORD",
    "AccountError",
    "AccountExists",
    "Accounts",
    "ApiKey",
    "Email",
    "KeyId",
    "LoginLimited",
    "LoginLimits",
    "LoginRefused",
    "Name",
    "NewKey",
    "Password",
    "Role",
    "SessionTerms",
    "SessionView",
    "StartedSession",
    "User",
    "check_password",
]
