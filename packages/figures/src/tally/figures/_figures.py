"""The typed figures read from the rollup tables: what the api serves (issue 10's names).

Ratios are fractions (A, P, Q, OEE in [0, 1], P may exceed 1), None where docs/FIGURES.md says
null; seconds and packs are floats (packs are whole per day when machines sample at every
boundary); times are UTC instants, days the site's production days.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import msgspec

from tally.figures import _read_queries as q
from tally.sdk import Tx


class PeriodFigures(msgspec.Struct, frozen=True, kw_only=True):
    """A machine's or a line's figures over one period (minute, hour, shift or day)."""

    grain: str
    start: datetime
    end: datetime
    production_day: date
    label: str
    total_packs: float
    good_packs: float
    planned_seconds: float
    ppt_seconds: float
    run_seconds: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    completeness: float
    losses: dict[str, float]


class MachineFigures(msgspec.Struct, frozen=True, kw_only=True):
    """A machine over a period, with where its seconds went."""

    machine: str
    line: str | None
    packs_total: float
    packs_good: float
    suspect_packs: float
    state_seconds: dict[str, float]
    mode_seconds: dict[str, float]
    category_seconds: dict[str, float]
    no_data_seconds: float
    micro_stops: int
    figures: PeriodFigures


class DowntimeEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the downtime Pareto: stops of a category and reason."""

    category: str
    reason: str | None
    count: int
    minutes: float


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A stop of one machine (the time between stops is running or micro-stopped)."""

    machine: str
    start: datetime
    end: datetime
    seconds: float
    category: str
    reason_code: str | None
    reason_text: str | None


class LineDay(msgspec.Struct, frozen=True, kw_only=True):
    """One line's production day (GET /v1/lines/{line}/days/{day}, without the weighings'
    fields, which the weighings' reads add: rejects, kg, giveaway, articles)."""

    line: str
    site: str
    day: date
    good_packs: float
    total_packs: float
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    planned_seconds: float
    ppt_seconds: float
    run_seconds: float
    completeness: float
    constraint_machine: str | None
    end_of_line_machine: str | None
    losses: dict[str, float]
    machines: list[MachineFigures]
    shifts: list[PeriodFigures]
    hours: list[PeriodFigures]
    downtime: list[DowntimeEntry]
    timeline: list[TimelineEntry]


class LineFigures(msgspec.Struct, frozen=True, kw_only=True):
    line: str
    site: str
    figures: PeriodFigures


class SiteFigures(msgspec.Struct, frozen=True, kw_only=True):
    """A site over a period: planned-time-weighted A, P, Q and OEE of its lines."""

    site: str
    figures: PeriodFigures
    lines: list[LineFigures]


class MachineNow(msgspec.Struct, frozen=True, kw_only=True):
    machine: str
    minute: datetime
    state: str | None
    category: str


class LineLive(msgspec.Struct, frozen=True, kw_only=True):
    """A line right now: the state of its constraint machine, and its day so far."""

    line: str
    site: str
    state: str | None
    category: str
    as_of: datetime | None
    machines: list[MachineNow]
    today: PeriodFigures


def _completeness(planned: float, no_data_planned: float) -> float:
    return 1.0 - no_data_planned / planned if planned else 1.0


def _losses(
    row: q.LinePeriodRow | q.MachinePeriodRow,
    micro: float,
    ideal: float,
    run: float,
    quality: float | None,
) -> dict[str, float]:
    """Availability losses by category, then micro-stops, speed and quality: they add up to
    PPT − FPT (docs/FIGURES.md, "OEE")."""
    losses = {f"availability:{k}": v for k, v in sorted(json.loads(row.losses).items())}
    losses["micro_stops"] = micro
    losses["speed"] = run - micro - ideal
    losses["quality"] = ideal * (1 - quality) if quality is not None else 0.0
    return losses


def line_period(row: q.LinePeriodRow) -> PeriodFigures:
    return PeriodFigures(
        grain=row.grain,
        start=row.period_start,
        end=row.period_end,
        production_day=row.production_day,
        label=row.label,
        total_packs=row.packs_total,
        good_packs=row.packs_good,
        planned_seconds=row.planned_seconds,
        ppt_seconds=row.ppt_seconds,
        run_seconds=row.run_seconds,
        availability=row.availability,
        performance=row.performance,
        quality=row.quality,
        oee=row.oee,
        completeness=_completeness(row.planned_seconds, row.no_data_planned_seconds),
        losses=_losses(row, row.micro_seconds, row.ideal_seconds, row.run_seconds, row.quality),
    )


