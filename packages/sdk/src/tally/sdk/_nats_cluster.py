"""A NATS cluster of real `nats-server` processes with JetStream, on loopback: for tests of
replicated streams, fault suites and benchmarks.

Each node listens on free client, route and monitoring ports and keeps its JetStream store in a
folder of its own (`<state_dir>/nats-cluster/<node>`). A node can be killed with SIGKILL and
started again on the same ports with the same store, as a crashed server coming back; every
node is stopped when the `with` block ends, however it ends. A node started from the main
thread also dies with this process (the parent-death signal); one started from another thread
(`asyncio.to_thread(cluster.start_node, i)`) is stopped by the block only.

    with NatsCluster(state_dir) as cluster:          # three nodes, JetStream clustered
        broker = await NatsBroker.connect(cluster.url, limits=StreamLimits(replicas=3))
        cluster.kill(1)                              # SIGKILL, as a crash
        cluster.start_node(1)                        # back, caught up when this returns
"""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from tally.sdk._embedded_nats import STORE_BYTES, binary, get_json, server_config
from tally.sdk._errors import InfrastructureError
from tally.sdk._server_process import (
    free_port,
    retry_on_port_clash,
    spawn,
    stop_process,
    wait_until_ready,
)

_STOP_TIMEOUT = 10.0
_KILL_TIMEOUT = 10.0
_STEADY_SECONDS = 1.0


@dataclass
class _Node:
    name: str
    directory: Path
    port: int = 0
    route_port: int = 0
    monitoring_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    """`size` clustered nats-servers with JetStream (see the module docstring).

    `sync_interval` is passed to every node (None: the server's default, 2 minutes);
    `store_bytes` bounds each node's JetStream store."""

    def __init__(
        self,
        state_dir: Path,
        *,
        size: int = 3,
        store_bytes: int = STORE_BYTES,
        sync_interval: str | None = None,
        startup_timeout: float = 60.0,
        name: str = "tally",
    ) -> None:
        if size < 1:
            raise InfrastructureError(f"a cluster needs at least one node, not {size}")
        self.directory = state_dir.resolve() / "nats-cluster"
        self.name = name
        self._store_bytes = store_bytes
        self._sync_interval = sync_interval
        self._timeout = startup_timeout
        self._nodes = [_Node(f"n{i + 1}", self.directory / f"n{i + 1}") for i in range(size)]

    @property
    def size(self) -> int:
        return len(self._nodes)

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [node.url for node in self._nodes]

    @property
    def url(self) -> str:
        """All client URLs, separated by commas (what `NatsBroker.connect` and TALLY_NATS_URL
        take): a client reconnects to another node when its node goes."""
        return ",".join(self.urls)

    def node_name(self, index: int) -> str:
        """The server name of node `index` (0-based): what JetStream names stream leaders by."""
        return self._nodes[index].name

    def index_of(self, server_name: str) -> int:
        """The index of the node with this server name (a stream's `cluster.leader`, say)."""
        for index, node in enumerate(self._nodes):
            if node.name == server_name:
                return index
        raise InfrastructureError(f"no node named {server_name!r} in cluster {self.name}")

    def pid(self, index: int) -> int:
        process = self._nodes[index].process
        if process is None or process.poll() is not None:
            raise InfrastructureError(f"node {self._nodes[index].name} is not running")
        return process.pid

    def running(self, index: int) -> bool:
        return self._nodes[index].running

    def start(self) -> str:
        """Start every node on free ports, and wait until JetStream has a meta leader on all."""
        self.directory.mkdir(parents=True, exist_ok=True)
        retry_on_port_clash(self._launch_all)
        return self.url

    def stop(self) -> None:
        """Stop every node that runs (SIGTERM, SIGKILL after a timeout)."""
        for node in self._nodes:
            if node.process is not None:
                stop_process(node.process, stop_signal=signal.SIGTERM, timeout=_STOP_TIMEOUT)
                node.process = None

    def kill(self, index: int) -> None:
        """SIGKILL node `index`, as a crash, and wait until it is gone."""
        node = self._nodes[index]
        if node.process is not None:
            stop_process(node.process, stop_signal=signal.SIGKILL, timeout=_KILL_TIMEOUT)
            node.process = None

    def stop_node(self, index: int) -> None:
        """Stop node `index` gracefully (SIGTERM), as an orderly shutdown."""
        node = self._nodes[index]
        if node.process is not None:
            stop_process(node.process, stop_signal=signal.SIGTERM, timeout=_STOP_TIMEOUT)
            node.process = None

    def start_node(self, index: int) -> None:
        """Start node `index` again on its ports with its store; returns once it is healthy
        (JetStream current with the cluster)."""
        node = self._nodes[index]
        if node.running:
            return
        self._spawn(node)
        self._wait_healthy([node])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _launch_all(self) -> None:
        for node in self._nodes:
            node.port, node.route_port, node.monitoring_port = free_port(), free_port(), free_port()
        try:
            for node in self._nodes:
                self._spawn(node)
            self._wait_healthy(self._nodes)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, node: _Node) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        config = node.directory / "nats.conf"
        config.write_text(self._config(node))
        argv = [str(binary()), "-c", str(config)]
        node.process, node.log_offset = spawn(
            argv, log_path=node.directory / "nats.log", death_signal=signal.SIGTERM
        )

    def _config(self, node: _Node) -> str:
        routes = [f"nats-route://127.0.0.1:{other.route_port}" for other in self._nodes]
        cluster = [
            f"  name: {json.dumps(self.name)}",
            f'  listen: "127.0.0.1:{node.route_port}"',
            f"  routes: {json.dumps(routes)}",
        ]
        return "\n".join(
            [
                f"server_name: {json.dumps(node.name)}",
                f'listen: "127.0.0.1:{node.port}"',
                f'http: "127.0.0.1:{node.monitoring_port}"',
                server_config(
                    node.directory / "jetstream",
                    store_bytes=self._store_bytes,
                    sync_interval=self._sync_interval,
                ).rstrip(),
                "cluster {",
                *cluster,
                "}",
                "",
            ]
        )

    def _wait_healthy(self, nodes: list[_Node]) -> None:
        deadline = time.monotonic() + self._timeout
        for node in nodes:
            assert node.process is not None, "spawned above"
            # A node that has just started answers healthy before it has taken up the streams
            # it replicates, then unhealthy while it catches up: wait until it stays healthy.
            steady = _Steady(functools.partial(_healthy, node.monitoring_port), _STEADY_SECONDS)
            wait_until_ready(
                steady,
                process=node.process,
                what=f"nats-server {node.name} of cluster {self.name} on port {node.port}",
                log_path=node.directory / "nats.log",
                log_offset=node.log_offset,
                timeout=max(1.0, deadline - time.monotonic()),
            )


class _Steady:
    """True once `check` has held for `seconds` without a break."""

    def __init__(self, check: Callable[[], bool], seconds: float) -> None:
        self._check, self._seconds = check, seconds
        self._since: float | None = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._check():
            self._since = None
            return False
        if self._since is None:
            self._since = now
        return now - self._since >= self._seconds


def _healthy(monitoring_port: int) -> bool:
    """JetStream is up, knows its meta leader, and has caught up (nats-server's /healthz)."""
    if get_json(monitoring_port, "/healthz") is None:
        return False
    jsz = get_json(monitoring_port, "/jsz")
    try:
        return bool(jsz["meta_cluster"]["leader"])
    except (KeyError, TypeError):
        return False
