"""A controller: counters wrap at the rollover, a boot zeroes them, states are sent on change."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

from tally.contracts import Context, Counter, MachineMessage, State
from tally.simulator import TransportProfile, build_fleet
from tally.simulator._machines import Machine
from tally.simulator._outbox import Outbox
from tally.simulator._states import BLOCKED, EXECUTE
from tally.simulator._timeline import Job
from tally.simulator._transport import Link, Outages
from tally.simulator._truth import Truth
from tally.simulator._truth_figures import day_times

T0 = int(datetime(2025, 6, 2, 8, tzinfo=UTC).timestamp())


def machine(rollover: int) -> tuple[Machine, Link, Job]:
    placement = build_fleet(1).placements()[0]
    spec = replace(placement.machine, counter_rollover=rollover)
    profile = TransportProfile(outage_mean_gap_hours=1e9, duplicate_probability=0.0)
    link = Link(Outages(random.Random(1), profile, T0), random.Random(1), profile)
    tally = Truth(1, T0).machine(placement, placement.site.calendar())
    box = Outbox(link, tally, profile, skew_s=0, historical=False, boot_id="x", start=T0)
    job = Job(placement.tenant.articles[0], "b1", "o1")
    return Machine(spec, box, tally, random.Random(1), "s1-1"), link, job


def drained(link: Link) -> list[MachineMessage]:
    return [item.message for item in link.drain()]


def test_counter_wraps_to_zero_after_the_rollover() -> None:
    m, _, _ = machine(rollover=9)
    m.add(0, 7)
    m.add(0, 5)
    assert m.values == [2]


def test_boot_zeroes_counters_and_starts_a_new_boot_at_seq_zero() -> None:
    m, link, job = machine(rollover=32_767)
    m.boot(T0, job)
    m.set_state(T0, EXECUTE)
    m.add(0, 500)
    m.sample(T0 + 7)
    m.boot(T0 + 8, job)
    m.outbox.finish()
    messages = drained(link)
    assert [(x.boot_id, x.seq) for x in messages] == [
        ("s1-1-" + str(T0), 0),
        ("s1-1-" + str(T0), 1),
        ("s1-1-" + str(T0 + 8), 0),
    ]
    last = messages[-1].signals
    assert isinstance(last[0], Context)
    assert [s.value for s in last if isinstance(s, Counter)] == [0]
    (day,) = m.tally.days.values()
    assert day.reboots == 1


def test_state_is_sent_only_on_change_and_time_is_booked() -> None:
    m, link, job = machine(rollover=32_767)
    m.boot(T0, job)
    m.set_state(T0, EXECUTE)
    m.set_state(T0 + 10, EXECUTE)
    m.set_state(T0 + 30, BLOCKED)
    m.outbox.finish()
    states = [s for x in drained(link) for s in x.signals if isinstance(s, State)]
    assert [(s.name, s.sub_state) for s in states] == [
        ("Execute", None),
        ("Suspended", "tailback"),
    ]
    assert m.tally.states == [(T0, EXECUTE), (T0 + 30, BLOCKED)]
    (day,) = day_times(m.tally, T0 + 40).values()
    assert day.state_seconds == {"Execute": 30, "Suspended": 10}