def machine_period(row: q.MachinePeriodRow) -> MachineFigures:
    ppt = row.planned_seconds - row.excluded_seconds
    run = row.running_seconds + row.micro_seconds
    quality = row.good_in_ppt / row.packs_in_ppt if row.packs_in_ppt else None
    if not ppt:
        oee = None
    elif not row.ideal_seconds:
        oee = 0.0
    else:
        oee = None if quality is None else row.ideal_seconds * quality / ppt
    figures = PeriodFigures(
        grain=row.grain,
        start=row.period_start,
        end=row.period_end,
        production_day=row.production_day,
        label=row.label,
        total_packs=row.packs_total,
        good_packs=row.packs_good,
        planned_seconds=row.planned_seconds,
        ppt_seconds=ppt,
        run_seconds=run,
        availability=run / ppt if ppt else None,
        performance=row.ideal_seconds / run if run else None,
        quality=quality,
        oee=oee,
        completeness=_completeness(row.planned_seconds, row.no_data_planned_seconds),
        losses=_losses(row, row.micro_seconds, row.ideal_seconds, run, quality),
    )
    return MachineFigures(
        machine=row.machine,
        line=row.line,
        packs_total=row.packs_total,
        packs_good=row.packs_good,
        suspect_packs=row.suspect_packs,
        state_seconds=json.loads(row.state_seconds),
        mode_seconds=json.loads(row.mode_seconds),
        category_seconds=json.loads(row.category_seconds),
        no_data_seconds=row.no_data_seconds,
        micro_stops=row.micro_stops,
        figures=figures,
    )


async def machine_figures(
    tx: Tx, tenant: str, machine: str, grain: str, start: datetime, end: datetime
) -> list[MachineFigures]:
    """A machine per hour, shift or day, for periods starting in [start, end)."""
    rows = await tx.fetch(q.machine_periods(tenant, machine, grain, start, end))
    return [machine_period(row) for row in rows]


async def machine_minutes(
    tx: Tx, tenant: str, machine: str, start: datetime, end: datetime
) -> list[q.MinuteRow]:
    """A machine per UTC minute in [start, end)."""
    return await tx.fetch(q.machine_minutes(tenant, machine, start, end))


async def line_figures(
    tx: Tx, tenant: str, line: str, grain: str, start: datetime, end: datetime
) -> list[PeriodFigures]:
    """A line per hour, shift or day, for periods starting in [start, end)."""
    return [line_period(r) for r in await tx.fetch(q.line_periods(tenant, line, grain, start, end))]


def site_aggregate(site: str, lines: list[LineFigures]) -> PeriodFigures | None:
    """Planned-time-weighted A, P, Q and OEE of a site's lines over one period."""
    if not lines:
        return None
    first = lines[0].figures
    ppt = sum(x.figures.ppt_seconds for x in lines)
    planned = sum(x.figures.planned_seconds for x in lines)

    def weighted(pick: str) -> float | None:
        values = [(getattr(x.figures, pick), x.figures.ppt_seconds) for x in lines]
        known = [(v, w) for v, w in values if v is not None]
        weight = sum(w for _, w in known)
        return sum(v * w for v, w in known) / weight if weight else None

    losses: dict[str, float] = {}
    for x in lines:
        for key, seconds in x.figures.losses.items():
            losses[key] = losses.get(key, 0.0) + seconds
    incomplete = sum((1 - x.figures.completeness) * x.figures.planned_seconds for x in lines)
    return PeriodFigures(
        grain=first.grain,
        start=min(x.figures.start for x in lines),
        end=max(x.figures.end for x in lines),
        production_day=first.production_day,
        label=first.label,
        total_packs=sum(x.figures.total_packs for x in lines),
        good_packs=sum(x.figures.good_packs for x in lines),
        planned_seconds=planned,
        ppt_seconds=ppt,
        run_seconds=sum(x.figures.run_seconds for x in lines),
        availability=weighted("availability"),
        performance=weighted("performance"),
        quality=weighted("quality"),
        oee=weighted("oee") if ppt else None,
        completeness=1 - incomplete / planned if planned else 1.0,
        losses=losses,
    )


