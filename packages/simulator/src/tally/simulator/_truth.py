"""The ground truth: what the simulator really generated, per tenant, machine and production day.

Everything is recorded at generation time by TRUE time: a machine with a skewed clock sends
shifted timestamps, but its packs count on the production day they were really made. A platform
that trusts device time can therefore differ from the truth by the few packs made within the
skew of a day boundary; totals over the whole run agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec

from tally.calendar import ProductionDay, SiteCalendar
from tally.simulator._fleet import Placement
from tally.simulator._truth_file import (
    ArticleDayTruth,
    MachineDayTruth,
    TenantTruth,
    TruthFile,
)


@dataclass(slots=True)
class ArticleTally:
    """One article on one checkweigher on one day."""

    nominal_g: float | None
    packs: int = 0
    packs_good: int = 0
    kg: float = 0.0
    giveaway_g: float = 0.0
    below_t1: int = 0
    below_t2: int = 0


@dataclass(slots=True)
class DayTally:
    """One machine on one production day; the line adds to it as it generates."""

    span: ProductionDay
    packs_total: int = 0
    packs_good: int = 0
    rejects: int = 0
    kg: float = 0.0
    kg_good: float = 0.0
    giveaway_g: float = 0.0
    messages: int = 0
    datapoints: int = 0
    duplicates_sent: int = 0
    reboots: int = 0
    counter_resets: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    state_seconds: dict[str, int] = field(default_factory=dict)
    mode_seconds: dict[str, int] = field(default_factory=dict)
    articles: dict[str, ArticleTally] = field(default_factory=dict)


class MachineTally:
    """The days of one machine."""

    __slots__ = ("_calendar", "_current", "days", "placement")

    def __init__(self, placement: Placement, calendar: SiteCalendar) -> None:
        self.placement = placement
        self.days: dict[date, DayTally] = {}
        self._calendar = calendar
        self._current = DayTally(ProductionDay(date.min, 0, 0))

    def day(self, t: float) -> DayTally:
        """The tally of the production day holding instant t."""
        current = self._current
        if current.span.start <= t < current.span.end:
            return current
        span = self._calendar.day_of(t)
        tally = self.days.get(span.date)
        if tally is None:
            tally = self.days[span.date] = DayTally(span)
        self._current = tally
        return tally

    def state(self, name: str, mode: str, start: int, end: int) -> None:
        """Count [start, end) in a state, split at production-day boundaries."""
        while start < end:
            tally = self.day(start)
            upto = min(end, tally.span.end)
            seconds = upto - start
            tally.state_seconds[name] = tally.state_seconds.get(name, 0) + seconds
            tally.mode_seconds[mode] = tally.mode_seconds.get(mode, 0) + seconds
            start = upto


class Truth:
    """The ground truth of one simulation run; see the module docstring for its time rule.
    [start, end) is the span generated; `end` is the furthest any line got (all lines get
    equally far unless the run was stopped)."""

    def __init__(self, seed: int, start: int) -> None:
        self.seed = seed
        self.start = start
        self.end = start
        self._machines: list[MachineTally] = []

    def machine(self, placement: Placement, calendar: SiteCalendar) -> MachineTally:
        """Register a machine and return its tally."""
        tally = MachineTally(placement, calendar)
        self._machines.append(tally)
        return tally

    def generated(self, tenant: str) -> int:
        """Messages generated for a tenant, deliberate duplicates included."""
        return sum(
            day.messages + day.duplicates_sent
            for machine in self._machines
            if machine.placement.tenant.id == tenant
            for day in machine.days.values()
        )

    def to_file(self) -> TruthFile:
        """The truth as its file schema, tenants and rows in a stable order."""
        rows: dict[str, list[MachineDayTruth]] = {}
        for machine in self._machines:
            tenant_rows = rows.setdefault(machine.placement.tenant.id, [])
            tenant_rows.extend(
                _row(machine.placement, machine.days[d]) for d in sorted(machine.days)
            )
        tenants = [
            TenantTruth(
                tenant=tenant_id,
                messages=sum(row.messages for row in tenant_rows),
                datapoints=sum(row.datapoints for row in tenant_rows),
                duplicates_sent=sum(row.duplicates_sent for row in tenant_rows),
                days=tenant_rows,
            )
            for tenant_id, tenant_rows in sorted(rows.items())
        ]
        return TruthFile(
            seed=self.seed,
            start=datetime.fromtimestamp(self.start, UTC),
            end=datetime.fromtimestamp(self.end, UTC),
            tenants=tenants,
        )

    def to_json(self) -> bytes:
        """The truth file as JSON."""
        return msgspec.json.encode(self.to_file())


def write_truth(truth: Truth, path: str | Path) -> None:
    """Write the truth file (JSON) to path."""
    Path(path).write_bytes(msgspec.json.format(truth.to_json(), indent=1))


def read_truth(path: str | Path) -> TruthFile:
    """Read a truth file written by `write_truth`."""
    return msgspec.json.decode(Path(path).read_bytes(), type=TruthFile)


def _row(placement: Placement, tally: DayTally) -> MachineDayTruth:
    return MachineDayTruth(
        site=placement.site.id,
        line=placement.line.id,
        machine=placement.machine.id,
        machine_type=placement.machine.type,
        clock_skew_s=placement.machine.clock_skew_s,
        production_day=tally.span.date,
        day_start=datetime.fromtimestamp(tally.span.start, UTC),
        day_end=datetime.fromtimestamp(tally.span.end, UTC),
        packs_total=tally.packs_total,
        packs_good=tally.packs_good,
        rejects=tally.rejects,
        rejects_by_reason=dict(sorted(tally.rejects_by_reason.items())),
        kg=round(tally.kg, 4),
        kg_good=round(tally.kg_good, 4),
        giveaway_g=round(tally.giveaway_g, 1),
        counters=dict(sorted(tally.counters.items())),
        state_seconds=dict(sorted(tally.state_seconds.items())),
        mode_seconds=dict(sorted(tally.mode_seconds.items())),
        articles=[
            ArticleDayTruth(
                article=article_id,
                nominal_g=a.nominal_g,
                packs=a.packs,
                packs_good=a.packs_good,
                kg=round(a.kg, 4),
                giveaway_g=round(a.giveaway_g, 1),
                below_t1=a.below_t1,
                below_t2=a.below_t2,
            )
            for article_id, a in sorted(tally.articles.items())
        ],
        messages=tally.messages,
        datapoints=tally.datapoints,
        duplicates_sent=tally.duplicates_sent,
        reboots=tally.reboots,
        counter_resets=tally.counter_resets,
    )
