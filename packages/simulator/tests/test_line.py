"""The generated stream agrees with the truth: counters (with resets, reboots and rollovers),
state time, and the starved/blocked picture of a stopped line."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime

import msgspec

from tally.contracts import Counter, MachineMessage, State, Weighing
from tally.simulator import (
    MachineDayTruth,
    MemorySender,
    Simulation,
    TransportProfile,
    build_fleet,
    peak_datapoints_per_second,
)
from tally.simulator._line import Line
from tally.simulator._truth import Truth

# A drop within this distance of the rollover is a wrap; any other drop is a reset.
WRAP_MARGIN = 1000
Run = tuple[Simulation, MemorySender]


def stream(run: Run, machine: str) -> list[MachineMessage]:
    """One machine's distinct messages in the order the machine made them."""
    distinct = {(m.boot_id, m.seq): m for m in run[1].messages("alpenwerk", machine)}
    # Boot ids end in the boot's epoch second, so they sort in boot order.
    order = sorted(distinct, key=lambda key: (int(key[0].rsplit("-", 1)[1]), key[1]))
    return [distinct[key] for key in order]


def rows(run: Run, machine: str) -> list[MachineDayTruth]:
    tenant = run[0].truth.to_file().tenants[0]
    return [row for row in tenant.days if row.machine == machine]


def machines(run: Run) -> list[tuple[str, int, int]]:
    """(id, rollover, skew) of every machine in the run."""
    return [
        (p.machine.id, p.machine.counter_rollover, p.machine.clock_skew_s)
        for p in run[0].fleet.placements()
        if p.tenant.id == "alpenwerk"
    ]


def increases(stream: list[MachineMessage], rollover: int) -> dict[str, list[tuple[float, int]]]:
    """Per counter: (start of the interval, increase) as a reset/rollover-aware consumer sees it."""
    last: dict[str, tuple[str, int, float]] = {}
    found: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for message in stream:
        for signal in message.signals:
            if not isinstance(signal, Counter):
                continue
            at = (signal.ts or message.ts).timestamp()
            before = last.get(signal.name)
            last[signal.name] = (message.boot_id, signal.value, at)
            if before is None:
                continue
            boot, value, since = before
            if boot != message.boot_id:
                step = signal.value  # a new boot counts from zero
            elif signal.value >= value:
                step = signal.value - value
            elif value > rollover - WRAP_MARGIN:
                step = rollover + 1 - value + signal.value
            else:
                step = signal.value  # an operator reset
            found[signal.name].append((since, step))
    return found


def test_sixteen_bit_counters_roll_over_within_the_day(day_run: Run) -> None:
    slicer = "l1-slicer"
    values = [
        s.value
        for m in stream(day_run, slicer)
        for s in m.signals
        if isinstance(s, Counter) and s.name == "cycles"
    ]
    drops = [a for a, b in itertools.pairwise(values) if b < a]
    assert max(values) > 32_000
    assert any(a > 32_767 - WRAP_MARGIN for a in drops)


def test_counter_increases_equal_the_truth(day_run: Run) -> None:
    for machine, rollover, _ in machines(day_run):
        truth: dict[str, int] = defaultdict(int)
        for row in rows(day_run, machine):
            for name, value in row.counters.items():
                truth[name] += value
        found = increases(stream(day_run, machine), rollover)
        assert {name: sum(step for _, step in steps) for name, steps in found.items()} == truth


def test_counter_increases_per_production_day(day_run: Run) -> None:
    # The truth is kept in device time: a skewed clock's packs count where its stamps put them.
    for machine, rollover, _ in machines(day_run):
        found = increases(stream(day_run, machine), rollover)
        for row in rows(day_run, machine):
            start, end = row.day_start.timestamp(), row.day_end.timestamp()
            for name, value in row.counters.items():
                assert sum(n for at, n in found[name] if start <= at < end) == value


def test_resets_and_reboots_happen(day_run: Run) -> None:
    all_rows = [row for m, _, _ in machines(day_run) for row in rows(day_run, m)]
    assert sum(row.counter_resets for row in all_rows) > 0
    reboots = sum(row.reboots for row in all_rows)
    boots = {
        (machine, message.boot_id)
        for machine, _, _ in machines(day_run)
        for message in stream(day_run, machine)
    }
    assert len(boots) == len(machines(day_run)) + reboots


