"""A three-node NATS cluster with a replicated (R3) stream loses nothing when a node dies under
load: real nats-servers, killed with SIGKILL and started again."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from tally.sdk import BrokerUnavailable, NatsBroker, Stream, StreamLimits
from tally.sdk.testing import NatsCluster, eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MESSAGES = 3000
IN_FLIGHT = 8
STREAM = Stream("ORDERS", ("orders.>",), retention="interest", consumers=("auditor",))


@dataclass
class Outcome:
    """What the publishers were told, per message id."""

    acknowledged: dict[str, int] = field(default_factory=dict)  # id → stream sequence
    refused: int = 0  # BrokerUnavailable answers (each retried until acknowledged)


async def _publisher(broker: NatsBroker, ids: itertools.count[int], outcome: Outcome) -> None:
    """Publish ids until MESSAGES are taken; a refused publish is sent again, as a machine
    re-sends an upload answered 503. Any other error fails the test."""
    for n in ids:
        if n >= MESSAGES:
            return
        msg_id = f"m{n}"
        while msg_id not in outcome.acknowledged:
            try:
                published = await broker.publish_bytes(f"orders.{n % 7}", b"%d" % n, msg_id=msg_id)
            except BrokerUnavailable:
                outcome.refused += 1
                await asyncio.sleep(0.05)
                continue
            outcome.acknowledged[msg_id] = published.seq


async def _crash_the_leader_midway(
    cluster: NatsCluster, broker: NatsBroker, outcome: Outcome
) -> None:
    await eventually(lambda: len(outcome.acknowledged) >= MESSAGES // 3, seconds=60)
    info = await broker.client.jetstream().stream_info(STREAM.name)
    assert info.cluster is not None
    assert info.cluster.leader is not None
    leader = cluster.index_of(info.cluster.leader)
    await asyncio.to_thread(cluster.kill, leader)
    await eventually(lambda: len(outcome.acknowledged) >= 2 * MESSAGES // 3, seconds=90)
    await asyncio.to_thread(cluster.start_node, leader)


async def _consume_all(broker: NatsBroker, expected: int) -> list[tuple[str, int]]:
    """(msg id, stream sequence) of every message the durable consumer gets, acked as it goes."""
    subscription = await broker.subscribe(STREAM, "auditor", "orders.>", ack_wait=30.0)
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 60
    try:
        while len(seen) < expected and time.monotonic() < deadline:
            batch = await subscription.fetch(500, 1.0)
            seen.extend((d.headers["Nats-Msg-Id"], d.stream_seq) for d in batch)
            await subscription.ack(batch)
            subscription.release(batch)
        # Anything beyond `expected` would be a duplicate; give it a moment to show.
        seen.extend(
            (d.headers["Nats-Msg-Id"], d.stream_seq) for d in await subscription.fetch(500, 1.0)
        )
    finally:
        await subscription.close()
    return seen


def _duplicates(values: Sequence[object]) -> list[object]:
    counted: dict[object, int] = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return [value for value, count in counted.items() if count > 1]


async def test_an_r3_stream_losing_its_leader_under_load_loses_nothing(
    nats_cluster: NatsCluster,
) -> None:
    broker = await NatsBroker.connect(
        nats_cluster.url,
        name=f"loader-{secrets.token_hex(3)}",
        limits=StreamLimits(replicas=3),
        publish_timeout=2.0,
    )
    try:
        await broker.ensure_stream(STREAM)
        outcome, ids = Outcome(), itertools.count()
        async with asyncio.TaskGroup() as load:
            for _ in range(IN_FLIGHT):
                load.create_task(_publisher(broker, ids, outcome))
            load.create_task(_crash_the_leader_midway(nats_cluster, broker, outcome))
        info = await broker.client.jetstream().stream_info(STREAM.name)
        consumed = await _consume_all(broker, len(outcome.acknowledged))
    finally:
        await broker.close()

    # The election was felt: publishes in flight to the killed leader were refused, not lost.
    assert outcome.refused > 0
    # Every publish was acknowledged in the end (refusals were sent again), each under one
    # stream sequence: a re-sent message is recognised by its id.
    assert len(outcome.acknowledged) == MESSAGES
    assert info.state.messages == MESSAGES
    assert _duplicates(list(outcome.acknowledged.values())) == []
    # ... and consumed exactly once, under the sequence its publisher was told.
    assert _duplicates([msg_id for msg_id, _ in consumed]) == []
    assert dict(consumed) == outcome.acknowledged
    assert info.cluster is not None
    assert len(info.cluster.replicas or []) == 2  # the restarted node is a replica again
