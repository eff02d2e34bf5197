"""Machine tokens: a token names exactly one machine of one tenant.

The database keeps only each token's hash (`tally.sdk.token_hash`), so that is what is looked
up, and what callers hand in: the secret itself never gets this far. Answers are cached
in the process — a known token for `ttl` seconds, an unknown or revoked one for `unknown_ttl`
— and concurrent requests with the same uncached token share one lookup. A flood of one bad
token costs one query per `unknown_ttl`; distinct bad tokens each cost a query, bounded by the
database pool's size.

**Revocation** reaches the cache at once: PostgreSQL announces every change to a token row
(migration 0008), and the gateway's listener calls `changed`, which drops that token's entry.
While the listener is not connected announcements are lost, so `ttl` is what bounds a revoked
token's life then; each time it connects again, `reverify_all` has every entry checked with the
database before its next use.

**A database outage** does not stop known machines: when the lookup fails (or takes longer
than `timeout`), a token the database confirmed within the last `max_stale` seconds is served
from the cache, stale. This is a deliberate trade of availability for freshness — the broker
buffers, and nothing else on the ingest path needs the database — whose price is that a token
revoked during the outage keeps working until the database answers again (or `max_stale`
passes). A token the cache cannot vouch for raises `TokensUnavailable` (503: we cannot tell,
so not 401). After a failed lookup the database is left alone for `quiet` seconds, so an
outage is not hammered with a lookup per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tally.gateway.queries import MachineIdentity
from tally.sdk import TOKEN_HASH_BYTES, LogLimiter, TransactionFailed

Lookup = Callable[[bytes], Awaitable[MachineIdentity | None]]

_log = logging.getLogger("tally.gateway.auth")
# The database away: the pool's retries gave up, a connection failed, or the lookup timed out.
_UNREACHABLE = (TransactionFailed, OSError)  # TimeoutError is an OSError
# The payload announcing that every token changed (TRUNCATE).
_EVERY_TOKEN = "*"


class TokensUnavailable(Exception):
    """The database cannot say whether a token is valid, and the cache cannot vouch for it."""


@dataclass(frozen=True, slots=True)
class _Entry:
    identity: MachineIdentity | None
    verified: float  # when the database gave this answer
    expires: float
    epoch: int  # the cache's epoch then; an entry of an older one is checked again first


class MachineTokens:
    """A bounded, expiring cache in front of the token lookup; see the module docstring."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl: float,
        unknown_ttl: float,
        max_stale: float,
        max_entries: int,
        timeout: float = 5.0,
        quiet: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl, self._unknown_ttl, self._max_stale = ttl, unknown_ttl, max_stale
        self._max_entries = max(1, max_entries)
        self._timeout, self._quiet = timeout, quiet
        self._clock = clock
        self._entries: dict[bytes, _Entry] = {}
        self._pending: dict[bytes, asyncio.Task[MachineIdentity | None]] = {}
        self._epoch = 0
        # Counts every forgetting: a lookup that saw it happen meanwhile may hold an old answer.
        self._forgotten = 0
        self._quiet_until = float("-inf")
        self._failure: BaseException | None = None  # the last lookup's, while quiet
        self._repeats = LogLimiter(_log)

    async def identify(self, digest: bytes) -> MachineIdentity | None:
        """The machine of the token whose hash is `digest`, or None when it is unknown or
        revoked; raises `TokensUnavailable` when the database cannot tell and the cache cannot
        vouch."""
        entry = self._entries.get(digest)
        if entry is not None and entry.epoch == self._epoch and entry.expires > self._clock():
            return entry.identity
        task = self._pending.get(digest)
        if task is None:
            task = asyncio.create_task(self._fetch(digest))
            self._pending[digest] = task
            task.add_done_callback(self._settled(digest))
        # Shielded: one caller giving up (client gone) must not cancel the others' lookup.
        return await asyncio.shield(task)

    def changed(self, payload: str) -> None:
        """A token changed in the database (a notification's payload: its SHA-256 in hex)."""
        try:
            digest = bytes.fromhex(payload)
        except ValueError:
            digest = b""
        if len(digest) == TOKEN_HASH_BYTES:
            self._entries.pop(digest, None)
            self._pending.pop(digest, None)  # its answer may predate the change
            self._forgotten += 1
            return
        if payload != _EVERY_TOKEN:
            _log.warning("unexpected token notification %r; checking every token", payload[:80])
        self._entries.clear()
        self.reverify_all()

    def reverify_all(self) -> None:
        """Check every entry with the database before its next use: changes may have gone
        unannounced. The entries stay, to be served stale should the database not answer."""
        self._epoch += 1
        self._forgotten += 1
        self._pending.clear()

    async def _fetch(self, digest: bytes) -> MachineIdentity | None:
        forgotten = self._forgotten
        if self._clock() < self._quiet_until:
            return self._stale(digest)
        try:
            async with asyncio.timeout(self._timeout):
                identity = await self._lookup(digest)
        except _UNREACHABLE as error:
            self._quiet_until = self._clock() + self._quiet
            self._failure = error
            return self._stale(digest)
        if forgotten == self._forgotten:
            self._store(digest, identity)
        return identity

    def _store(self, digest: bytes, identity: MachineIdentity | None) -> None:
        now = self._clock()
        ttl = self._unknown_ttl if identity is None else self._ttl
        self._entries.pop(digest, None)
        self._entries[digest] = _Entry(identity, now, now + ttl, self._epoch)
        if len(self._entries) > self._max_entries:
            # Dicts keep insertion order: this drops the entry stored longest ago.
            del self._entries[next(iter(self._entries))]

    def _stale(self, digest: bytes) -> MachineIdentity:
        error = self._failure
        entry = self._entries.get(digest)
        if entry is None or entry.identity is None:
            raise TokensUnavailable("machine tokens cannot be checked right now") from error
        age = self._clock() - entry.verified
        if age > self._max_stale:
            raise TokensUnavailable(
                f"machine tokens cannot be checked right now, and this one was last checked "
                f"{age:.0f} s ago (more than {self._max_stale:g} s)"
            ) from error
        self._repeats.warning(
            ("stale",),
            "the database cannot check machine tokens (%r); serving those it confirmed in the "
            "last %g s from the cache",
            error,
            self._max_stale,
        )
        return entry.identity

    def _settled(self, digest: bytes) -> Callable[[asyncio.Task[MachineIdentity | None]], None]:
        def forget(task: asyncio.Task[MachineIdentity | None]) -> None:
            if self._pending.get(digest) is task:
                del self._pending[digest]
            if not task.cancelled():
                # When every waiter gave up, nobody else reads the error; asyncio would log it
                # as "never retrieved".
                task.exception()

        return forget
