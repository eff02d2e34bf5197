"""A machine's record turned into FIGURES.md's figures per production day (device time).

The state timeline is cut into pieces of one condition: a state (with the category the simulator
gave it), or no data — before the first state, and strictly between two messages further apart
than the gap threshold. Maximal runs of pieces that are not running are stops; shorter than the
micro-stop threshold, micro-stops. Each piece is split at day boundaries and weighed against the
plan: its planned seconds are running, micro-stop, excluded (changeover or cleaning the tenant
does not count as a loss) or an availability loss of its category.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tally.calendar import ProductionDay
from tally.simulator._machine_tally import MachineTally
from tally.simulator._states import MachineState
from tally.simulator._truth_file import LossesTruth, OeeTruth, StopTruth

RUNNING = "running"
NO_DATA = "no_data"
REASON_LEAD_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Piece:
    """[start, end) of device time in one condition; `state` None is no data."""

    start: float
    end: float
    category: str
    state: MachineState | None


@dataclass(slots=True)
class DayTime:
    """Where one machine's seconds of one production day went."""

    day: ProductionDay
    state_seconds: dict[str, float] = field(default_factory=dict)
    mode_seconds: dict[str, float] = field(default_factory=dict)
    category_seconds: dict[str, float] = field(default_factory=dict)
    no_data: float = 0.0
    no_data_planned: float = 0.0
    planned: float = 0.0
    excluded: float = 0.0
    running: float = 0.0
    micro: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)
    micro_stops: int = 0
    stops: list[StopTruth] = field(default_factory=list)

    @property
    def ppt(self) -> float:
        """Planned production time: planned less excluded."""
        return self.planned - self.excluded

    @property
    def completeness(self) -> float:
        """The share of planned time with data; a day without planned time is complete (1)
        when it has no gap, else not (0)."""
        if not self.planned:
            return 0.0 if self.no_data else 1.0
        return 1.0 - self.no_data_planned / self.planned

    def add(self, piece: Piece, seconds: float) -> None:
        _add(self.category_seconds, piece.category, seconds)
        if piece.state is None:
            self.no_data += seconds
            return
        _add(self.state_seconds, piece.state.name, seconds)
        _add(self.mode_seconds, piece.state.mode.value, seconds)


def pieces(tally: MachineTally, end: float) -> list[Piece]:
    """The machine's conditions from the start of its first production day to `end`."""
    states = tally.states
    times = [t for t, _ in states]
    gap_starts = [a for a, _ in tally.gaps]
    first = tally.calendar.day_of(times[0]).start if times else end
    bounds = {first, end, *times, *(b for _, b in tally.gaps), *gap_starts}
    cuts = sorted(t for t in bounds if first <= t <= end)
    found: list[Piece] = []
    for start, stop in itertools.pairwise(cuts):
        gap = bisect_right(gap_starts, start) - 1
        if gap >= 0 and tally.gaps[gap][1] >= stop:
            found.append(Piece(start, stop, NO_DATA, None))
            continue
        index = bisect_right(times, start) - 1
        if index < 0:
            found.append(Piece(start, stop, NO_DATA, None))
            continue
        state = states[index][1]
        found.append(Piece(start, stop, state.category, state))
    return found


def stretches(found: list[Piece]) -> Iterator[list[Piece]]:
    """Maximal runs of running pieces and of not-running pieces (the stops), in order."""
    run: list[Piece] = []
    for piece in found:
        if run and (run[-1].category == RUNNING) != (piece.category == RUNNING):
            yield run
            run = []
        run.append(piece)
    if run:
        yield run


def day_times(tally: MachineTally, end: float) -> dict[date, DayTime]:
    """Every production day from the first state to `end`, with its seconds accounted."""
    ledger = _Ledger(tally, end)
    for stretch in stretches(pieces(tally, end)):
        if stretch[0].category == RUNNING:
            for piece in stretch:
                for time, a, b in ledger.chunks(piece):
                    time.add(piece, b - a)
                    time.running += ledger.planned(time, a, b)
        else:
            _stop(ledger, stretch)
    return ledger.days


