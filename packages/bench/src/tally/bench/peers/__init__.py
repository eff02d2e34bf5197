"""Peers doing the recorder's job, each run as a process of its own by the benchmark.

JetStream → decode and validate → the same PostgreSQL tables (the ledger `telemetry_messages`
claims each identity, so a redelivery stores nothing twice), one transaction per batch,
acknowledged after the commit, with the recorder's batch size. Each prints one JSON line when it
has handled `--expect` messages (`protocol.PeerReport`): what it did, over which wall time, and
its own CPU time; the benchmark samples its RSS. They import nothing of tally (`wire` holds
the contract's values).

    handwritten       nats-py + msgspec + asyncpg, written as a careful user would
    faststream_peer   FastStream's batch pull subscriber with pydantic models
"""
