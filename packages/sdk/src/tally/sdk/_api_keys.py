"""Tenant API keys: ``Authorization: Bearer tk_<key id>_<secret>``, for integrations (an ERP).

    issued = TenantApiKey.issue()     # show issued.key once; store key_id and secret_hash
    KEY = TenantApiKey(TenantCaller, lookup=stored_key)      # lookup(deps, key_id)

The key id finds the stored key (an indexed lookup the service supplies, which also says whose
it is); the secret is checked against the stored hash in constant time, so neither a guessed
secret nor the time a comparison takes tells anything. Only the hash is stored: a leaked table
holds no key. The service keeps the table (and revokes a key by deleting or marking its row).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic

from starlette.requests import Request
from typing_extensions import TypeVar

from tally.sdk._auth import _Bearer
from tally.sdk._callers import TenantCaller
from tally.sdk._problems import unauthorized
from tally.sdk._tokens import new_token, token_hash

D = TypeVar("D", contravariant=True)
CT = TypeVar("CT", bound=TenantCaller, covariant=True)

_KEY = re.compile(r"^tk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,200})$")
_UNKNOWN = "unknown or revoked API key; ask an administrator of your tenant for a new one"
# Compared against when the key id is unknown, so that both cases take equally long.
_NOBODY = token_hash("")


@dataclass(frozen=True, slots=True)
class StoredKey(Generic[CT]):
    """What the service stored of a key: whose it is, and the hash of its secret."""

    caller: CT
    secret_hash: bytes


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: `key` is shown once to its owner; `key_id` and `secret_hash` are stored."""

    key: str
    key_id: str
    secret_hash: bytes


class TenantApiKey(_Bearer[D, CT]):
    """A tenant's API key; see the module docstring."""

    def __init__(
        self,
        caller: type[CT],
        lookup: Callable[[D, str], Awaitable[StoredKey[CT] | None]],
        *,
        scheme: str = "apiKey",
        description: str = "An API key of the tenant (tk_...), sent as a bearer token.",
    ) -> None:
        super().__init__(
            scheme,
            description,
            missing="send the API key as 'Authorization: Bearer tk_...'",
            refusal="Missing, unknown or revoked API key.",
        )
        self.caller = caller
        self._lookup = lookup

    @staticmethod
    def issue() -> IssuedKey:
        """A new key; store its `key_id` and `secret_hash`, show its `key` once."""
        key_id = secrets.token_hex(8)
        secret = new_token()
        return IssuedKey(f"tk_{key_id}_{secret}", key_id, token_hash(secret))

    async def authenticate(self, deps: D, request: Request) -> CT:
        found = _KEY.match(self._token(request, _UNKNOWN))
        if found is None:
            raise unauthorized(_UNKNOWN)
        key_id, secret = found.groups()
        stored = await self._lookup(deps, key_id)
        expected = _NOBODY if stored is None else stored.secret_hash
        if not hmac.compare_digest(token_hash(secret), expected) or stored is None:
            raise unauthorized(_UNKNOWN)
        return stored.caller
