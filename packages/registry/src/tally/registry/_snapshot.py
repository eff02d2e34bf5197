"""One tenant's registry as the figures read it: an immutable snapshot, answered in memory.

Instants are epoch seconds (device time, as the figures place everything). Histories are
half-open spans [start, end): a machine's line, an article's terms; `-inf`/`inf` are the open
ends. Weights are whole decigrams, prices whole cents.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time

from tally.calendar import SiteCalendar
from tally.registry._records import MachineKind, StateModel
from tally.registry._settings import Categories, FigureSettings

# The default maximum rate is this many times the highest ideal rate (FIGURES.md, Counters).
MAX_RATE_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class SiteView:
    """A site: its zone, production day start and calendar (the plans by day in effect)."""

    site: str
    timezone: str
    day_start: time
    calendar: SiteCalendar


@dataclass(frozen=True, slots=True)
class LineView:
    """A line, its site, and the roles set for it (None: the default machine kind)."""

    line: str
    site: SiteView
    constraint_machine: str | None
    end_of_line_machine: str | None


@dataclass(frozen=True, slots=True)
class MachineView:
    """A machine as the figures need it; `max_rate_ppm` with the default applied (None when
    the tenant has no articles to take it from)."""

    machine: str
    kind: MachineKind
    position: int
    state_model: StateModel
    counter_rollover: int
    max_rate_ppm: float | None


@dataclass(frozen=True, slots=True)
class Membership:
    """Machine `machine` stood on `line` during [start, end)."""

    machine: str
    line: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class ArticleTerms:
    """An article's terms valid during [start, end): Qn, T1, T2 in decigrams (None for
    catch-weight), ideal rate in packs/min, price in cents per kg."""

    article: str
    start: float
    end: float
    nominal_dg: int | None
    t1_dg: int | None
    t2_dg: int | None
    ideal_rate_ppm: float
    price_cents: int


def spans(starts: Sequence[float]) -> list[tuple[float, float]]:
    """Consecutive starts as [start, next start) spans, the last one open-ended."""
    return [
        (start, starts[i + 1] if i + 1 < len(starts) else math.inf)
        for i, start in enumerate(starts)
    ]


class RegistrySnapshot:
    """A tenant's registry at one version; everything the rollup asks per batch, in memory."""

    def __init__(
        self,
        tenant: str,
        version: int,
        settings: FigureSettings,
        lines: Mapping[str, LineView],
        machines: Mapping[str, MachineView],
        memberships: Mapping[str, Sequence[Membership]],
        articles: Mapping[str, Sequence[ArticleTerms]],
    ) -> None:
        self.tenant = tenant
        self.version = version
        self.settings = settings
        self.categories = Categories(settings.state_rules)
        self.lines = dict(lines)
        self.machines = dict(machines)
        self._memberships = {m: list(ms) for m, ms in memberships.items()}
        self._membership_starts = {m: [x.start for x in ms] for m, ms in memberships.items()}
        self._articles = {a: list(ts) for a, ts in articles.items()}
        self._article_starts = {a: [x.start for x in ts] for a, ts in articles.items()}

    def line(self, line: str) -> LineView | None:
        """The line, with its site and calendar."""
        return self.lines.get(line)

    def machine(self, machine: str) -> MachineView | None:
        """The machine's kind, counters and maximum rate."""
        return self.machines.get(machine)

    def line_at(self, machine: str, t: float) -> str | None:
        """The line machine `machine` stood on at instant t (None: on none yet)."""
        starts = self._membership_starts.get(machine)
        if not starts:
            return None
        index = bisect_right(starts, t) - 1
        return self._memberships[machine][index].line if index >= 0 else None

    def memberships(self, machine: str, start: float, end: float) -> list[Membership]:
        """The machine's lines overlapping [start, end), each clipped to it."""
        found = []
        for member in self._memberships.get(machine, ()):
            low, high = max(start, member.start), min(end, member.end)
            if low < high:
                found.append(Membership(machine, member.line, low, high))
        return found

    def machines_on(self, line: str, t: float) -> list[MachineView]:
        """The machines standing on `line` at instant t, in flow order (position, then id)."""
        on = [m for m in self.machines.values() if self.line_at(m.machine, t) == line]
        return sorted(on, key=lambda m: (m.position, m.machine))

    def constraint_machine(self, line: str, t: float) -> str | None:
        """Where the line's availability and performance are taken at instant t."""
        return self._role(line, t, MachineKind.THERMOFORMER, constraint=True)

    def end_of_line_machine(self, line: str, t: float) -> str | None:
        """Where the line's good packs and quality are taken at instant t."""
        return self._role(line, t, MachineKind.CHECKWEIGHER, constraint=False)

    def article_at(self, article: str, t: float) -> ArticleTerms | None:
        """The article's terms valid at instant t (None: unknown article, or not yet defined)."""
        starts = self._article_starts.get(article)
        if not starts:
            return None
        index = bisect_right(starts, t) - 1
        return self._articles[article][index] if index >= 0 else None

    def article_terms(self, article: str) -> list[ArticleTerms]:
        """Every version of the article, oldest first."""
        return list(self._articles.get(article, ()))

    def category(self, model: str, name: str, mode: str, sub_state: str | None) -> str:
        """The category of a state under the tenant's rules."""
        return self.categories.of(model, name, mode, sub_state).value

    def _role(self, line: str, t: float, kind: MachineKind, *, constraint: bool) -> str | None:
        view = self.lines.get(line)
        if view is None:
            return None
        chosen = view.constraint_machine if constraint else view.end_of_line_machine
        if chosen is not None:
            return chosen
        for machine in self.machines_on(line, t):
            if machine.kind is kind:
                return machine.machine
        return None