class _Ledger:
    """The days being accounted, created as pieces reach them."""

    def __init__(self, tally: MachineTally, end: float) -> None:
        self.tally = tally
        self.end = end
        self.days: dict[date, DayTime] = {}
        settings = tally.settings
        self.excluded = {
            category
            for category, is_loss in (
                ("changeover", settings.changeover_is_loss),
                ("cleaning", settings.cleaning_is_loss),
            )
            if not is_loss
        }

    def chunks(self, piece: Piece) -> Iterator[tuple[DayTime, float, float]]:
        """The piece split at production-day boundaries, with each part's day."""
        calendar = self.tally.calendar
        for day in calendar.days(piece.start, piece.end):
            time = self.days.get(day.date)
            if time is None:
                # A day the run ends in is planned only up to the end.
                planned = self.planned_in(day, day.start, min(day.end, self.end))
                time = self.days[day.date] = DayTime(day, planned=planned)
            yield time, max(piece.start, day.start), min(piece.end, day.end)

    def planned(self, time: DayTime, start: float, end: float) -> float:
        return self.planned_in(time.day, start, end)

    def planned_in(self, day: ProductionDay, start: float, end: float) -> float:
        return self.tally.calendar.day_plan(day.date).planned_between(start, end)


def _stop(ledger: _Ledger, stretch: list[Piece]) -> None:
    tally = ledger.tally
    start, end = stretch[0].start, stretch[-1].end
    micro = end - start < tally.settings.micro_stop_seconds
    by_category: dict[str, float] = {}
    first: DayTime | None = None
    for piece in stretch:
        for time, a, b in ledger.chunks(piece):
            time.add(piece, b - a)
            planned = ledger.planned(time, a, b)
            if piece.state is None:
                time.no_data_planned += planned
            if piece.category in ledger.excluded:
                time.excluded += planned
                continue
            if not planned:
                continue
            first = first or time
            if micro:
                time.micro += planned
            else:
                _add(time.losses, piece.category, planned)
                _add(by_category, piece.category, planned)
    if first is None:
        return
    if micro:
        first.micro_stops += 1
        return
    reason = _reason(tally, start, end)
    first.stops.append(
        StopTruth(
            start=_utc(start),
            end=_utc(end),
            seconds=end - start,
            planned_seconds=sum(by_category.values()),
            category=max(by_category, key=lambda c: by_category[c]),
            reason_code=reason[0],
            reason_text=reason[1],
        )
    )


def _reason(tally: MachineTally, start: float, end: float) -> tuple[str | None, str | None]:
    for alarm in tally.alarms:
        if start - REASON_LEAD_SECONDS <= alarm.t < end:
            return alarm.code, alarm.text
        if alarm.t >= end:
            break
    return None, None


def oee(
    ppt: float,
    running: float,
    micro: float,
    losses: dict[str, float],
    ideal: float,
    quality: float | None,
) -> OeeTruth:
    """A, P, Q, OEE and the losses, by FIGURES.md ("OEE")."""
    run = running + micro
    fpt = ideal * quality if quality is not None else 0.0
    if not ppt:
        value = None
    elif not ideal:
        value = 0.0
    else:
        value = None if quality is None else fpt / ppt
    return OeeTruth(
        ppt_seconds=ppt,
        run_seconds=run,
        ideal_seconds=ideal,
        fpt_seconds=fpt,
        availability=run / ppt if ppt else None,
        performance=ideal / run if run else None,
        quality=quality,
        oee=value,
        losses=LossesTruth(
            availability_seconds=dict(sorted(losses.items())),
            micro_stop_seconds=micro,
            speed_seconds=running - ideal,
            quality_seconds=ideal - fpt if quality is not None else 0.0,
        ),
    )


def _add(totals: dict[str, float], key: str, seconds: float) -> None:
    totals[key] = totals.get(key, 0.0) + seconds


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
