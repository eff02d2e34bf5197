"""The messages every stage works with: the simulator's fleet, as the gateway would put them on
the broker (contracts' `Telemetry`, JSON-encoded as the SDK publishes them), and the recorder's
rows for them (`tally.recorder.rows`).

A backfill of the seeded fleet is generated once per run, duplicates the simulator's transport
faults planted are dropped (every stage counts distinct messages), and the same corpus goes to
every ceiling, peer and stage, so their datapoints are the same datapoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import msgspec

from tally.contracts import TELEMETRY, Telemetry, Upload
from tally.simulator import Fleet, MemorySender, Simulation, build_fleet

SEED = 1
_ENCODE = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Wire:
    """One message as JetStream stores it."""

    subject: str
    data: bytes
    msg_id: str
    datapoints: int


@dataclass(frozen=True)
class Corpus:
    fleet: Fleet
    messages: list[Telemetry]
    wire: list[Wire]
    # Simulated seconds the corpus covers: datapoints / this is the fleet's own rate.
    simulated_seconds: float
    # One machine's uploads as the simulator made them, with the tenant and machine they are for.
    uploads: list[tuple[str, str, Upload]]

    @property
    def datapoints(self) -> int:
        return sum(w.datapoints for w in self.wire)

    @property
    def datapoints_per_simulated_second(self) -> float:
        return self.datapoints / self.simulated_seconds

    def batches(self, size: int) -> Iterator[list[Telemetry]]:
        for start in range(0, len(self.messages), size):
            yield self.messages[start : start + size]


async def build_corpus(*, days: float, tenants: int = 3, now: datetime | None = None) -> Corpus:
    """The fleet's last `days` of history, generated as fast as the simulator can."""
    fleet = build_fleet(seed=SEED, tenants=tenants)
    sender = MemorySender()
    simulation = Simulation.backfill(fleet, seed=SEED, days=days, now=now)
    await simulation.run(sender)
    seen: set[tuple[str, str, str, int]] = set()
    messages: list[Telemetry] = []
    uploads: list[tuple[str, str, Upload]] = []
    for sent in sender.uploads:
        fresh = []
        for m in sent.upload.messages:
            identity = (sent.tenant, sent.machine, m.boot_id, m.seq)
            if identity in seen:
                continue
            seen.add(identity)
            fresh.append(m)
            messages.append(Telemetry.of(sent.tenant, sent.machine, m))
        if fresh:
            uploads.append((sent.tenant, sent.machine, Upload(messages=fresh)))
    wire = [Wire(TELEMETRY.subject(m), _ENCODE(m), m.identity, len(m.signals)) for m in messages]
    return Corpus(fleet, messages, wire, days * 86400, uploads)
