"""Messages: one window each, stamped at the window's end, never later than their signals allow."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tally.contracts import Counter, MachineMessage
from tally.simulator import TransportProfile, build_fleet
from tally.simulator._machine_tally import MachineTally
from tally.simulator._outbox import Outbox
from tally.simulator._transport import Link, Outages
from tally.simulator._truth import Truth

T0 = int(datetime(2025, 6, 2, 8, tzinfo=UTC).timestamp())


def outbox(skew: int = 0, max_signals: int = 200) -> tuple[Outbox, Link, MachineTally]:
    fleet = build_fleet(1)
    placement = fleet.placements()[0]
    profile = TransportProfile(
        outage_mean_gap_hours=1e9, duplicate_probability=0.0, max_signals_per_message=max_signals
    )
    link = Link(Outages(random.Random(1), profile, T0), random.Random(1), profile)
    tally = Truth(1, T0).machine(placement, placement.site.calendar())
    box = Outbox(link, tally, profile, skew_s=skew, historical=False, boot_id="b0", start=T0)
    return box, link, tally


def put(box: Outbox, t: float, value: int) -> None:
    box.add(Counter(name="packs_total", value=value, ts=box.at(t)))


def sent(link: Link) -> list[MachineMessage]:
    return [item.message for item in link.drain()]


def test_window_end_stamps_the_message_and_its_last_signal() -> None:
    box, link, _ = outbox()
    put(box, T0 + 1, 1)
    put(box, T0 + 5, 2)
    put(box, T0 + 6, 3)  # opens the next window
    (message,) = sent(link)
    assert message.ts == datetime.fromtimestamp(T0 + 5, UTC)
    first, last = message.signals
    assert first.ts == datetime.fromtimestamp(T0 + 1, UTC)
    assert last.ts is None
    assert message.seq == 0


def test_skew_shifts_every_timestamp() -> None:
    box, link, _ = outbox(skew=-4)
    put(box, T0 + 2, 1)
    box.flush(T0 + 6)
    (message,) = sent(link)
    assert message.ts == datetime.fromtimestamp(T0 + 1, UTC)
    assert message.signals[0].ts == datetime.fromtimestamp(T0 - 2, UTC)


def test_a_full_window_closes_early_at_its_last_signal() -> None:
    box, link, _ = outbox(max_signals=3)
    for i in range(4):
        put(box, T0 + 1 + i * 0.5, i)
    box.flush(T0 + 10)
    first, second = sent(link)
    assert first.ts == datetime.fromtimestamp(T0 + 2, UTC)
    assert len(first.signals) == 3
    assert (second.seq, len(second.signals)) == (1, 1)


def test_reboot_starts_a_new_boot_at_seq_zero() -> None:
    box, link, _ = outbox()
    put(box, T0 + 1, 7)
    box.reboot(T0 + 2, "b1")
    put(box, T0 + 3, 0)
    box.finish()
    first, second = sent(link)
    assert (first.boot_id, first.seq, first.ts.timestamp()) == ("b0", 0, T0 + 2)
    assert (second.boot_id, second.seq) == ("b1", 0)


def test_messages_and_datapoints_land_in_the_truth() -> None:
    box, link, tally = outbox()
    for i in range(12):
        put(box, T0 + i, i)
    box.finish()
    messages = sent(link)
    (day,) = tally.days.values()
    assert (day.messages, day.datapoints) == (len(messages), 12)
