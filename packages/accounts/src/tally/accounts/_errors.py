"""The accounts' errors: each names the field at fault, never echoing a secret."""

from __future__ import annotations

from tally.sdk import TallyError


class AccountError(TallyError):
    """A user or key request is invalid: `field` names what to fix."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class AccountExists(AccountError):
    """The user (tenant, email) exists already."""


class LoginRefused(TallyError):
    """Wrong tenant, email or password, or a disabled user: deliberately not saying which."""


class LoginLimited(TallyError):
    """Too many failed logins for this user or from this address: try after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after
