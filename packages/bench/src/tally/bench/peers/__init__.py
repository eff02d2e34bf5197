"""Peers doing the recorder's job, each run as a process of its own by the benchmark.

JetStream → decode and validate → the same PostgreSQL tables (the ledger `telemetry_messages`
claims each identity, so a redelivery stores nothing twice), one transaction per batch,
acknowledged after the commit, with the recorder's batch size. Each prints one JSON line when it
has handled `--expect` messages (`PeerReport`): what it did, over which wall time, and its own
CPU time and peak RSS.

    handwritten   nats-py + msgspec + asyncpg, written as a careful user would
    faststream    FastStream's batch pull subscriber with pydantic models
"""

from tally.bench.peers.protocol import PeerReport, peer_arguments

__all__ = ["PeerReport", "peer_arguments"]
