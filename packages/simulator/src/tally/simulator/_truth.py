"""The ground truth: what the simulator really generated, as FIGURES.md's figures.

Kept in DEVICE time (see `_machine_tally.py`), computed only from what the simulator generated —
its own states with the categories it meant, its own packs and weighings — and the site's plan
through the shared calendar; never with the platform's code. `to_file()` gives rows per machine
and production day, per line and production day, and per ℮ lot; `_truth_file.py` documents them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from tally.calendar import SiteCalendar
from tally.simulator._fleet import Placement
from tally.simulator._machine_tally import DayTally, MachineTally
from tally.simulator._truth_figures import DayTime, day_times, oee
from tally.simulator._truth_file import (
    LineDayTruth,
    MachineDayTruth,
    OeeTruth,
    TenantTruth,
    TruthFile,
)
from tally.simulator._truth_rows import article_days, line_weighings, lot_rows


class Truth:
    """The ground truth of one simulation run. [start, end) is the span generated, true time;
    `end` is the furthest any line got (all lines get equally far unless the run was stopped)."""

    def __init__(self, seed: int, start: int) -> None:
        self.seed = seed
        self.start = start
        self.end = start
        self._machines: list[MachineTally] = []

    def machine(self, placement: Placement, calendar: SiteCalendar) -> MachineTally:
        """Register a machine and return its tally."""
        tally = MachineTally(placement, calendar, placement.tenant.settings)
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
        by_tenant: dict[str, list[MachineTally]] = {}
        for machine in self._machines:
            by_tenant.setdefault(machine.placement.tenant.id, []).append(machine)
        return TruthFile(
            seed=self.seed,
            start=datetime.fromtimestamp(self.start, UTC),
            end=datetime.fromtimestamp(self.end, UTC),
            time_basis="device",
            tenants=[self._tenant(machines) for _, machines in sorted(by_tenant.items())],
        )

    def to_json(self) -> bytes:
        """The truth file as JSON."""
        return msgspec.json.encode(self.to_file())

    def _tenant(self, machines: list[MachineTally]) -> TenantTruth:
        tenant = machines[0].placement.tenant
        rows = [row for machine in machines for row in self._machine_days(machine)]
        lots = [lot for machine in machines for lot in lot_rows(machine)]
        settings = tenant.settings
        return TenantTruth(
            tenant=tenant.id,
            micro_stop_seconds=settings.micro_stop_seconds,
            gap_seconds=settings.gap_seconds,
            changeover_is_loss=settings.changeover_is_loss,
            cleaning_is_loss=settings.cleaning_is_loss,
            messages=sum(row.messages for row in rows),
            datapoints=sum(row.datapoints for row in rows),
            duplicates_sent=sum(row.duplicates_sent for row in rows),
            days=rows,
            lines=_line_days(machines, rows),
            lots=sorted(lots, key=lambda lot: (lot.machine, lot.hour_start, lot.article)),
        )

    def _machine_days(self, machine: MachineTally) -> Iterable[MachineDayTruth]:
        skew = machine.skew
        end = self.end + skew
        times = day_times(machine, end)
        counted = machine.days
        for name in sorted(set(times) | set(counted)):
            span = times[name].day if name in times else counted[name].span
            complete = self.start + skew <= span.start and span.end <= end
            time = times.get(name) or DayTime(span)
            day = counted.get(name) or DayTally(span)
            yield _machine_row(machine, complete, time, day)


def _machine_row(
    machine: MachineTally, complete: bool, time: DayTime, day: DayTally
) -> MachineDayTruth:
    placement = machine.placement
    span = time.day
    ppt_total = sum(day.ppt_packs.values())
    quality = day.ppt_good / ppt_total if ppt_total else None
    return MachineDayTruth(
        site=placement.site.id,
        line=placement.line.id,
        machine=placement.machine.id,
        machine_type=placement.machine.type,
        clock_skew_s=machine.skew,
        production_day=span.date,
        day_start=datetime.fromtimestamp(span.start, UTC),
        day_end=datetime.fromtimestamp(span.end, UTC),
        complete=complete,
        packs_total=day.packs_total,
        packs_good=day.packs_good,
        counters=dict(sorted(day.counters.items())),
        counter_resets=day.counter_resets,
        reboots=day.reboots,
        state_seconds=dict(sorted(time.state_seconds.items())),
        mode_seconds=dict(sorted(time.mode_seconds.items())),
        category_seconds=dict(sorted(time.category_seconds.items())),
        no_data_seconds=time.no_data,
        completeness=time.completeness,
        planned_seconds=time.planned,
        excluded_seconds=time.excluded,
        running_seconds=time.running,
        micro_stops=time.micro_stops,
        stops=time.stops,
        packs_in_ppt=ppt_total,
        good_in_ppt=day.ppt_good,
        figures=oee(time.ppt, time.running, time.micro, time.losses, _ideal(machine, day), quality),
        articles=article_days(machine, span.date, day),
        messages=day.messages,
        datapoints=day.datapoints,
        duplicates_sent=day.duplicates_sent,
    )


def _ideal(machine: MachineTally, day: DayTally) -> float:
    """Seconds the packs made in planned time take at their articles' ideal rates."""
    tenant = machine.placement.tenant
    return sum(
        packs * 60.0 / tenant.article(article).ideal_rate_ppm
        for article, packs in sorted(day.ppt_packs.items())
    )


def _line_days(machines: list[MachineTally], rows: list[MachineDayTruth]) -> list[LineDayTruth]:
    """A line's day from its thermoformer's row and its checkweigher's row of that day."""
    by_machine = {(row.machine, row.production_day): row for row in rows}
    lines = []
    for row in rows:
        if row.machine_type != "thermoformer":
            continue
        line = next(m.placement.line for m in machines if m.placement.machine.id == row.machine)
        weigher = next(m.id for m in line.machines if m.type == "checkweigher")
        end = by_machine.get((weigher, row.production_day))
        if end is not None:
            lines.append(_line_row(row, end))
    return sorted(lines, key=lambda line: (line.line, line.production_day))


def _line_row(constraint: MachineDayTruth, end: MachineDayTruth) -> LineDayTruth:
    mine = constraint.figures
    quality = end.good_in_ppt / end.packs_in_ppt if end.packs_in_ppt else None
    micro = mine.losses.micro_stop_seconds
    figures: OeeTruth = oee(
        mine.ppt_seconds,
        mine.run_seconds - micro,
        micro,
        dict(mine.losses.availability_seconds),
        mine.ideal_seconds,
        quality,
    )
    totals = line_weighings(end.articles)
    return LineDayTruth(
        site=constraint.site,
        line=constraint.line,
        production_day=constraint.production_day,
        complete=constraint.complete and end.complete,
        constraint_machine=constraint.machine,
        end_of_line_machine=end.machine,
        packs_total=end.packs_total,
        packs_good=end.packs_good,
        rejects_by_reason=totals.rejects_by_reason,
        kg=totals.kg,
        kg_declared=totals.kg_declared,
        giveaway_dg=totals.giveaway_dg,
        giveaway_g=totals.giveaway_g,
        giveaway_value=totals.giveaway_value,
        figures=figures,
    )


def write_truth(truth: Truth, path: str | Path) -> None:
    """Write the truth file (JSON) to path."""
    Path(path).write_bytes(msgspec.json.format(truth.to_json(), indent=1))


def read_truth(path: str | Path) -> TruthFile:
    """Read a truth file written by `write_truth`."""
    return msgspec.json.decode(Path(path).read_bytes(), type=TruthFile)