def test_state_seconds_cover_the_span(day_run: Run) -> None:
    truth = day_run[0].truth
    assert truth.end - truth.start == 26 * 3600
    for machine, _, skew in machines(day_run):
        found = rows(day_run, machine)
        # From the first production day's start (no data until the first state) to the end.
        covered = truth.end + skew - found[0].day_start.timestamp()
        states = sum(sum(r.state_seconds.values()) for r in found)
        assert states + sum(r.no_data_seconds for r in found) == covered
        assert sum(sum(r.mode_seconds.values()) for r in found) == states


def test_a_dst_production_day_has_23_hours(day_run: Run) -> None:
    berlin = [r for r in rows(day_run, "l1-slicer") if str(r.production_day) == "2025-03-29"]
    assert (berlin[0].day_end - berlin[0].day_start).total_seconds() == 23 * 3600


def test_a_held_thermoformer_blocks_and_starves_its_neighbours(day_run: Run) -> None:
    skews = {machine: skew for machine, _, skew in machines(day_run)}
    timelines: dict[str, list[tuple[float, State]]] = {}
    for kind in ("slicer", "thermoformer", "checkweigher", "labeller"):
        machine = f"l1-{kind}"
        timelines[kind] = [
            ((s.ts or m.ts).timestamp() - skews[machine], s)
            for m in stream(day_run, machine)
            for s in m.signals
            if isinstance(s, State)
        ]

    def state_at(kind: str, t: float) -> tuple[str, str | None]:
        timeline = timelines[kind]
        state = timeline[bisect_right(timeline, t, key=lambda entry: entry[0]) - 1][1]
        return state.name, state.sub_state

    held = [t for t, s in timelines["thermoformer"] if s.name == "Held"]
    assert held
    for t in held:
        assert state_at("slicer", t) == ("Suspended", "tailback")
        assert state_at("checkweigher", t) == ("Suspended", "lack")
        assert state_at("labeller", t) == ("Suspended", "lack")


def test_weighings_add_up_to_the_checkweigher_truth(day_run: Run) -> None:
    weighings = [
        s for m in stream(day_run, "l1-checkweigher") for s in m.signals if isinstance(s, Weighing)
    ]
    truth = rows(day_run, "l1-checkweigher")
    assert len(weighings) == sum(r.packs_total for r in truth)
    assert sum(w.accepted for w in weighings) == sum(r.packs_good for r in truth)
    accepted_dg = sum(round(w.net_g * 10) for w in weighings if w.accepted)
    assert accepted_dg == sum(a.net_dg for r in truth for a in r.articles)
    # One decimal on the wire: the decigrams are exactly what was sent.
    assert all(round(w.net_g * 10) / 10 == w.net_g for w in weighings)


def run_line(chunks: list[int]) -> tuple[list[bytes], bytes]:
    fleet = build_fleet(2, tenants=1, lines_per_site=1)
    tenant = fleet.tenants[0]
    site = tenant.sites[0]
    start = int(datetime(2025, 6, 2, 3, tzinfo=UTC).timestamp())
    truth = Truth(2, start)
    line = Line(
        tenant,
        site,
        site.lines[0],
        seed=2,
        start=start,
        truth=truth,
        profile=TransportProfile(),
        historical=False,
    )
    sent = []
    for until in chunks:
        line.advance(start + until)
        for link in line.links:
            sent += [msgspec.json.encode(item.message) for item in link.due(start + until)]
    line.finish()
    for link in line.links:
        sent += [msgspec.json.encode(item.message) for item in link.drain()]
    truth.end = start + chunks[-1]
    return sorted(sent), truth.to_json()


def test_pacing_does_not_change_what_is_generated() -> None:
    assert run_line([4 * 3600]) == run_line([*range(7, 4 * 3600, 613), 4 * 3600])


def test_the_peak_rate_bounds_the_busiest_minutes_and_is_reached(day_run: Run) -> None:
    tenant = next(t for t in day_run[0].fleet.tenants if t.id == "alpenwerk")
    per_minute: dict[int, int] = defaultdict(int)
    for machine, _, _ in machines(day_run):
        for message in stream(day_run, machine):
            for signal in message.signals:
                per_minute[int((signal.ts or message.ts).timestamp()) // 60] += 1
    busiest = sorted(per_minute.values())[-10:]

    peak = peak_datapoints_per_second(tenant) * 60
    # States, alarms and reboots come on top now and then, never by much.
    assert busiest[-1] <= peak * 1.1
    # Not a bound that holds for being far too high: the busiest minutes come close to it.
    assert busiest[0] >= peak * 0.85
