"""One machine's minutes over a recomputed range [start, end), from its raw rows.

The bounded per-machine pass of the rollup (docs/DECISIONS.md, "The rollup"): a stop's length
decides whether its seconds are micro-stops, and its first planned second the day it is listed
on, which SQL window functions make awkward, so the pass walks the range's state changes and
counter increases once, in Python. The caller widens the range until it holds whole stops and
reaches the neighbouring messages and counter samples (`_extent.py`), so a minute comes out the
same whatever range it was recomputed in. Hours, shifts and days are GROUP BYs of their minutes
in SQL (`_store.py`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tally.calendar import SiteCalendar
from tally.figures._conditions import RUNNING, Piece, gaps, pieces, stretches
from tally.figures._counters import Increase, increases, spread
from tally.figures._raw import AlarmRow, ArticleRow, CounterRow, StateRow
from tally.registry import RegistrySnapshot

REASON_LEAD_SECONDS = 5
MINUTE = 60


@dataclass(frozen=True, slots=True)
class RawRange:
    """What the pass reads for one machine and range (see `_raw.py`)."""

    states: Sequence[StateRow]
    message_times: Sequence[float]
    packs: Sequence[CounterRow]
    good: Sequence[CounterRow] | None
    alarms: Sequence[AlarmRow]
    articles: Sequence[ArticleRow]


@dataclass(slots=True)
class Tally:
    """Seconds and packs of one minute."""

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


@dataclass(frozen=True, slots=True)
class Stop:
    start: float
    end: float
    production_day: date
    planned_seconds: float
    category: str
    reason_code: str | None
    reason_text: str | None


@dataclass(frozen=True, slots=True)
class MinutePlace:
    """Where a minute belongs: its production day, local hour (clipped to the day) and shift."""

    production_day: date
    hour_start: float
    hour_end: float
    hour_label: str
    shift_name: str | None
    shift_start: float | None
    shift_end: float | None


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) of whole minutes being recomputed; `stop_start`: where the stop that holds
    the instant before `start` began, when the span cuts into it (`_extent.py`), so that the
    stop's row is recomputed whole from the raw rows the caller read from there."""

    start: int
    end: int
    stop_start: float | None = None


@dataclass(slots=True)
class MachineRange:
    """The pass's result: a tally per minute of the span (by minute start) and where each
    minute belongs, the stops that begin in it, and the suspect increases held out."""

    span: Span
    minutes: dict[int, Tally]
    places: dict[int, MinutePlace]
    stops: list[Stop]
    suspects: list[tuple[Increase, str]]


def machine_range(
    snapshot: RegistrySnapshot,
    machine: str,
    calendar: SiteCalendar,
    span: Span,
    raw: RawRange,
    pack_counter: str,
    good_counter: str,
) -> MachineRange:
    """Account the minutes of the span of one machine."""
    minutes = {
        m: Tally(planned=calendar.planned_seconds(m, m + MINUTE))
        for m in range(span.start, span.end, MINUTE)
    }
    counting = _Counting(snapshot, machine, span, minutes)
    counting.packs(raw, pack_counter)
    if raw.good is not None:
        counting.good(raw.good, good_counter)
    stops = _timeline(snapshot, calendar, span, minutes, raw)
    return MachineRange(span, minutes, places(calendar, span), stops, counting.suspects)


def places(calendar: SiteCalendar, span: Span) -> dict[int, MinutePlace]:
    """The production day, hour and shift of every minute of the span."""
    found: dict[int, MinutePlace] = {}
    m = span.start
    while m < span.end:
        day = calendar.day_of(m)
        hour = calendar.local_hour(m)
        shift = calendar.shift_at(m)
        place = MinutePlace(
            production_day=day.date,
            hour_start=max(hour.start, day.start),
            hour_end=min(hour.end, day.end),
            hour_label=hour.label,
            shift_name=shift.name if shift else None,
            shift_start=shift.start if shift else None,
            shift_end=shift.end if shift else None,
        )
        # Up to the next bound of hour, day or shift, minutes belong to the same periods.
        upto = min(hour.end, day.end, span.end, shift.end if shift else m + MINUTE)
        while m < upto:
            found[m] = place
            m += MINUTE
    return found


