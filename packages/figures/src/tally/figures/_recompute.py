"""The rollup's entry point: recompute every bucket a stored range touched, from the raw rows.

`recompute(tx, snapshot, touched)` finds the production days the range reaches, recomputes each
of the machine's days (`_machine_day.py`, written by `_store.py`), runs every other recomputer
of `RECOMPUTERS` over the range, and derives the lines' periods of those days set-based from the
machines' periods. Whole buckets are replaced, so running it twice, or for ranges in any order,
leaves the same rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import msgspec

from tally.calendar import ProductionDay, SiteCalendar
from tally.figures import _raw, _store
from tally.figures._conditions import RUNNING
from tally.figures._machine_day import MARGIN_SECONDS, MachineDay, RawDay, machine_day, utc
from tally.registry import RegistrySnapshot
from tally.sdk import Tx

# Another figure's recomputation over one machine's stored range [start, end] (device time),
# in the same transaction: `recompute_weighings(tx, tenant, machine, start, end)` joins here.
Recomputer = Callable[[Tx, str, str, datetime, datetime], Awaitable[None]]
RECOMPUTERS: tuple[Recomputer, ...] = ()

# Data this close to a day's bounds may change the neighbouring day too: a stop reaching over
# the bound is listed there, a state carried over holds there.
NEIGHBOUR_SECONDS = 3600


class Touched(msgspec.Struct, frozen=True, kw_only=True):
    """What changed: one machine's device-time range [start, end], epoch seconds."""

    tenant: str
    machine: str
    start: float
    end: float


def touched_days(calendar: SiteCalendar, start: float, end: float) -> list[ProductionDay]:
    """The production days a stored range [start, end] changes, none in the future."""
    days = list(calendar.days(start, end + 1))
    if not days:
        return []
    first, last = days[0], days[-1]
    if start - first.start < NEIGHBOUR_SECONDS:
        days.insert(0, calendar.day_of(first.start - 1))
    upcoming = calendar.day_of(last.end)
    if last.end - end < NEIGHBOUR_SECONDS and upcoming.start <= time.time():
        days.append(upcoming)
    return days


async def recompute(tx: Tx, snapshot: RegistrySnapshot, touched: Touched) -> list[ProductionDay]:
    """Recompute the buckets of every production day `touched` reaches; returns those days."""
    tenant, machine = touched.tenant, touched.machine
    lines = sorted(
        {m.line for m in snapshot.memberships(machine, touched.start - 86400, touched.end + 86400)}
    )
    # One writer per machine and per line at a time, whatever the process: a line's rows are
    # derived from two machines' rows, and two transactions each seeing the other's old rows
    # would leave a stale line behind.
    for key in sorted([f"m:{tenant}:{machine}", *(f"l:{tenant}:{line}" for line in lines)]):
        await tx.connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", key)
    line = snapshot.line_at(machine, touched.start) or (lines[0] if lines else None)
    view = snapshot.line(line) if line else None
    start, end = await reach(tx, snapshot, touched)
    days = touched_days(view.site.calendar, start, end) if view else []
    for day in days:
        day_line = snapshot.line_at(machine, day.start) or line
        day_view = snapshot.line(day_line) if day_line else None
        if day_view is None:
            continue
        await _machine_day(
            tx, snapshot, machine, day_line, day_view.site.site, day_view.site.calendar, day
        )
    for recomputer in RECOMPUTERS:
        await recomputer(tx, tenant, machine, utc(touched.start), utc(touched.end))
    for day in days:
        for member in snapshot.memberships(machine, day.start, day.end):
            await recompute_line_day(tx, snapshot, member.line, day)
    return days


async def reach(tx: Tx, snapshot: RegistrySnapshot, touched: Touched) -> tuple[float, float]:
    """The range whose figures the touched range can change: back to the start of the stop
    it falls in (its length, and the day it is listed on, may change), forward to the next
    state change (the state it leaves holds until then)."""
    tenant, machine = touched.tenant, touched.machine
    after = await tx.fetch_one(_raw.reach_after(tenant, machine, utc(touched.end)))
    end = max(touched.end, after.t or touched.end)
    start = touched.start
    for state in await tx.fetch(_raw.states_before(tenant, machine, utc(touched.start))):
        if snapshot.category(state.model, state.name, state.mode, state.sub_state) == RUNNING:
            break
        start = state.t
    return start, end


