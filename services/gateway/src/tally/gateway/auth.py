"""Machine tokens: ``Authorization: Bearer <token>`` names exactly one machine of one tenant.

The database keeps only each token's SHA-256, so that is what is looked up. Answers are cached
in the process — a known token for `ttl` seconds, an unknown or revoked one for `unknown_ttl`
— and concurrent requests with the same uncached token share one lookup. A revoked token
therefore keeps working for up to `ttl` seconds; a flood of one bad token costs one query per
`unknown_ttl`. Distinct bad tokens each cost a query, bounded by the database pool's size.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable

from tally.gateway.queries import MachineIdentity
from tally.sdk import bearer_token, unauthorized

Lookup = Callable[[bytes], Awaitable[MachineIdentity | None]]

# Longer is no token we issued; refusing it spares hashing and a database round trip.
_MAX_TOKEN_LENGTH = 512
_UNKNOWN = (
    "unknown or revoked machine token; have an administrator issue the machine a new one "
    "(tally admin token issue TENANT MACHINE)"
)


class MachineTokens:
    """A bounded, expiring cache in front of the token lookup."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl: float,
        unknown_ttl: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl, self._unknown_ttl = ttl, unknown_ttl
        self._max_entries = max(1, max_entries)
        self._clock = clock
        self._entries: dict[bytes, tuple[float, MachineIdentity | None]] = {}
        self._pending: dict[bytes, asyncio.Task[MachineIdentity | None]] = {}

    async def identify(self, token: str) -> MachineIdentity | None:
        """The machine `token` belongs to, or None when it is unknown or revoked."""
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        task = self._pending.get(digest)
        if task is None:
            task = asyncio.create_task(self._fetch(digest))
            self._pending[digest] = task
            task.add_done_callback(self._settled(digest))
        # Shielded: one caller giving up (client gone) must not cancel the others' lookup.
        return await asyncio.shield(task)

    async def _fetch(self, digest: bytes) -> MachineIdentity | None:
        identity = await self._lookup(digest)
        ttl = self._unknown_ttl if identity is None else self._ttl
        self._entries.pop(digest, None)
        self._entries[digest] = (self._clock() + ttl, identity)
        if len(self._entries) > self._max_entries:
            # Dicts keep insertion order: this drops the entry stored longest ago.
            del self._entries[next(iter(self._entries))]
        return identity

    def _settled(self, digest: bytes) -> Callable[[asyncio.Task[MachineIdentity | None]], None]:
        def forget(task: asyncio.Task[MachineIdentity | None]) -> None:
            self._pending.pop(digest, None)
            if not task.cancelled():
                # When every waiter gave up, nobody else reads the error; asyncio would log it
                # as "never retrieved".
                task.exception()

        return forget


async def authenticate(tokens: MachineTokens, authorization: str | None) -> MachineIdentity:
    """The machine named by an Authorization header; `Rejected` (401) otherwise."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send the machine's token as 'Authorization: Bearer <token>'")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise unauthorized(_UNKNOWN)
    identity = await tokens.identify(token)
    if identity is None:
        raise unauthorized(_UNKNOWN)
    return identity