class _Counting:
    """Counter increases into the span's minutes; suspect ones held out and listed."""

    def __init__(
        self, snapshot: RegistrySnapshot, machine: str, span: Span, minutes: dict[int, Tally]
    ) -> None:
        view = snapshot.machine(machine)
        self.snapshot = snapshot
        self.rollover = view.counter_rollover if view else 2**31 - 1
        self.max_rate = view.max_rate_ppm if view else None
        self.span = span
        self.minutes = minutes
        self.suspects: list[tuple[Increase, str]] = []

    def packs(self, raw: RawRange, counter: str) -> None:
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
            for m, part in _spread_minutes(inc, self.span):
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
            for m, part in _spread_minutes(inc, self.span):
                tally = self.minutes[m]
                tally.packs_good += part
                if tally.planned:
                    tally.good_in_ppt += part

    def _counted(self, samples: Sequence[CounterRow], counter: str) -> list[Increase]:
        span = self.span
        counted = []
        for inc in increases(samples, self.rollover, self.max_rate):
            if not inc.suspect:
                counted.append(inc)
            elif span.start <= inc.end < span.end:
                self.suspects.append((inc, counter))
                minute = span.start + int((inc.end - span.start) // MINUTE) * MINUTE
                self.minutes[minute].suspect_packs += inc.amount
        return counted


def _timeline(
    snapshot: RegistrySnapshot,
    calendar: SiteCalendar,
    span: Span,
    minutes: dict[int, Tally],
    raw: RawRange,
) -> list[Stop]:
    """The span's seconds by state, mode and category into its minutes; its stops."""
    settings = snapshot.settings
    found_gaps = gaps(raw.message_times, settings.gap_seconds)

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
    timeline = pieces(raw.states, found_gaps, span.start, span.end, category)
    # The stop the span cut into (`Span.stop_start`), with its part before the span.
    cut = (
        _Cut(span.stop_start, pieces(raw.states, found_gaps, span.stop_start, span.start, category))
        if span.stop_start is not None
        else None
    )
    if cut is not None and (not timeline or timeline[0].category == RUNNING):
        # It ended where the span starts: only its row is recomputed.
        ended = _stop(
            [], calendar, span, minutes, excluded, settings.micro_stop_seconds, raw.alarms, cut
        )
        stops.extend([ended] if ended else [])
    for stretch in stretches(timeline):
        if stretch[0].category == RUNNING:
            for piece in stretch:
                for m, a, b in _minute_chunks(piece, span):
                    tally = minutes[m]
                    _seconds(tally, piece, b - a)
                    if tally.planned:
                        tally.running += b - a
            continue
        stop = _stop(
            stretch,
            calendar,
            span,
            minutes,
            excluded,
            settings.micro_stop_seconds,
            raw.alarms,
            cut if stretch[0].start == span.start else None,
        )
        if stop is not None:
            stops.append(stop)
    return stops


@dataclass(frozen=True, slots=True)
class _Cut:
    """The part of a stop before the span: where it began and its pieces up to the span."""

    start: float
    pieces: list[Piece]


def _stop(
    stretch: list[Piece],
    calendar: SiteCalendar,
    span: Span,
    minutes: dict[int, Tally],
    excluded: set[str],
    micro_stop_seconds: int,
    alarms: Sequence[AlarmRow],
    cut: _Cut | None = None,
) -> Stop | None:
    """Account a stop's seconds in the span's minutes; the stop itself when it is listed (not
    micro, with planned time), on the day of its first planned not-excluded second. A stop the
    span cuts into counts its seconds before the span for its row only (their minutes stay)."""
    start = cut.start if cut else stretch[0].start
    end = stretch[-1].end if stretch else span.start
    micro = end - start < micro_stop_seconds
    first, by_category = _before_span(cut, calendar, span, excluded, micro)
    for piece in stretch:
        for m, a, b in _minute_chunks(piece, span):
            tally = minutes[m]
            if not _stop_seconds(tally, piece, b - a, excluded, micro, by_category):
                continue
            if first is None:
                first = a
                tally.micro_stops += micro
    if micro or first is None:
        return None
    code, text = _reason(alarms, start, end)
    return Stop(
        start=start,
        end=end,
        production_day=calendar.day_of(first).date,
        planned_seconds=sum(by_category.values()),
        category=max(by_category, key=lambda c: by_category[c]),
        reason_code=code,
        reason_text=text,
    )


def _before_span(
    cut: _Cut | None, calendar: SiteCalendar, span: Span, excluded: set[str], micro: bool
) -> tuple[float | None, dict[str, float]]:
    """The first planned not-excluded second and the seconds by category of a stop's part
    before the span, accounted as `_stop_seconds` does, minute by minute on the same grid."""
    first: float | None = None
    by_category: dict[str, float] = {}
    if cut is None:
        return first, by_category
    before = Span(int(cut.start // MINUTE) * MINUTE, span.start)
    for piece in cut.pieces:
        for m, a, b in _minute_chunks(piece, before):
            if not calendar.planned_seconds(m, m + MINUTE) or piece.category in excluded:
                continue
            first = a if first is None else first
            if not micro:
                by_category[piece.category] = by_category.get(piece.category, 0.0) + b - a
    return first, by_category


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


def _minute_chunks(piece: Piece, span: Span) -> list[tuple[int, float, float]]:
    """The piece's part inside the span, cut at minute bounds: (minute start, a, b)."""
    a, b = max(piece.start, span.start), min(piece.end, span.end)
    chunks = []
    while a < b:
        m = span.start + int((a - span.start) // MINUTE) * MINUTE
        upper = min(b, m + MINUTE)
        chunks.append((m, a, upper))
        a = upper
    return chunks


def _spread_minutes(inc: Increase, span: Span) -> list[tuple[int, float]]:
    """The increase's parts in the span's minutes, in proportion to time."""
    lo, hi = max(inc.start, span.start), min(inc.end, span.end)
    if inc.end <= inc.start:
        if span.start <= inc.end < span.end:
            m = span.start + int((inc.end - span.start) // MINUTE) * MINUTE
            return [(m, float(inc.amount))]
        return []
    if hi <= lo:
        return []
    parts = []
    m = span.start + int((lo - span.start) // MINUTE) * MINUTE
    while m < hi:
        part = spread(inc.start, inc.end, inc.amount, m, m + MINUTE)
        if part:
            parts.append((m, part))
        m += MINUTE
    return parts


def utc(t: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)
