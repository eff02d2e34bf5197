"""Which minutes a stored range can change: the range widened to whole stops and to the
neighbouring messages and counter samples.

- A new message changes the gap between its neighbours: widen to the message before the range
  and the one after it.
- A new counter sample changes the increases to and from its neighbours, which are spread over
  the time between: widen to the samples before and after the range.
- A state holds until the next state change: widen to it (or, at the live tail, to the last
  message).
- A stop's length decides whether its seconds are micro-stops: widen, minute by minute, until
  both ends of the range lie in running time with data (or at the machine's first or last
  message), so every stop the range holds is whole.

The result is whole minutes; a minute's figures depend only on raw rows, so recomputing any
range that holds it gives the same minute.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tally.figures import _raw
from tally.figures._conditions import RUNNING
from tally.figures._machine_range import MINUTE, Span
from tally.registry import RegistrySnapshot
from tally.sdk import Tx

# A range widens by whole stops; a machine stopped for longer than this many widenings of a
# minute each (or than a day, the look-around of the queries) is cut there.
MAX_WIDENINGS = 50


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class Extent:
    """The widening of one machine's touched range, in one transaction."""

    def __init__(
        self, tx: Tx, snapshot: RegistrySnapshot, machine: str, counters: list[str]
    ) -> None:
        self.tx = tx
        self.snapshot = snapshot
        self.tenant = snapshot.tenant
        self.machine = machine
        self.counters = counters
        self.gap = snapshot.settings.gap_seconds

    async def of(self, start: float, end: float) -> Span | None:
        """The minutes to recompute for data stored in [start, end]; None without messages."""
        tenant, machine = self.tenant, self.machine
        inside = await self.tx.fetch_one(
            _raw.messages_within(tenant, machine, _utc(start), _utc(end))
        )
        before = await self.tx.fetch_one(_raw.messages_around(tenant, machine, _utc(start)))
        after = await self.tx.fetch_one(_raw.messages_around(tenant, machine, _utc(end)))
        low = before.before if before.before is not None else inside.before
        high = after.after if after.after is not None else inside.after
        if low is None or high is None:
            return None
        # Before the machine's first message (or after its last) only its states can reach.
        if before.before is None:
            earliest = await self.tx.fetch(_raw.states_after(tenant, machine, _utc(start - 0.001)))
            if earliest and earliest[0].t <= end:
                low = min(low, earliest[0].t)
        if after.after is None:
            latest = await self.tx.fetch(_raw.states_until(tenant, machine, _utc(end)))
            if latest and latest[0].t >= start:
                high = max(high, latest[0].t)
        # A state stored in the range holds until the next change: every minute up to it
        # may have changed.
        reach = await self.tx.fetch_one(_raw.reach_after(tenant, machine, _utc(end)))
        if reach.t is not None:
            high = max(high, reach.t)
        for counter in self.counters:
            around = await self.tx.fetch_one(
                _raw.counter_around(tenant, machine, counter, _utc(start), _utc(end))
            )
            low = min(low, around.before if around.before is not None else low)
            high = max(high, around.after if around.after is not None else high)
        first = await self._back(_floor(low))
        last = await self._forward(_floor(high) + MINUTE)
        return Span(first, last)

    async def _back(self, t: int) -> int:
        """Back from t until t lies in running time with data (or before any state)."""
        for _ in range(MAX_WIDENINGS):
            earlier = await self._stop_start(t)
            if earlier is None:
                return t
            floored = _floor(earlier)
            if floored >= t:
                return t
            t = floored
        return t

    async def _forward(self, t: int) -> int:
        """Forward from t until t lies in running time with data (or after the last data)."""
        for _ in range(MAX_WIDENINGS):
            later = await self._stop_end(t)
            if later is None:
                return t
            ceiled = _floor(later) + (MINUTE if later % MINUTE else 0)
            if ceiled <= t:
                return t
            t = ceiled
        return t

    async def _stop_start(self, t: int) -> float | None:
        """Where the stop holding the instant just before t began (a stop ending at t is
        changed by data at t too); None when that instant is not in a stop."""
        tenant, machine = self.tenant, self.machine
        just_before = t - 0.001
        around = await self.tx.fetch_one(_raw.messages_around(tenant, machine, _utc(just_before)))
        start: float | None = None
        if (
            around.before is not None
            and around.after is not None
            and around.after - around.before > self.gap
        ):
            start = around.before  # inside a gap: the stop began at its last message
        at = start if start is not None else just_before
        for state in await self.tx.fetch(_raw.states_until(tenant, machine, _utc(at))):
            if self._running(state):
                break
            start = state.t
        return start

    async def _stop_end(self, t: int) -> float | None:
        """Where the stop holding instant t ends; None when t is not in a stop."""
        tenant, machine = self.tenant, self.machine
        around = await self.tx.fetch_one(_raw.messages_around(tenant, machine, _utc(t)))
        if around.after is None:
            return None  # after the last data: nothing to hold whole
        end: float | None = None
        if around.before is not None and around.after - around.before > self.gap:
            end = around.after  # inside a gap: it ends with the next message
        at = end if end is not None else t
        held = await self.tx.fetch(_raw.states_until(tenant, machine, _utc(at)))
        if held and not self._running(held[0]):
            end = at
            for state in await self.tx.fetch(_raw.states_after(tenant, machine, _utc(at))):
                end = state.t
                if self._running(state):
                    break
        return end

    def _running(self, state: _raw.StateRow) -> bool:
        category = self.snapshot.category(state.model, state.name, state.mode, state.sub_state)
        return category == RUNNING


def _floor(t: float) -> int:
    return int(t // MINUTE) * MINUTE
