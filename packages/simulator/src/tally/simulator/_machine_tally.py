"""What one machine generated, recorded as it is generated, in DEVICE time.

A machine whose clock is skewed stamps everything `skew` seconds off; the platform can only
place it by those stamps (FIGURES.md, "Time"), so the truth does the same: every instant below
is true time + skew, and each production day, window and local hour is the site's by that time.
Counts go straight into per-day tallies; what needs the whole history to be judged — the state
timeline, data gaps, first-out alarms — is kept as lists and turned into figures at the end
(`_truth_figures.py`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from tally.calendar import ProductionDay, SiteCalendar, Window, WindowKind
from tally.registry import FigureSettings, limits
from tally.simulator._fleet import ArticleSpec, Placement
from tally.simulator._lots import Limits, WeighingTally
from tally.simulator._states import MachineState

LotKey = tuple[str, int]  # (article, start of its local hour)


@dataclass(slots=True)
class DayTally:
    """One machine on one production day (device time): what can be counted as it happens."""

    span: ProductionDay
    packs_total: int = 0
    packs_good: int = 0
    # Packs made in planned time, by article, and how many of them were good.
    ppt_packs: dict[str, int] = field(default_factory=dict)
    ppt_good: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    counter_resets: int = 0
    reboots: int = 0
    messages: int = 0
    datapoints: int = 0
    duplicates_sent: int = 0
    articles: dict[str, WeighingTally] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmRaised:
    """A first-out alarm raised at device time `t`."""

    t: float
    code: str
    text: str | None


class MachineTally:
    """The record of one machine; `t` arguments are TRUE times, converted here."""

    __slots__ = (
        "_current",
        "_last_message",
        "_limits",
        "_window",
        "alarms",
        "calendar",
        "days",
        "gaps",
        "lots",
        "placement",
        "settings",
        "skew",
        "states",
    )

    def __init__(
        self, placement: Placement, calendar: SiteCalendar, settings: FigureSettings
    ) -> None:
        self.placement = placement
        self.calendar = calendar
        self.settings = settings
        self.skew = placement.machine.clock_skew_s
        self.days: dict[date, DayTally] = {}
        self.states: list[tuple[float, MachineState]] = []
        self.gaps: list[tuple[float, float]] = []
        self.alarms: list[AlarmRaised] = []
        self.lots: dict[LotKey, WeighingTally] = {}
        self._current = DayTally(ProductionDay(date.min, 0, 0))
        self._window = Window(0, 0, WindowKind.OFF)
        self._last_message: float | None = None
        self._limits: dict[tuple[str, float], Limits] = {}

    def day(self, t: float) -> DayTally:
        """The tally of the production day holding true instant t (by device time)."""
        device = t + self.skew
        current = self._current
        if current.span.start <= device < current.span.end:
            return current
        span = self.calendar.day_of(device)
        tally = self.days.get(span.date)
        if tally is None:
            tally = self.days[span.date] = DayTally(span)
        self._current = tally
        return tally

    def enter(self, t: int, state: MachineState) -> None:
        """The machine reports `state` from t on."""
        self.states.append((t + self.skew, state))

    def alarm(self, t: int, code: str, text: str | None) -> None:
        """The machine raises a first-out alarm at t."""
        self.alarms.append(AlarmRaised(t + self.skew, code, text))

    def reboot(self, t: int) -> None:
        self.day(t).reboots += 1

    def reset(self, t: int) -> None:
        self.day(t).counter_resets += 1

    def count(self, t: int, name: str, n: int) -> None:
        """Counter `name` rose by n during the second [t, t + 1)."""
        counters = self.day(t).counters
        counters[name] = counters.get(name, 0) + n

    def produce(self, t: int, article: ArticleSpec, packs: int, good: int) -> None:
        """The machine handled `packs` packs (`good` of them good) in the second [t, t + 1)."""
        day = self.day(t)
        day.packs_total += packs
        day.packs_good += good
        if packs and self._planned(t + self.skew):
            day.ppt_packs[article.id] = day.ppt_packs.get(article.id, 0) + packs
            day.ppt_good += good

    def weighing(self, t: float, article: ArticleSpec, net_dg: int, reason: str | None) -> None:
        """One pack weighed at true instant t."""
        device = t + self.skew
        price = article.price_at(device)
        limits = self._limits.get((article.id, price))
        if limits is None:
            limits = self._limits[(article.id, price)] = _limits(article, price)
        day = self.day(t).articles
        tally = day.get(article.id)
        if tally is None:
            tally = day[article.id] = WeighingTally(limits.nominal_dg)
        tally.add(net_dg, reason, limits)
        key = (article.id, self.calendar.local_hour(device).start)
        lot = self.lots.get(key)
        if lot is None:
            lot = self.lots[key] = WeighingTally(limits.nominal_dg)
        lot.add(net_dg, reason, limits)

    def message(self, t: float, signals: int, *, duplicated: bool) -> None:
        """A message stamped t reached the link; a silence longer than the gap threshold since
        the previous one is a data gap (strictly between the two stamps)."""
        device = t + self.skew
        last = self._last_message
        if last is not None and device - last > self.settings.gap_seconds:
            self.gaps.append((last, device))
        self._last_message = device
        day = self.day(t)
        day.messages += 1
        day.datapoints += signals
        day.duplicates_sent += duplicated

    def _planned(self, device: int) -> bool:
        window = self._window
        if not window.start <= device < window.end:
            window = self._window = self.calendar.window_at(device)
        return window.planned


def _limits(article: ArticleSpec, price_per_kg: float) -> Limits:
    cents = round(price_per_kg * 100)
    if article.nominal_g is None:
        return Limits(None, None, None, cents)
    qn = round(article.nominal_g * 10)
    return Limits(qn, *t1_t2_dg(qn), cents)


@functools.cache
def t1_t2_dg(qn_dg: int) -> tuple[int, int]:
    law = limits(qn_dg / 10)
    return round(law.t1_g * 10), round(law.t2_g * 10)
