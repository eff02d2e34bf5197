"""Declaring scheduled jobs: what runs, and which slots fall due when.

    Schedule("maintenance", maintain, every(timedelta(hours=1)))
    Schedule("nightly", compact, daily_at(time(2, 30), "Europe/Berlin"))
    Schedule("day-report", report_day, closed_production_days, look_back=timedelta(days=7))

A schedule's `when` yields its *slots*: a key that names the run for good, the instant it falls
due, and a value for the job (`every` gives the due instant, `daily_at` the local date). The
general form is any async function of the service's Deps and a time window — the per-site
production days of a changing set of sites, say — so `every` and `daily_at` are two such
functions, written once. The job gets the Deps and a `ScheduledRun` (its slot and attempt).

How slots are run (once across every process of a service, caught up after downtime, leased)
is the scheduler's business: see `tally.sdk._scheduler`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally.sdk._errors import ContractError

if TYPE_CHECKING:
    from tally.sdk._database import Tx

D = TypeVar("D")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_KEY_LIMIT = 200
# Without a look-back of its own, a slot missed this long ago is still run.
DEFAULT_LOOK_BACK = timedelta(days=7)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Slot(Generic[V_co]):
    """One run of a job that falls due: `key` names it for good (a slot runs once per key),
    `due` is when (timezone-aware), `value` what the job needs to know about it."""

    key: str
    due: datetime
    value: V_co

    def __post_init__(self) -> None:
        if self.due.tzinfo is None or self.due.utcoffset() is None:
            raise ContractError(f"slot {self.key!r}: due {self.due} needs a time zone")
        if not self.key or len(self.key) > _KEY_LIMIT:
            raise ContractError(f"slot key {self.key!r}: 1 to {_KEY_LIMIT} characters")


# The slots of a schedule that fall due in the window (since, until], from the service's Deps.
SlotSource = Callable[[D, datetime, datetime], Awaitable[Sequence[Slot[V]]]]


class ScheduledRun(Generic[V]):
    """What a job is given: the slot it runs for and which attempt this is.

    `finish(tx)` marks the slot done inside the job's own transaction, so its effects and the
    mark commit together: a second run of the slot (after a crash, or by a process that took
    over an expired lease) then cannot commit its transaction (`ClaimLost`). Without it, the
    slot is marked done after the job returns: a crash in between runs the job again."""

    def __init__(
        self,
        slot: Slot[V],
        attempt: int,
        finish: Callable[[Tx], Awaitable[None]] | None = None,
    ) -> None:
        self.slot = slot
        self.attempt = attempt
        self._finish = finish

    async def finish(self, tx: Tx) -> None:
        """Mark the slot done in `tx` (a no-op for schedules that run in each process)."""
        if self._finish is not None:
            await self._finish(tx)


Job = Callable[[D, ScheduledRun[V]], Awaitable[None]]


@dataclass(frozen=True)
class Schedule(Generic[D, V]):
    """A job and when it falls due.

    `look_back`: slots due this long ago that have not run yet are run (oldest first) — after a
    restart or an outage; `None` takes the source's own (`every`: one period, so missed runs of
    a periodic job collapse into the latest; otherwise 7 days). `tick`: how often the scheduler
    asks for slots when none is known to come sooner, and retries a failed slot. `lease`: how
    long a claimed slot stays with the process running it without word from it (renewed while
    the job runs). `each_process`: run in every process, with nothing shared or remembered —
    for services without a database, or work each process does for itself.
    """

    name: str
    job: Job[D, V]
    when: SlotSource[D, V]
    look_back: timedelta | None = None
    tick: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=1)
    each_process: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ContractError(
                f"schedule name {self.name!r}: use lower-case letters, digits, '_' or '-'"
            )
        for label, span in (("tick", self.tick), ("lease", self.lease)):
            if span <= timedelta(0):
                raise ContractError(f"schedule {self.name!r}: {label} must be > 0, got {span}")
        if self.look_back is not None and self.look_back <= timedelta(0):
            raise ContractError(f"schedule {self.name!r}: look_back must be > 0")

    @property
    def window(self) -> timedelta:
        """How far back slots are still run."""
        if self.look_back is not None:
            return self.look_back
        own = getattr(self.when, "look_back", None)
        return own if isinstance(own, timedelta) else DEFAULT_LOOK_BACK


@dataclass(frozen=True)
class Every:
    """Slots every `period`, aligned to the Unix epoch plus `offset` (UTC): the same instants in
    every process. Keys are the due instants in ISO form, after `key` if one is given."""

    period: timedelta
    offset: timedelta = timedelta(0)
    key: str = ""

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ContractError(f"every({self.period}): the period must be > 0")

    @property
    def look_back(self) -> timedelta:
        return self.period

    def between(self, since: datetime, until: datetime) -> list[Slot[datetime]]:
        """The slots due in (since, until]."""
        anchor = datetime(1970, 1, 1, tzinfo=UTC) + self.offset
        first = (since - anchor) // self.period + 1
        last = (until - anchor) // self.period
        slots = []
        for n in range(first, last + 1):
            due = anchor + n * self.period
            slots.append(Slot(f"{self.key}{due.isoformat()}", due, due))
        return slots

    async def __call__(
        self, deps: object, since: datetime, until: datetime, /
    ) -> list[Slot[datetime]]:
        return self.between(since, until)


@dataclass(frozen=True)
class DailyAt:
    """Slots at a local wall-clock time of a time zone, daylight-saving aware: a time that the
    clocks skip (spring) falls due as many minutes later as they skip; a time they pass twice
    (autumn), at its first pass. Each slot's value is its local date, its key that date in ISO
    form after `key`."""

    at: time
    zone: ZoneInfo
    key: str = ""

    def due_on(self, day: date) -> datetime:
        """The instant (UTC) of the slot of local date `day`."""
        # fold=0: before the shift for a skipped time, the first pass for a repeated one.
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def between(self, since: datetime, until: datetime) -> list[Slot[date]]:
        """The slots due in (since, until]."""
        day = since.astimezone(self.zone).date() - _ONE_DAY
        last = until.astimezone(self.zone).date() + _ONE_DAY
        slots = []
        while day <= last:
            due = self.due_on(day)
            if since < due <= until:
                slots.append(Slot(f"{self.key}{day.isoformat()}", due, day))
            day += _ONE_DAY
        return slots

    async def __call__(self, deps: object, since: datetime, until: datetime, /) -> list[Slot[date]]:
        return self.between(since, until)


def every(period: timedelta, *, offset: timedelta = timedelta(0), key: str = "") -> Every:
    """Slots every `period` (at multiples of it since the Unix epoch, plus `offset`)."""
    return Every(period, offset, key)


def daily_at(at: time, zone: str | ZoneInfo, *, key: str = "") -> DailyAt:
    """Slots every day at local time `at` of `zone` (an IANA name such as "Europe/Berlin")."""
    if at.tzinfo is not None:
        raise ContractError(f"daily_at({at}): give a local time without a zone, and the zone")
    return DailyAt(at, _zone(zone), key)


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ContractError(
            f"time zone {zone!r}: not an IANA zone such as 'Europe/Berlin'"
        ) from error
