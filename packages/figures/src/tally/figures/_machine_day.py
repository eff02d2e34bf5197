"""One machine's production day from its raw rows: minutes, hours, shifts, the day, its stops.

The bounded per-machine pass of the rollup (docs/DECISIONS.md, "The rollup"): a day's state
timeline needs its gaps and stops judged as a whole (a stop's length decides whether its seconds
are micro-stops), which SQL window functions make awkward and slow, so the pass walks the day's
few thousand state changes and its counter increases once, in Python. Everything is accounted per
UTC minute first — hours, shifts and days of every zone are exact unions of minutes — and each
period is the sum of its minutes, so the three grains always agree.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tally.calendar import ProductionDay, SiteCalendar
from tally.figures._conditions import RUNNING, Piece, gaps, pieces, stretches
from tally.figures._counters import Increase, increases, spread
from tally.figures._raw import AlarmRow, ArticleRow, CounterRow, StateRow
from tally.registry import RegistrySnapshot

# How far around the day the timeline is read, so a stop reaching over the day's bounds is
# measured whole (a longer one is measured within this margin).
MARGIN_SECONDS = 6 * 3600
REASON_LEAD_SECONDS = 5
MINUTE = 60


@dataclass(frozen=True, slots=True)
class RawDay:
    """What the pass reads for one machine and day (see `_raw.py`)."""

    states: Sequence[StateRow]
    message_times: Sequence[float]
    packs: Sequence[CounterRow]
    good: Sequence[CounterRow] | None
    alarms: Sequence[AlarmRow]
    articles: Sequence[ArticleRow]


@dataclass(slots=True)
class Tally:
    """Seconds and packs of a minute, or of a period (a sum of minutes)."""

    packs_total: float = 0.0
    packs_good: float = 0.0
    packs_in_ppt: float = 0.0
    good_in_ppt: float = 0.0
    suspect_packs: float = 0.0
    ideal_seconds: float = 0.0
    planned: float = 0.0
    excluded: float = 0.0
    running: float = 0.0
    micro: float = 0.0
    micro_stops: int = 0
    no_data: float = 0.0
    no_data_planned: float = 0.0
    state_seconds: dict[str, float] = field(default_factory=dict)
    mode_seconds: dict[str, float] = field(default_factory=dict)
    category_seconds: dict[str, float] = field(default_factory=dict)
    losses: dict[str, float] = field(default_factory=dict)

    def merge(self, other: Tally) -> None:
        self.packs_total += other.packs_total
        self.packs_good += other.packs_good
        self.packs_in_ppt += other.packs_in_ppt
        self.good_in_ppt += other.good_in_ppt
        self.suspect_packs += other.suspect_packs
        self.ideal_seconds += other.ideal_seconds
        self.planned += other.planned
        self.excluded += other.excluded
        self.running += other.running
        self.micro += other.micro
        self.micro_stops += other.micro_stops
        self.no_data += other.no_data
        self.no_data_planned += other.no_data_planned
        for mine, theirs in (
            (self.state_seconds, other.state_seconds),
            (self.mode_seconds, other.mode_seconds),
            (self.category_seconds, other.category_seconds),
            (self.losses, other.losses),
        ):
            for key, seconds in theirs.items():
                mine[key] = mine.get(key, 0.0) + seconds


@dataclass(frozen=True, slots=True)
class Stop:
    start: float
    end: float
    planned_seconds: float
    category: str
    reason_code: str | None
    reason_text: str | None


@dataclass(frozen=True, slots=True)
class Period:
    grain: str
    start: float
    end: float
    label: str
    tally: Tally


@dataclass(slots=True)
class MachineDay:
    """The pass's result: a tally per minute of the day (by minute start), the periods, the
    stops listed on this day, and the suspect increases held out."""

    day: ProductionDay
    minutes: dict[int, Tally]
    periods: list[Period]
    stops: list[Stop]
    suspects: list[tuple[Increase, str]]


def machine_day(
    snapshot: RegistrySnapshot,
    machine: str,
    calendar: SiteCalendar,
    day: ProductionDay,
    raw: RawDay,
    pack_counter: str,
    good_counter: str,
) -> MachineDay:
    """Account one production day of one machine."""
    plan = calendar.day_plan(day.date)
    # Planned time runs only as far as the machine's data: today so far, not the whole day.
    known_end = max(raw.message_times) if raw.message_times else day.start
    minutes = {
        m: Tally(
            planned=plan.planned_between(m, min(m + MINUTE, known_end)) if m < known_end else 0.0
        )
        for m in range(day.start, day.end, MINUTE)
    }
    counting = _Counting(snapshot, machine, day, minutes)
    counting.packs(raw, pack_counter)
    if raw.good is not None:
        counting.good(raw.good, good_counter)
    stops = _timeline(snapshot, calendar, day, minutes, raw, known_end)
    return MachineDay(day, minutes, _periods(calendar, day, minutes), stops, counting.suspects)


class _Counting:
    """Counter increases into the day's minutes; suspect ones held out and listed."""

    def __init__(
        self,
        snapshot: RegistrySnapshot,
        machine: str,
        day: ProductionDay,
        minutes: dict[int, Tally],
    ) -> None:
        view = snapshot.machine(machine)
        self.snapshot = snapshot
        self.rollover = view.counter_rollover if view else 2**31 - 1
        self.max_rate = view.max_rate_ppm if view else None
        self.day = day
        self.minutes = minutes
        self.suspects: list[tuple[Increase, str]] = []

    def packs(self, raw: RawDay, counter: str) -> None:
        """Packs (and, without a good counter, good packs) with their ideal seconds."""
        article_times = [a.t for a in raw.articles]
        all_good = raw.good is None
        for inc in self._counted(raw.packs, counter):
            index = bisect_right(article_times, inc.end) - 1
            terms = (
                self.snapshot.article_at(raw.articles[index].article, inc.end)
                if index >= 0
                else None
            )
            per_pack = 60.0 / terms.ideal_rate_ppm if terms else 0.0
            for m, part in _spread_minutes(inc, self.day):
                tally = self.minutes[m]
                tally.packs_total += part
                tally.ideal_seconds += part * per_pack
                if tally.planned:
                    tally.packs_in_ppt += part
                if all_good:
                    tally.packs_good += part
                    if tally.planned:
                        tally.good_in_ppt += part

    def good(self, samples: Sequence[CounterRow], counter: str) -> None:
        for inc in self._counted(samples, counter):
            for m, part in _spread_minutes(inc, self.day):
                tally = self.minutes[m]
                tally.packs_good += part
                if tally.planned:
                    tally.good_in_ppt += part

    def _counted(self, samples: Sequence[CounterRow], counter: str) -> list[Increase]:
        day = self.day
        counted = []
        for inc in increases(samples, self.rollover, self.max_rate):
            if not inc.suspect:
                counted.append(inc)
            elif day.start <= inc.end < day.end:
                self.suspects.append((inc, counter))
                minute = day.start + int((inc.end - day.start) // MINUTE) * MINUTE
                self.minutes[minute].suspect_packs += inc.amount
        return counted


def _timeline(
    snapshot: RegistrySnapshot,
    calendar: SiteCalendar,
    day: ProductionDay,
    minutes: dict[int, Tally],
    raw: RawDay,
    known_end: float,
) -> list[Stop]:
    """The day's seconds by state, mode and category into its minutes; its stops."""
    settings = snapshot.settings
    found_gaps = gaps(raw.message_times, settings.gap_seconds)
    window_start = day.start - MARGIN_SECONDS
    window_end = min(day.end + MARGIN_SECONDS, max(known_end, window_start))

    def category(state: StateRow) -> str:
        return snapshot.category(state.model, state.name, state.mode, state.sub_state)

    excluded = {
        name
        for name, is_loss in (
            ("changeover", settings.changeover_is_loss),
            ("cleaning", settings.cleaning_is_loss),
        )
        if not is_loss
    }
    stops: list[Stop] = []
    timeline = pieces(raw.states, found_gaps, window_start, window_end, category)
    for stretch in stretches(timeline):
        if stretch[0].category == RUNNING:
            for piece in stretch:
                for m, a, b in _minute_chunks(piece, day):
                    tally = minutes[m]
                    _seconds(tally, piece, b - a)
                    if tally.planned:
                        tally.running += b - a
            continue
        stop = _stop(
            stretch, calendar, day, minutes, excluded, settings.micro_stop_seconds, raw.alarms
        )
        if stop is not None:
            stops.append(stop)
    return stops


def _stop(
    stretch: list[Piece],
    calendar: SiteCalendar,
    day: ProductionDay,
    minutes: dict[int, Tally],
    excluded: set[str],
    micro_stop_seconds: int,
    alarms: Sequence[AlarmRow],
) -> Stop | None:
    """Account a stop's seconds in the day's minutes; the stop itself when it is listed on this
    day (not micro, with planned time, its first planned not-excluded second in this day)."""
    start, end = stretch[0].start, stretch[-1].end
    micro = end - start < micro_stop_seconds
    by_category: dict[str, float] = {}
    first: float | None = None
    first_in_day = False
    for piece in stretch:
        if first is None and _listed_earlier(piece, calendar, day, excluded):
            first = piece.start
        for m, a, b in _minute_chunks(piece, day):
            tally = minutes[m]
            if not _stop_seconds(tally, piece, b - a, excluded, micro, by_category):
                continue
            if first is None:
                first = a
                first_in_day = True
                tally.micro_stops += micro
    if micro or not first_in_day:
        return None
    code, text = _reason(alarms, start, end)
    return Stop(
        start=start,
        end=end,
        planned_seconds=sum(by_category.values()),
        category=max(by_category, key=lambda c: by_category[c]),
        reason_code=code,
        reason_text=text,
    )


def _stop_seconds(
    tally: Tally,
    piece: Piece,
    seconds: float,
    excluded: set[str],
    micro: bool,
    by_category: dict[str, float],
) -> bool:
    """Account a stop's seconds in a minute; whether they were planned and not excluded."""
    _seconds(tally, piece, seconds)
    if not tally.planned:
        return False
    if piece.state is None:
        tally.no_data_planned += seconds
    if piece.category in excluded:
        tally.excluded += seconds
        return False
    if micro:
        tally.micro += seconds
    else:
        tally.losses[piece.category] = tally.losses.get(piece.category, 0.0) + seconds
        by_category[piece.category] = by_category.get(piece.category, 0.0) + seconds
    return True


def _listed_earlier(
    piece: Piece, calendar: SiteCalendar, day: ProductionDay, excluded: set[str]
) -> bool:
    """Whether the piece has a planned, not excluded second before the day: its stop is
    then listed on an earlier day."""
    if piece.start >= day.start or piece.category in excluded:
        return False
    return calendar.planned_seconds(piece.start, min(piece.end, day.start)) > 0


def _reason(alarms: Sequence[AlarmRow], start: float, end: float) -> tuple[str | None, str | None]:
    for alarm in alarms:
        if start - REASON_LEAD_SECONDS <= alarm.t < end:
            return alarm.code, alarm.text
        if alarm.t >= end:
            break
    return None, None


def _seconds(tally: Tally, piece: Piece, seconds: float) -> None:
    tally.category_seconds[piece.category] = (
        tally.category_seconds.get(piece.category, 0.0) + seconds
    )
    if piece.state is None:
        tally.no_data += seconds
        return
    name, mode = piece.state.name, piece.state.mode
    tally.state_seconds[name] = tally.state_seconds.get(name, 0.0) + seconds
    tally.mode_seconds[mode] = tally.mode_seconds.get(mode, 0.0) + seconds


def _minute_chunks(piece: Piece, day: ProductionDay) -> list[tuple[int, float, float]]:
    """The piece's part inside the day, cut at minute bounds: (minute start, a, b)."""
    a, b = max(piece.start, day.start), min(piece.end, day.end)
    chunks = []
    while a < b:
        m = day.start + int((a - day.start) // MINUTE) * MINUTE
        upper = min(b, m + MINUTE)
        chunks.append((m, a, upper))
        a = upper
    return chunks


def _spread_minutes(inc: Increase, day: ProductionDay) -> list[tuple[int, float]]:
    """The increase's parts in the day's minutes, in proportion to time."""
    lo, hi = max(inc.start, day.start), min(inc.end, day.end)
    if inc.end <= inc.start:
        if day.start <= inc.end < day.end:
            m = day.start + int((inc.end - day.start) // MINUTE) * MINUTE
            return [(m, float(inc.amount))]
        return []
    if hi <= lo:
        return []
    parts = []
    m = day.start + int((lo - day.start) // MINUTE) * MINUTE
    while m < hi:
        part = spread(inc.start, inc.end, inc.amount, m, m + MINUTE)
        if part:
            parts.append((m, part))
        m += MINUTE
    return parts


def _periods(calendar: SiteCalendar, day: ProductionDay, minutes: dict[int, Tally]) -> list[Period]:
    periods = [
        Period("day", day.start, day.end, day.date.isoformat(), _sum(minutes, day.start, day.end))
    ]
    for shift in calendar.shifts(day.date):
        periods.append(
            Period(
                "shift", shift.start, shift.end, shift.name, _sum(minutes, shift.start, shift.end)
            )
        )
    for hour in calendar.hours(day.date):
        lo, hi = max(hour.start, day.start), min(hour.end, day.end)
        periods.append(Period("hour", lo, hi, hour.label, _sum(minutes, lo, hi)))
    return periods


def _sum(minutes: dict[int, Tally], start: float, end: float) -> Tally:
    total = Tally()
    m = int(start)
    while m < end:
        minute = minutes.get(m)
        if minute is not None:
            total.merge(minute)
        m += MINUTE
    return total


def utc(t: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)
