"""What a line does over time: contiguous segments of running, stopping and planned downtime.

Planned windows come from the site's calendar (shifts, breaks, cleaning, no shift). Inside a
shift the line runs for minutes at a time between stops drawn as a Poisson process: micro-stops
(< 120 s) several times an hour, reel changes, faults a few times a shift, and the odd changeover
to another article; a shift often starts with a changeover. Every stop has one culprit machine;
its neighbours' starved/blocked states follow from it (see `_states.py`).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from tally.calendar import Window, WindowKind
from tally.simulator._alarms import FAULTS, REELS, AlarmSpec
from tally.simulator._fleet import ArticleSpec, LineSpec, SiteSpec

MICROSTOPS_PER_HOUR = 5.0
FAULTS_PER_HOUR = 0.4
REELS_PER_HOUR = 0.8
CHANGEOVERS_PER_HOUR = 0.06
CHANGEOVER_AT_SHIFT_START = 0.35
SEVERE_FAULT = 0.15
# Culprit weights in flow order (slicer, thermoformer, checkweigher, labeller).
FAULT_WEIGHTS = (3.0, 4.0, 1.5, 2.0)
MICROSTOP_WEIGHTS = (3.0, 2.0, 1.0, 3.0)
THERMOFORMER, LABELLER = 1, 3


class SegmentKind(enum.Enum):
    """The line's condition during a segment."""

    RUN = "run"
    MICROSTOP = "microstop"
    FAULT = "fault"
    REEL = "reel"
    CHANGEOVER = "changeover"
    BREAK = "break"
    CLEANING = "cleaning"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Job:
    """What the line is making: article, batch and order."""

    article: ArticleSpec
    batch: str
    order: str


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) in one condition. `culprit` is the stopping machine's position (-1: none);
    `severe` faults abort the culprit, which reboots at the end; `opens_shift` names the shift
    this segment starts."""

    start: int
    end: int
    kind: SegmentKind
    job: Job
    rate_ppm: float = 0.0
    culprit: int = -1
    alarm: AlarmSpec | None = None
    severe: bool = False
    opens_shift: str | None = None


class Timeline:
    """The endless, seeded sequence of a line's segments from `start` on."""

    def __init__(
        self,
        site: SiteSpec,
        line: LineSpec,
        articles: tuple[ArticleSpec, ...],
        rng: random.Random,
        start: int,
    ) -> None:
        self._site = site
        self._line = line
        self._articles = articles
        self._rng = rng
        self._start = start
        self._calendar = site.calendar()
        self._jobs = 0
        self._max_rate = min(machine.ideal_rate_ppm for machine in line.machines)
        self._job = self._new_job(articles[0], self._calendar.day_of(start).date)

    def __iter__(self) -> Iterator[Segment]:
        day = self._calendar.day_of(self._start).date
        while True:
            for window in self._calendar.windows(day):
                for segment in self._window(window, day):
                    if segment.end <= self._start:
                        continue
                    if segment.start < self._start:
                        segment = replace(segment, start=self._start)
                    yield segment
            day += timedelta(1)

    def _window(self, window: Window, day: date) -> Iterator[Segment]:
        if window.kind is WindowKind.SHIFT:
            yield from self._shift(window, day)
            return
        kind = _PLANNED[window.kind]
        yield Segment(window.start, window.end, kind, self._job)

    def _shift(self, window: Window, day: date) -> Iterator[Segment]:
        rng = self._rng
        t, end = window.start, window.end
        opens = window.shift if window.opens_shift else None
        if opens is not None:
            if len(self._articles) > 1 and rng.random() < CHANGEOVER_AT_SHIFT_START:
                yield (stop := self._changeover(t, end, day, opens))
                t, opens = stop.end, None
            else:
                # Same article, new shift: a new batch (lot) starts.
                self._job = self._new_job(self._job.article, day, self._job.order)
        total = MICROSTOPS_PER_HOUR + FAULTS_PER_HOUR + REELS_PER_HOUR + CHANGEOVERS_PER_HOUR
        while t < end:
            run_end = min(end, t + max(1, round(rng.expovariate(total / 3600))))
            rate = round(min(self._job.article.ideal_rate_ppm, self._max_rate), 1)
            rate = round(rate * rng.uniform(0.86, 0.98), 1)
            yield Segment(t, run_end, SegmentKind.RUN, self._job, rate, opens_shift=opens)
            t, opens = run_end, None
            if t < end:
                stop = self._stop(t, end, day, rng.uniform(0, total))
                yield stop
                t = stop.end

    def _stop(self, t: int, end: int, day: date, pick: float) -> Segment:
        rng = self._rng
        machines = self._line.machines
        if pick < MICROSTOPS_PER_HOUR:
            culprit = rng.choices(range(len(machines)), MICROSTOP_WEIGHTS)[0]
            stop_end = min(end, t + rng.randint(10, 110))
            return Segment(t, stop_end, SegmentKind.MICROSTOP, self._job, culprit=culprit)
        pick -= MICROSTOPS_PER_HOUR
        if pick < FAULTS_PER_HOUR:
            culprit = rng.choices(range(len(machines)), FAULT_WEIGHTS)[0]
            alarm = rng.choice(FAULTS[machines[culprit].type])
            severe = rng.random() < SEVERE_FAULT
            seconds = min(2700.0, max(180.0, rng.lognormvariate(6.2, 0.7)))
            stop_end = min(end, t + round(seconds) + (600 if severe else 0))
            kind = SegmentKind.FAULT
            return Segment(t, stop_end, kind, self._job, 0.0, culprit, alarm, severe)
        pick -= FAULTS_PER_HOUR
        if pick < REELS_PER_HOUR or len(self._articles) < 2:
            culprit = THERMOFORMER if rng.random() < 0.6 else LABELLER
            alarm = rng.choice(REELS[machines[culprit].type])
            stop_end = min(end, t + rng.randint(120, 300))
            return Segment(t, stop_end, SegmentKind.REEL, self._job, 0.0, culprit, alarm)
        return self._changeover(t, end, day, None)

    def _changeover(self, t: int, end: int, day: date, opens: str | None) -> Segment:
        rng = self._rng
        current = self._job.article
        article = rng.choice([a for a in self._articles if a.id != current.id])
        self._job = self._new_job(article, day)
        stop_end = min(end, t + rng.randint(900, 2100))
        return Segment(t, stop_end, SegmentKind.CHANGEOVER, self._job, opens_shift=opens)

    def _new_job(self, article: ArticleSpec, day: date, order: str | None = None) -> Job:
        self._jobs += 1
        line = self._line.id
        batch = f"{line}-{day:%y%m%d}-{self._jobs}"
        return Job(article, batch, order or f"{line}-o{self._jobs}")


_PLANNED = {
    WindowKind.OFF: SegmentKind.OFF,
    WindowKind.BREAK: SegmentKind.BREAK,
    WindowKind.CLEANING: SegmentKind.CLEANING,
}
