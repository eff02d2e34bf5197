"""Transport faults: outages replayed as historical, duplicates re-sent identically, reordering."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import msgspec

from tally.contracts import Counter, MachineMessage, Upload
from tally.simulator import MemorySender, Simulation, TransportProfile
from tally.simulator._transport import Link, Outages, uploads

Run = tuple[Simulation, MemorySender]
T0 = 1_750_000_000


def message(seq: int, historical: bool = False) -> MachineMessage:
    return MachineMessage(
        boot_id="b1",
        seq=seq,
        ts=datetime.fromtimestamp(T0 + 5 * seq, UTC),
        signals=[Counter(name="packs_total", value=seq)],
        historical=historical,
    )


def link(profile: TransportProfile, seed: int = 1) -> Link:
    return Link(Outages(random.Random(seed), profile, T0), random.Random(seed), profile)


def test_outage_buffers_then_replays_at_its_end() -> None:
    profile = TransportProfile(
        outage_mean_gap_hours=0.5, duplicate_probability=0.0, reorder_probability=0.0
    )
    queue = link(profile)
    received: dict[int, int] = {}
    back_at: dict[int, int] = {}
    for seq in range(2000):
        t = T0 + 5 * seq
        back = queue.offline_until(t)
        if back is not None:
            back_at[seq] = back
        queue.submit(message(seq, back is not None), t)
        for item in queue.due(t):
            received[item.message.seq] = t
    assert back_at
    for seq, back in back_at.items():
        if back <= T0 + 5 * 1999:
            assert back <= received[seq] < back + 5
    on_time = [seq for seq in received if seq not in back_at]
    assert all(received[seq] == T0 + 5 * seq for seq in on_time)


def test_duplicates_are_identical_and_come_later() -> None:
    profile = TransportProfile(outage_mean_gap_hours=1e9, duplicate_probability=0.1)
    queue = link(profile)
    for seq in range(500):
        queue.submit(message(seq), T0 + 5 * seq)
    sent = queue.drain()
    duplicates = [item for item in sent if item.duplicate]
    assert 20 < len(duplicates) < 90
    first_position: dict[int, int] = {}
    for position, item in enumerate(sent):
        first_position.setdefault(item.message.seq, position)
    for position, item in enumerate(sent):
        if item.duplicate:
            assert first_position[item.message.seq] < position
    originals = {item.message.seq: item.message for item in sent if not item.duplicate}
    assert all(originals[d.message.seq] == d.message for d in duplicates)


def test_reordering_swaps_neighbours() -> None:
    profile = TransportProfile(
        outage_mean_gap_hours=1e9, duplicate_probability=0.0, reorder_probability=0.05
    )
    queue = link(profile)
    for seq in range(1000):
        queue.submit(message(seq), T0 + 5 * seq)
    order = [item.message.seq for item in queue.drain()]
    assert sorted(order) == list(range(1000))
    assert order != sorted(order)
    assert all(abs(position - seq) <= 2 for position, seq in enumerate(order))


def test_uploads_hold_at_most_the_limit() -> None:
    profile = TransportProfile(outage_mean_gap_hours=1e9, duplicate_probability=0.0)
    queue = link(profile)
    for seq in range(1203):
        queue.submit(message(seq), T0)
    assert [len(batch) for batch in uploads(queue.drain(), 500)] == [500, 500, 203]


def test_the_run_has_every_fault(day_run: Run) -> None:
    simulation, sender = day_run
    stats = simulation.stats["alpenwerk"]
    assert stats.duplicates_sent > 0
    assert stats.duplicates == stats.duplicates_sent  # the fake gateway saw each one again
    assert stats.unsent == 0
    historical = [m for m in sender.messages() if m.historical]
    assert historical
    assert len(historical) < len(sender.messages()) / 5
    reordered = 0
    for upload in sender.uploads:
        seqs = [(m.boot_id, m.seq) for m in upload.upload.messages]
        reordered += any(a > b for a, b in itertools.pairwise(seqs))
    assert reordered > 0
    skews = {p.machine.clock_skew_s for p in simulation.fleet.placements()}
    assert skews != {0}


def test_every_upload_passes_the_contract(day_run: Run) -> None:
    _, sender = day_run
    assert all(1 <= len(sent.upload.messages) <= 500 for sent in sender.uploads)
    # Decoding validates every bound and pattern of the contract; a sample of every machine's
    # uploads keeps the test quick.
    for sent in sender.uploads[::6]:
        as_json = msgspec.json.encode(sent.upload)
        assert msgspec.json.decode(as_json, type=Upload) == sent.upload
        as_msgpack = msgspec.msgpack.encode(sent.upload)
        assert msgspec.msgpack.decode(as_msgpack, type=Upload) == sent.upload