async def _machine_day(
    tx: Tx,
    snapshot: RegistrySnapshot,
    machine: str,
    line: str | None,
    site: str,
    calendar: SiteCalendar,
    day: ProductionDay,
) -> None:
    tenant = snapshot.tenant
    settings = snapshot.settings
    view = snapshot.machine(machine)
    pack_counter = settings.pack_counter(view.kind) if view else "packs_total"
    good_counter = settings.good_counter
    start, end = utc(day.start), utc(day.end)
    wide_start = utc(day.start - MARGIN_SECONDS)
    wide_end = utc(day.end + MARGIN_SECONDS)
    good = await tx.fetch(_raw.counter_samples(tenant, machine, good_counter, start, end))
    raw = RawDay(
        states=await tx.fetch(_raw.states_between(tenant, machine, wide_start, wide_end)),
        message_times=[
            r.t for r in await tx.fetch(_raw.message_times(tenant, machine, wide_start, wide_end))
        ],
        packs=await tx.fetch(_raw.counter_samples(tenant, machine, pack_counter, start, end)),
        # A machine that sends no good counter: all its packs are good.
        good=good if good or pack_counter == good_counter else None,
        alarms=await tx.fetch(
            _raw.first_out_alarms(tenant, machine, wide_start - timedelta(seconds=5), wide_end)
        ),
        articles=await tx.fetch(_raw.article_changes(tenant, machine, start, end)),
    )
    if pack_counter == good_counter:
        raw = RawDay(raw.states, raw.message_times, raw.packs, None, raw.alarms, raw.articles)
    await _delete(tx, tenant, machine, day)
    # A day without a message of the machine has no buckets (whether the rollup or a rebuild
    # reached it): a machine silent all day is listed as silent, not as a day of no data.
    if any(day.start <= t < day.end for t in raw.message_times):
        result = machine_day(snapshot, machine, calendar, day, raw, pack_counter, good_counter)
        await _write(tx, tenant, machine, line, site, result)


async def _delete(tx: Tx, tenant: str, machine: str, day: ProductionDay) -> None:
    start, end = utc(day.start), utc(day.end)
    await tx.execute(_store.delete_minutes(tenant, machine, start, end))
    await tx.execute(_store.delete_periods(tenant, machine, day.date, start, end))
    await tx.execute(
        _store.delete_stops(tenant, machine, day.date, utc(day.start - 86400), utc(day.end))
    )
    await tx.execute(_store.delete_suspects(tenant, machine, start, end))


async def _write(
    tx: Tx, tenant: str, machine: str, line: str | None, site: str, result: MachineDay
) -> None:
    day = result.day
    minutes = sorted(result.minutes.items())
    states = [
        max(t.state_seconds, key=lambda k: t.state_seconds[k]) if t.state_seconds else None
        for _, t in minutes
    ]
    categories = [
        max(t.category_seconds, key=lambda k: t.category_seconds[k])
        if t.category_seconds
        else "no_data"
        for _, t in minutes
    ]
    await tx.execute(
        _store.insert_minutes(
            tenant,
            machine,
            line,
            day.date,
            [utc(m) for m, _ in minutes],
            [t.packs_total for _, t in minutes],
            [t.packs_good for _, t in minutes],
            [t.ideal_seconds for _, t in minutes],
            [t.planned for _, t in minutes],
            [t.running for _, t in minutes],
            [t.no_data for _, t in minutes],
            states,
            categories,
            [json.dumps(t.state_seconds) for _, t in minutes],
        )
    )
    periods = result.periods
    await tx.execute(
        _store.insert_periods(
            tenant,
            machine,
            day.date,
            line,
            site,
            [p.grain for p in periods],
            [utc(p.start) for p in periods],
            [utc(p.end) for p in periods],
            [p.label for p in periods],
            [p.tally.packs_total for p in periods],
            [p.tally.packs_good for p in periods],
            [p.tally.packs_in_ppt for p in periods],
            [p.tally.good_in_ppt for p in periods],
            [p.tally.suspect_packs for p in periods],
            [p.tally.ideal_seconds for p in periods],
            [p.tally.planned for p in periods],
            [p.tally.excluded for p in periods],
            [p.tally.running for p in periods],
            [p.tally.micro for p in periods],
            [p.tally.micro_stops for p in periods],
            [p.tally.no_data for p in periods],
            [p.tally.no_data_planned for p in periods],
            [json.dumps(p.tally.state_seconds, sort_keys=True) for p in periods],
            [json.dumps(p.tally.mode_seconds, sort_keys=True) for p in periods],
            [json.dumps(p.tally.category_seconds, sort_keys=True) for p in periods],
            [json.dumps(p.tally.losses, sort_keys=True) for p in periods],
        )
    )
    stops = result.stops
    await tx.execute(
        _store.insert_stops(
            tenant,
            machine,
            day.date,
            line,
            [utc(s.start) for s in stops],
            [utc(s.end) for s in stops],
            [s.planned_seconds for s in stops],
            [s.category for s in stops],
            [s.reason_code for s in stops],
            [s.reason_text for s in stops],
        )
    )
    suspects = result.suspects
    await tx.execute(
        _store.insert_suspects(
            tenant,
            machine,
            [counter for _, counter in suspects],
            [utc(inc.end) for inc, _ in suspects],
            [utc(inc.start) for inc, _ in suspects],
            [inc.amount for inc, _ in suspects],
        )
    )


async def recompute_line_day(
    tx: Tx, snapshot: RegistrySnapshot, line: str, day: ProductionDay
) -> None:
    """A line's periods of a day, from its constraint and end-of-line machines' periods."""
    await tx.execute(_store.delete_line_day(snapshot.tenant, line, day.date))
    view = snapshot.line(line)
    constraint = snapshot.constraint_machine(line, day.start)
    end_of_line = snapshot.end_of_line_machine(line, day.start)
    if view is None or constraint is None or end_of_line is None:
        return
    await tx.execute(
        _store.insert_line_day(
            snapshot.tenant, line, constraint, end_of_line, view.site.site, day.date
        )
    )
