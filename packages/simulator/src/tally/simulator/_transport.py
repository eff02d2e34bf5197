"""How a machine's messages reach the wire, with the faults of a real plant network.

Every decision is made per message from a seeded generator, so the sequence of messages a machine
sends is the same however the run is paced; only how it is cut into uploads depends on pacing.

- Outages (per line): messages made while the line is offline are buffered, flagged
  `historical`, and replayed when it comes back, locally shuffled.
- Duplicates: now and then a message is re-sent, identical, 30 s to 15 min later (a lost ack).
- Reordering: now and then a message is sent after its successor.
Clock skew is a property of the machine (`MachineSpec.clock_skew_s`), applied by its outbox.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

from tally.contracts import MachineMessage, Upload


@dataclass(frozen=True, slots=True)
class TransportProfile:
    """Message batching and fault rates. `message_seconds` is how much time one message covers:
    fewer, larger messages keep the broker's per-message cost down in accelerated runs."""

    message_seconds: int = 5
    max_signals_per_message: int = 200
    max_messages_per_upload: int = 500
    outage_mean_gap_hours: float = 10.0
    outage_minutes: tuple[float, float] = (2.0, 30.0)
    duplicate_probability: float = 0.002
    duplicate_delay_s: tuple[int, int] = (30, 900)
    reorder_probability: float = 0.01
    # The share of long faults (5 min or more) during which one machine of the line falls
    # silent: its messages there are lost at the source, a data gap (see `_line.py`).
    silence_probability: float = 0.1


class Outages:
    """A line's network outages, [start, end) in true time, drawn lazily as time goes on."""

    __slots__ = ("_intervals", "_profile", "_rng")

    def __init__(self, rng: random.Random, profile: TransportProfile, start: int) -> None:
        self._rng = rng
        self._profile = profile
        self._intervals: list[tuple[int, int]] = [(start, start)]

    def interval(self, index: int) -> tuple[int, int]:
        """The index-th outage (the 0th is empty), drawing more as needed."""
        while len(self._intervals) <= index:
            gap = self._rng.expovariate(1.0 / (self._profile.outage_mean_gap_hours * 3600))
            low, high = self._profile.outage_minutes
            begin = self._intervals[-1][1] + round(gap)
            self._intervals.append((begin, begin + round(self._rng.uniform(low, high) * 60)))
        return self._intervals[index]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message on its way out; `duplicate` marks a deliberate re-send."""

    message: MachineMessage
    duplicate: bool


class Link:
    """One machine's send queue: messages wait here until their release time."""

    __slots__ = ("_count", "_index", "_made", "_outages", "_profile", "_queue", "_rng")

    def __init__(self, outages: Outages, rng: random.Random, profile: TransportProfile) -> None:
        self._outages = outages
        self._rng = rng
        self._profile = profile
        self._index = 0
        self._made = 0
        self._count = 0
        self._queue: list[tuple[float, float, int, Outgoing]] = []

    def offline_until(self, t: float) -> int | None:
        """The end of the outage covering t, None when the line is online; t never decreases."""
        start, end = self._outages.interval(self._index)
        while end <= t:
            self._index += 1
            start, end = self._outages.interval(self._index)
        return end if start <= t else None

    def submit(self, message: MachineMessage, t: float) -> bool:
        """Queue a message made at true time t; True when a duplicate of it is also queued."""
        rng, profile = self._rng, self._profile
        self._made += 1
        order = float(self._made)
        back = self.offline_until(t)
        if back is not None:
            release = float(back)
            order += rng.uniform(0.0, 6.0)
        else:
            release = t
            if rng.random() < profile.reorder_probability:
                release, order = t + profile.message_seconds, order + 1.5
        self._push(release, order, Outgoing(message, duplicate=False))
        if rng.random() >= profile.duplicate_probability:
            return False
        delay = rng.randint(*profile.duplicate_delay_s)
        self._push(release + delay, order, Outgoing(message, duplicate=True))
        return True

    def due(self, until: float) -> list[Outgoing]:
        """Everything released by true time `until`, in sending order."""
        queue, out = self._queue, []
        while queue and queue[0][0] <= until:
            out.append(heapq.heappop(queue)[3])
        return out

    def drain(self) -> list[Outgoing]:
        """Everything still queued (the run ends: outages end, late re-sends go now)."""
        return self.due(float("inf"))

    def _push(self, release: float, order: float, item: Outgoing) -> None:
        self._count += 1
        heapq.heappush(self._queue, (release, order, self._count, item))


def uploads(outgoing: list[Outgoing], max_messages: int) -> list[list[Outgoing]]:
    """Cut a send sequence into uploads of at most `max_messages` messages."""
    return [outgoing[i : i + max_messages] for i in range(0, len(outgoing), max_messages)]


def as_upload(batch: list[Outgoing]) -> Upload:
    """The request body for one batch."""
    return Upload(messages=[item.message for item in batch])
