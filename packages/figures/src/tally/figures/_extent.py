"""Which minutes a stored range can change: the range widened to whole stops and to the
neighbouring messages and counter samples.

- A new message changes the gap between its neighbours: widen to the message before the range
  and the one after it.
- A new counter sample changes the increases to and from its neighbours, which are spread over
  the time between: widen to the samples before and after the range.
- A state holds until the next state change: widen to it (or, at the live tail, to the last
  message).
- An article change sets the ideal rate of every pack until the next change: widen to it (or
  to the machine's last message within a day), so an article stored after the packs it
  applies to still counts their ideal time.
- A stop's length decides whether its seconds are micro-stops: widen, minute by minute, until
  both ends of the range lie in running time with data (or at the machine's first or last
  message), so every stop the range holds is whole.
- A stop that was already at least a micro-stop's length long before the range stays a stop
  (not micro) whatever the range holds: its earlier minutes keep their figures, so the range
  does not widen back over them; the span records where that stop began (`Span.stop_start`)
  and the caller recomputes the stop's own row from there.
- Before the machine's first state is known its seconds are no data (docs/FIGURES.md), from the
  start of that production day: a range reaching back to the first message widens to the day's
  start, so a machine first heard mid-day has the day's earlier planned time as no data.

The result is whole minutes; a minute's figures depend only on raw rows, so recomputing any
range that holds it gives the same minute.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tally.calendar import SiteCalendar
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
        self,
        tx: Tx,
        snapshot: RegistrySnapshot,
        machine: str,
        counters: list[str],
        calendar: SiteCalendar,
    ) -> None:
        self.tx = tx
        self.calendar = calendar
        self.snapshot = snapshot
        self.tenant = snapshot.tenant
        self.machine = machine
        self.counters = counters
        self.gap = snapshot.settings.gap_seconds
        self.micro_stop_seconds = snapshot.settings.micro_stop_seconds
        # Where the stop the span's start cuts into began (see `_back`).
        self.stop_start: float | None = None

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
        high = max(high, await self._article_reach(start, end))
        for counter in self.counters:
            around = await self.tx.fetch_one(
                _raw.counter_around(tenant, machine, counter, _utc(start), _utc(end))
            )
            low = min(low, around.before if around.before is not None else low)
            high = max(high, around.after if around.after is not None else high)
        first = await self._back(_floor(low))
        last = await self._forward(_floor(high) + MINUTE)
        start = await self._day_start_before_first_message(first)
        return Span(start, last, self.stop_start if start == first else None)

    async def _day_start_before_first_message(self, first: int) -> int:
        """`first`, or the start of its production day when no message precedes it: the
        minutes from the day's start to the machine's first message are no data, and every
        range holding that message recomputes them all (whatever order the data came in)."""
        around = await self.tx.fetch_one(
            _raw.messages_around(self.tenant, self.machine, _utc(first - 0.001))
        )
        if around.before is not None:
            return first
        return min(first, _floor(self.calendar.day_of(first).start))

    async def _article_reach(self, start: float, end: float) -> float:
        """Up to where an article change stored in [start, end] holds; `start` without one."""
        tenant, machine = self.tenant, self.machine
        changes = await self.tx.fetch(
            _raw.article_changes(tenant, machine, _utc(start), _utc(end + 0.001))
        )
        if not any(change.t >= start for change in changes):
            return start
        later = await self.tx.fetch(
            _raw.article_changes(tenant, machine, _utc(end + 0.001), _utc(end + 86400))
        )
        following = [change.t for change in later if change.t > end]
        if following:
            return following[0]
        last = await self.tx.fetch_one(_raw.messages_around(tenant, machine, _utc(end + 86400)))
        return last.before if last.before is not None else start

    async def _back(self, t: int) -> int:
        """Back from t until t lies in running time with data (or before any state)."""
        for _ in range(MAX_WIDENINGS):
            earlier = await self._stop_start(t)
            if earlier is None:
                return t
            if t - earlier >= self.micro_stop_seconds and await self._heard_before(earlier):
                # Long enough before t never to be a micro-stop: its minutes before t stay.
                # (Not the machine's first stop: that one begins at its day's start.)
                self.stop_start = earlier
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

    async def _heard_before(self, t: float) -> bool:
        """Whether the machine sent a message before t (within a day)."""
        around = await self.tx.fetch_one(
            _raw.messages_around(self.tenant, self.machine, _utc(t - 0.001))
        )
        return around.before is not None

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
            else:
                # No running state follows: the stop holds to the last message (within a day),
                # however much of it was stored before this range.
                last = await self.tx.fetch_one(
                    _raw.messages_around(tenant, machine, _utc(at + 86400))
                )
                if last.before is not None:
                    end = max(end, last.before)
        return end

    def _running(self, state: _raw.StateRow) -> bool:
        category = self.snapshot.category(state.model, state.name, state.mode, state.sub_state)
        return category == RUNNING


def _floor(t: float) -> int:
    return int(t // MINUTE) * MINUTE
