"""Repeated log lines, rate-limited: the first of a kind is logged, its repeats are counted.

An outage fails every message the same way; a line per message buries the one that matters
and costs more than the work. `LogLimiter` logs the first occurrence of a *kind* (what
happened — "handler failed with ConnectionError in consumer recorder" — never which message)
at once, counts the repeats within `window` seconds and writes them as one line when the
window closes::

    handler failed; redelivery in 0.50s: ConnectionError(...)
    handler failed; redelivery in 1.00s: ConnectionError(...) (212 more in the last 10 s)

A flood that goes on yields one line per window; a kind quiet for a whole window logs its next
occurrence at once again. `flush()` writes what is still counted (call it on stop).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Kind:
    started: float  # when the current window opened
    repeats: int = 0
    # The latest repeat, formatted only if it is written.
    message: str = ""
    args: tuple[object, ...] = ()
    level: int = logging.WARNING
    timer: asyncio.TimerHandle | None = None


class LogLimiter:
    """Rate-limits a logger's repeated lines by kind; see the module docstring."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        window: float = 10.0,
        max_kinds: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._window = window
        self._max_kinds = max_kinds
        self._clock = clock
        self._kinds: dict[Hashable, _Kind] = {}

    def warning(self, kind: Hashable, msg: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.WARNING, kind, msg, *args, exc_info=exc_info)

    def error(self, kind: Hashable, msg: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.ERROR, kind, msg, *args, exc_info=exc_info)

    def log(
        self, level: int, kind: Hashable, msg: str, *args: object, exc_info: bool = False
    ) -> None:
        """Log `msg % args` if it is the first of `kind` in a window; count it otherwise.

        `exc_info` adds the traceback to the lines actually written, never to a summary."""
        if not self._logger.isEnabledFor(level):
            return
        now = self._clock()
        state = self._kinds.get(kind)
        if state is not None and now - state.started >= self._window:
            if state.repeats:
                # The window closed without its timer (no event loop): count on in a new one.
                self._summarise(kind)
                state = self._kinds[kind]
            else:
                state = None  # quiet for a whole window: this one is news again
        if state is None:
            self._logger.log(level, msg, *args, exc_info=exc_info)
            self._remember(kind, _Kind(started=now))
            return
        state.repeats += 1
        state.message, state.args, state.level = msg, args, level
        if state.timer is None:
            state.timer = self._schedule(kind, state.started + self._window - now)

    def flush(self) -> None:
        """Write the counts of every kind now, e.g. when the service stops."""
        for kind in list(self._kinds):
            self._summarise(kind)

    def _summarise(self, kind: Hashable) -> None:
        state = self._kinds.get(kind)
        if state is None:
            return
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.repeats == 0:
            return
        now = self._clock()
        seconds = max(1, math.ceil(min(self._window, now - state.started)))
        text = state.message % state.args if state.args else state.message
        self._logger.log(state.level, "%s (%d more in the last %d s)", text, state.repeats, seconds)
        # The flood may go on: its next repeats are counted in a new window from now.
        self._kinds[kind] = _Kind(started=now)

    def _remember(self, kind: Hashable, state: _Kind) -> None:
        self._kinds.pop(kind, None)
        self._kinds[kind] = state
        if len(self._kinds) > self._max_kinds:
            # Kinds are few by design; past the bound, the oldest gives way (with its count).
            oldest = next(iter(self._kinds))
            self._summarise(oldest)
            self._kinds.pop(oldest, None)

    def _schedule(self, kind: Hashable, delay: float) -> asyncio.TimerHandle | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # no event loop: the next occurrence or flush() writes the count
        # An empty context: the summary speaks for many messages, so it must not carry the log
        # context (tenant, message id) of the one that happened to schedule it.
        return loop.call_later(
            max(0.0, delay), self._summarise, kind, context=contextvars.Context()
        )
