"""A three-node NATS cluster with replicated streams (R3) losing a node under load: the
TELEMETRY stream's leader is killed with kill -9 and started again later on its store.
Ingest goes on with two nodes (a new leader is elected), and the node catches up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tally.contracts import TELEMETRY_STREAM
from tally.sdk import NatsBroker, StreamLimits
from tally.sdk.testing import NatsCluster

from .conftest import STREAM_LIMITS, FaultServers, open_fault_run
from .report import ScenarioReport
from .scenario import FAULT_SUITE, uploads_accepted

pytestmark = FAULT_SUITE

# Uploads accepted while the cluster is a node short.
WHILE_A_NODE_SHORT = 20


async def test_an_r3_cluster_losing_the_stream_leader(
    nats_cluster: NatsCluster,
    fault_servers: FaultServers,
    fault_report: ScenarioReport,
    tmp_path: Path,
) -> None:
    """Three NATS nodes, streams R3: kill -9 of the node leading TELEMETRY; 20 uploads are
    accepted by the two left; the node starts again on its store and catches up."""
    async with open_fault_run(
        fault_servers,
        nats_cluster.url,
        fault_report,
        tmp_path,
        StreamLimits(replicas=3, max_bytes=STREAM_LIMITS.max_bytes),
    ) as run:
        await run.start()
        assert len(await replicas(nats_cluster.url)) == 3
        async with run.load.running():
            await run.flowing()
            leader = nats_cluster.index_of((await replicas(nats_cluster.url))[0])
            await asyncio.to_thread(nats_cluster.kill, leader)
            await run.meanwhile(uploads_accepted, WHILE_A_NODE_SHORT)
            ended = time.monotonic()
            await asyncio.to_thread(nats_cluster.start_node, leader)
            recovery = await run.recovery(since=ended)
        result = await run.finish("NATS cluster (R3), kill -9 of the stream leader", recovery)
    assert result.clean, result
    # The node that came back is a replica again.
    assert len(await replicas(nats_cluster.url)) == 3


async def replicas(nats_url: str) -> list[str]:
    """The servers holding TELEMETRY, its leader first (current replicas only)."""
    broker = await NatsBroker.connect(nats_url)
    try:
        info = await broker.client.jetstream().stream_info(TELEMETRY_STREAM.name)
    finally:
        await broker.close()
    assert info.cluster is not None
    assert info.cluster.leader is not None
    followers = [p.name for p in info.cluster.replicas or [] if p.current and p.name is not None]
    return [info.cluster.leader, *followers]
