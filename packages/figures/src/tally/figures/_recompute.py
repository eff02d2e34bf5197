"""The rollup's entry point: recompute every bucket a stored range touched, from the raw rows.

`recompute(tx, snapshot, touched)` widens the range to the minutes it can change (`_extent.py`),
recomputes those minutes of the machine (`_machine_range.py`) with the stops and suspect jumps
that begin in them, derives the hours, shifts and days of their production days from the
minutes in SQL, runs every other recomputer of `RECOMPUTERS` over the range, and derives the
lines' periods of those days set-based from the machines' periods. Whole buckets are replaced,
so running it twice, or for ranges in any order, leaves the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import msgspec

from tally.calendar import ProductionDay, SiteCalendar
from tally.figures import _raw, _store
from tally.figures._extent import Extent
from tally.figures._machine_range import MachineRange, RawRange, Span, machine_range, utc
from tally.figures._weighings_recompute import recompute_weighings
from tally.registry import RegistrySnapshot
from tally.sdk import Tx

# Another figure's recomputation over one machine's stored range [start, end] (device time),
# in the same transaction: `recompute_weighings(tx, tenant, machine, start, end)` joins here.
Recomputer = Callable[[Tx, str, str, datetime, datetime], Awaitable[None]]
RECOMPUTERS: tuple[Recomputer, ...] = (recompute_weighings,)


class Touched(msgspec.Struct, frozen=True, kw_only=True):
    """What changed: one machine's device-time range [start, end], epoch seconds."""

    tenant: str
    machine: str
    start: float
    end: float


async def recompute(tx: Tx, snapshot: RegistrySnapshot, touched: Touched) -> list[date]:
    """Recompute the buckets `touched` can change; returns the production days whose periods
    were derived again."""
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
    if view is None:
        return []
    calendar = view.site.calendar
    settings = snapshot.settings
    machine_view = snapshot.machine(machine)
    pack_counter = settings.pack_counter(machine_view.kind) if machine_view else "packs_total"
    counters = sorted({pack_counter, settings.good_counter})
    span = await Extent(tx, snapshot, machine, counters, calendar).of(touched.start, touched.end)
    if span is None:
        return []
    raw = await _read(tx, tenant, machine, span, pack_counter, settings.good_counter)
    result = machine_range(
        snapshot, machine, calendar, span, raw, pack_counter, settings.good_counter
    )
    await _replace(tx, snapshot, machine, view.site.site, result)
    days = sorted({place.production_day for place in result.places.values()})
    for name in days:
        day = calendar.day(name)
        start, end = utc(day.start), utc(day.end)
        await tx.execute(_store.delete_periods(tenant, machine, name, start, end))
        await tx.execute(_store.insert_periods(tenant, machine, name, start, end))
    for recomputer in RECOMPUTERS:
        await recomputer(tx, tenant, machine, utc(touched.start), utc(touched.end))
    for name in days:
        day = calendar.day(name)
        for member in sorted({m.line for m in snapshot.memberships(machine, day.start, day.end)}):
            await recompute_line_day(tx, snapshot, member, day)
    return days


async def _read(
    tx: Tx, tenant: str, machine: str, span: Span, pack_counter: str, good_counter: str
) -> RawRange:
    start, end = utc(span.start), utc(span.end)
    # A stop the span cuts into is read from its start: its row is recomputed whole.
    since = utc(min(span.start, span.stop_start)) if span.stop_start is not None else start
    good = (
        await tx.fetch(_raw.counter_samples(tenant, machine, good_counter, start, end))
        if good_counter != pack_counter
        else []
    )
    return RawRange(
        states=await tx.fetch(_raw.states_between(tenant, machine, since, end)),
        message_times=[
            r.t for r in await tx.fetch(_raw.message_times(tenant, machine, since, end))
        ],
        packs=await tx.fetch(_raw.counter_samples(tenant, machine, pack_counter, start, end)),
        # A machine that sends no good counter: all its packs are good.
        good=good or None,
        alarms=await tx.fetch(
            _raw.first_out_alarms(tenant, machine, since - timedelta(seconds=5), end)
        ),
        articles=await tx.fetch(_raw.article_changes(tenant, machine, start, end)),
    )


def _longest(seconds: dict[str, float]) -> str | None:
    return max(seconds, key=lambda k: seconds[k]) if seconds else None


def _json(seconds: dict[str, float]) -> str:
    return json.dumps(seconds, sort_keys=True)


async def _replace(
    tx: Tx, snapshot: RegistrySnapshot, machine: str, site: str, result: MachineRange
) -> None:
    tenant = snapshot.tenant
    span = result.span
    start, end = utc(span.start), utc(span.end)
    await tx.execute(_store.delete_minutes(tenant, machine, start, end))
    await tx.execute(_store.delete_stops(tenant, machine, start, end))
    if span.stop_start is not None:
        # The row of the stop the span cut into (it began before the span).
        await tx.execute(_store.delete_stops(tenant, machine, utc(span.stop_start), start))
    await tx.execute(_store.delete_suspects(tenant, machine, start, end))
    minutes = sorted(result.minutes.items())
    places = [result.places[m] for m, _ in minutes]
    await tx.execute(
        _store.insert_minutes(
            tenant,
            machine,
            site,
            [utc(m) for m, _ in minutes],
            [snapshot.line_at(machine, m) for m, _ in minutes],
            [p.production_day for p in places],
            [utc(p.hour_start) for p in places],
            [utc(p.hour_end) for p in places],
            [p.hour_label for p in places],
            [p.shift_name for p in places],
            [utc(p.shift_start) if p.shift_start is not None else None for p in places],
            [utc(p.shift_end) if p.shift_end is not None else None for p in places],
            [t.packs_total for _, t in minutes],
            [t.packs_good for _, t in minutes],
            [t.packs_in_ppt for _, t in minutes],
            [t.good_in_ppt for _, t in minutes],
            [t.suspect_packs for _, t in minutes],
            [t.ideal_seconds for _, t in minutes],
            [t.planned for _, t in minutes],
            [t.excluded for _, t in minutes],
            [t.running for _, t in minutes],
            [t.micro for _, t in minutes],
            [t.micro_stops for _, t in minutes],
            [t.no_data for _, t in minutes],
            [t.no_data_planned for _, t in minutes],
            [_longest(t.state_seconds) for _, t in minutes],
            [_longest(t.category_seconds) or "no_data" for _, t in minutes],
            [_json(t.state_seconds) for _, t in minutes],
            [_json(t.mode_seconds) for _, t in minutes],
            [_json(t.category_seconds) for _, t in minutes],
            [_json(t.losses) for _, t in minutes],
        )
    )
    stops = result.stops
    await tx.execute(
        _store.insert_stops(
            tenant,
            machine,
            snapshot.line_at(machine, span.start),
            [utc(s.start) for s in stops],
            [utc(s.end) for s in stops],
            [s.planned_seconds for s in stops],
            [s.category for s in stops],
            [s.reason_code for s in stops],
            [s.reason_text for s in stops],
            [s.production_day for s in stops],
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


def calendar_of(snapshot: RegistrySnapshot, machine: str) -> SiteCalendar | None:
    """The calendar of the site the machine stands in now (or stood in last)."""
    members = snapshot.memberships(machine, float("-inf"), float("inf"))
    view = snapshot.line(members[-1].line) if members else None
    return view.site.calendar if view else None
