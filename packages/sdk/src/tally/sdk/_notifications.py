"""PostgreSQL notifications: one long-lived connection LISTENing on a channel, kept alive.

    async with database.listen("tally_machine_tokens", on_notify=forget, on_listening=reset):
        ...   # forget(payload) for every NOTIFY; reset() after every (re)connect

A notification reaches only a session that is listening when it is committed, so a listener
that lost its connection cannot know what it missed: `on_listening` runs after every LISTEN
(the first included), once nothing committed from then on can be missed, for the owner to
re-check whatever it keeps. A lost connection is noticed by its closing socket, or by a ping
every `ping_seconds` when the peer vanished silently; reconnecting backs off up to 5 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from tally.sdk._backoff import Backoff
from tally.sdk._log_limiter import LogLimiter

Connect = Callable[[], Awaitable["asyncpg.Connection[Any]"]]

_log = logging.getLogger("tally.sdk.notifications")
_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)  # TimeoutError: OSError
_RECONNECT = Backoff(initial=0.1, maximum=5.0)


class ChannelListener:
    """Listens on `channel` over a connection of its own until cancelled; see the module."""

    def __init__(
        self,
        connect: Connect,
        channel: str,
        *,
        on_notify: Callable[[str], None],
        on_listening: Callable[[], None],
        ping_seconds: float = 10.0,
        backoff: Backoff = _RECONNECT,
    ) -> None:
        self.channel = channel
        self._connect = connect
        self._on_notify = on_notify
        self._on_listening = on_listening
        self._ping_seconds = ping_seconds
        self._backoff = backoff
        self._repeats = LogLimiter(_log)
        self.listening = False
        # Set at the first LISTEN: an owner may wait for it before trusting what it caches.
        self.listened = asyncio.Event()

    async def run(self) -> None:
        """Listen, and listen again after every loss, until cancelled."""
        failures = 0
        try:
            while True:
                try:
                    await self._listen_once()
                    failures = 0  # it listened; the connection was lost later
                except _FAILURES as error:
                    failures += 1
                    self._repeats.warning(
                        ("listen", self.channel, type(error).__name__),
                        "cannot listen on channel %s: %r; trying again",
                        self.channel,
                        error,
                    )
                await asyncio.sleep(self._backoff.delay(max(1, failures)))
        finally:
            self._repeats.flush()

    async def _listen_once(self) -> None:
        connection = await self._connect()
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(self.channel, self._deliver)
            self.listening = True
            _log.info("listening on channel %s", self.channel)
            self._on_listening()
            self.listened.set()
            await self._watch(connection, lost)
            self._repeats.warning(
                ("lost", self.channel), "lost the connection listening on %s", self.channel
            )
        finally:
            self.listening = False
            # Never closed politely: the peer may be gone, and a close would wait for it.
            connection.terminate()

    async def _watch(self, connection: asyncpg.Connection[Any], lost: asyncio.Event) -> None:
        """Return once the connection is lost."""
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self._ping_seconds)
            except TimeoutError:
                # A peer that vanished without closing the socket shows only when asked.
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self._ping_seconds)

    def _deliver(self, _: object, __: int, ___: str, payload: object) -> None:
        self._on_notify(str(payload))