async def site_figures(
    tx: Tx, tenant: str, site: str, grain: str, start: datetime, end: datetime
) -> list[SiteFigures]:
    """A site per hour, shift or day (every line's row, and the site's), periods starting in
    [start, end)."""
    rows = await tx.fetch(q.site_line_periods(tenant, site, grain, start, end))
    by_period: dict[tuple[datetime, str], list[LineFigures]] = {}
    for row in rows:
        key = (row.period_start, row.label)
        by_period.setdefault(key, []).append(
            LineFigures(line=row.line, site=row.site, figures=line_period(row))
        )
    found = []
    for _, lines in sorted(by_period.items()):
        total = site_aggregate(site, lines)
        if total is not None:
            found.append(SiteFigures(site=site, figures=total, lines=lines))
    return found


async def line_day(tx: Tx, tenant: str, line: str, day: date) -> LineDay | None:
    """One line's production day; None when the rollup has no figures for it."""
    rows = await tx.fetch(q.line_day_periods(tenant, line, day))
    head_row = next((r for r in rows if r.grain == "day"), None)
    if head_row is None:
        return None
    periods = [line_period(r) for r in rows]
    headline = line_period(head_row)
    machines = [
        machine_period(r) for r in await tx.fetch(q.machine_days_of_line(tenant, line, day))
    ]
    stops = await tx.fetch(q.stops_of_line_day(tenant, line, day))
    pareto: dict[tuple[str, str | None], list[float]] = {}
    for stop in stops:
        entry = pareto.setdefault((stop.category, stop.reason_code), [0, 0.0])
        entry[0] += 1
        entry[1] += stop.planned_seconds / 60.0
    downtime = sorted(
        (
            DowntimeEntry(category=c, reason=r, count=int(n), minutes=m)
            for (c, r), (n, m) in pareto.items()
        ),
        key=lambda e: (-e.minutes, e.category, e.reason or ""),
    )
    return LineDay(
        line=line,
        site=head_row.site,
        day=day,
        good_packs=headline.good_packs,
        total_packs=headline.total_packs,
        oee=headline.oee,
        availability=headline.availability,
        performance=headline.performance,
        quality=headline.quality,
        planned_seconds=headline.planned_seconds,
        ppt_seconds=headline.ppt_seconds,
        run_seconds=headline.run_seconds,
        completeness=headline.completeness,
        constraint_machine=head_row.constraint_machine,
        end_of_line_machine=head_row.end_of_line_machine,
        losses=headline.losses,
        machines=machines,
        shifts=[p for p in periods if p.grain == "shift"],
        hours=[p for p in periods if p.grain == "hour"],
        downtime=downtime,
        timeline=[
            TimelineEntry(
                machine=s.machine,
                start=s.start,
                end=s.end,
                seconds=s.seconds,
                category=s.category,
                reason_code=s.reason_code,
                reason_text=s.reason_text,
            )
            for s in stops
        ],
    )


async def live(tx: Tx, tenant: str, now: datetime) -> list[LineLive]:
    """Every line's current state (its constraint machine's latest minute with data, within
    the last ten minutes) and its latest production day so far."""
    days = await tx.fetch(q.latest_line_days(tenant, now - timedelta(days=2)))
    minutes = {
        m.machine: m for m in await tx.fetch(q.latest_minutes(tenant, now - timedelta(minutes=10)))
    }
    found = []
    for row in days:
        machines = [
            MachineNow(machine=m.machine, minute=m.minute, state=m.state, category=m.category)
            for name in (row.constraint_machine, row.end_of_line_machine)
            if name is not None and (m := minutes.get(name)) is not None
        ]
        current = minutes.get(row.constraint_machine or "")
        found.append(
            LineLive(
                line=row.line,
                site=row.site,
                state=current.state if current else None,
                category=current.category if current else "no_data",
                as_of=current.minute if current else None,
                machines=machines,
                today=line_period(row),
            )
        )
    return found
