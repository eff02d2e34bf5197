"""Hosting a service in this process: start it in order, stop it in the reverse order.

Start: check consumers are declared by their streams → declare streams (and their consumers)
       → build Deps → open HTTP (public and operations ports) → start consumers and schedules
       (ready).
Stop:  not ready → consumers stop fetching, finish and settle in-flight batches; schedules start
       no new slot and finish the running job → HTTP drains → Deps closed. The broker and
       database belong to the caller, who closes them last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import AsyncExitStack
from typing import Any, Generic, TypeVar

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from tally.sdk._backoff import Backoff
from tally.sdk._broker import DEAD_LETTER_STREAM, Broker
from tally.sdk._consumer_loop import ConsumerLoop
from tally.sdk._database import Database
from tally.sdk._endpoint_routes import endpoint_routes
from tally.sdk._errors import BrokerFull, BrokerUnavailable, ContractError
from tally.sdk._http import build_app, build_ops_app, http_server, listening_socket
from tally.sdk._metrics import ServiceMetrics
from tally.sdk._openapi import openapi_document
from tally.sdk._schedule_claims import Claims
from tally.sdk._scheduler import ScheduleLoop
from tally.sdk._service import DatabaseRuntime, Runtime, Service
from tally.sdk._topics import Stream

S = TypeVar("S", bound=msgspec.Struct)
D = TypeVar("D")

_log = logging.getLogger("tally.sdk.host")
# How long start-up keeps declaring a stream the broker does not answer for.
_DECLARE_SECONDS = 30.0
_DECLARE_BACKOFF = Backoff(initial=0.2, maximum=2.0)


class ServiceHost(Generic[S, D]):
    """One running instance of a service, on a broker and database given by the caller."""

    def __init__(
        self,
        service: Service[S, D],
        settings: S,
        *,
        broker: Broker,
        database: Database | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ops_port: int = 0,
    ) -> None:
        self.service = service
        self.settings = settings
        self.metrics = ServiceMetrics(service.name)
        self._broker = broker
        self._database = database
        self._host = host
        self._requested_ports = (port, ops_port)
        self._stack = AsyncExitStack()
        self._stopping = asyncio.Event()
        self._loops: list[ConsumerLoop[D, Any] | ScheduleLoop[D, Any]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []
        self._draining = False
        # The public port (0 when the service declares no endpoints) and the operations port.
        self.port = 0
        self.ops_port = 0
        self.deps: D | None = None

    async def start(self) -> None:
        service = self.service
        for consumer in service.consumers:
            # Before anything runs: an undeclared consumer of an interest stream would miss
            # whatever was published before its first start.
            consumer.topic.stream.require_consumer(consumer.name)
        for stream in self._streams():
            await self._declare(stream)
        self.deps = deps = await self._stack.enter_async_context(
            service.deps(self._runtime(), self.settings)
        )
        public, ops = self._requested_ports
        if service.endpoints:
            self.port = await self._serve(build_app(self._routes(deps), self.metrics), public)
        self.ops_port = await self._serve(build_ops_app(self.metrics, self._readiness), ops)
        for consumer in service.consumers:
            self._begin(ConsumerLoop(consumer, deps, self._broker, self.metrics))
        for schedule in service.schedules:
            claims = None
            if self._database is not None and not schedule.each_process:
                claims = Claims(self._database, service.name)
            self._begin(ScheduleLoop(schedule, deps, claims, self.metrics))
        _log.info(
            "service %s started on port %d (operations on %d)",
            service.name,
            self.port,
            self.ops_port,
        )

    def _runtime(self) -> Runtime:
        service = self.service
        if not service.uses_database:
            return Runtime(service.name, self._broker, self.metrics)
        if self._database is None:
            raise ContractError(
                f"service {service.name} uses the database: give its ServiceHost a Database"
            )
        return DatabaseRuntime(service.name, self._broker, self.metrics, self._database)

    def _begin(self, loop: ConsumerLoop[D, Any] | ScheduleLoop[D, Any]) -> None:
        self._loops.append(loop)
        self._tasks.append(asyncio.create_task(loop.run(self._stopping)))

    def _routes(self, deps: D) -> list[BaseRoute]:
        service = self.service
        document = openapi_document(service.endpoints, deps, service.openapi, service.name)
        return endpoint_routes(
            service.endpoints, deps, self._database, msgspec.json.encode(document)
        )

    async def _serve(self, app: Starlette, port: int) -> int:
        """Serve `app` on `port` (0: any free one); the port it listens on."""
        sock = listening_socket(self._host, port)
        bound = int(sock.getsockname()[1])
        server = http_server(app)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self._servers.append((server, task))
        # uvicorn offers no "started" event; its flag flips within a few loop turns.
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return bound

    async def _declare(self, stream: Stream) -> None:
        """Declare a stream, retrying while the broker cannot answer: in a cluster, services
        starting together update a replicated stream at once, and one of them may be left
        without an answer until the stream's leader settles."""
        deadline = time.monotonic() + _DECLARE_SECONDS
        attempt = 0
        while True:
            try:
                await self._broker.ensure_stream(stream)
                return
            except BrokerFull:
                raise  # a configuration the servers refuse: waiting will not change it
            except BrokerUnavailable as error:
                attempt += 1
                if time.monotonic() >= deadline:
                    raise
                _log.warning("stream %s not declared yet (%s); retrying", stream.name, error)
                await asyncio.sleep(_DECLARE_BACKOFF.delay(attempt))

    async def stop(self) -> None:
        """Graceful stop, bounded by the service's drain time."""
        self._draining = True
        self._stopping.set()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=self.service.drain_seconds)
            for task in pending:
                _log.error(
                    "a consumer or scheduled job did not finish in %ss; cancelling",
                    self.service.drain_seconds,
                )
                task.cancel()
            # Wait for the cancellations to land before the Deps they use are closed below.
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    _log.error("a loop ended with an error", exc_info=task.exception())
        for server, _ in self._servers:
            server.should_exit = True
        for _, task in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, self.service.drain_seconds)
        await self._stack.aclose()
        _log.info("service %s stopped", self.service.name)

    @property
    def failed(self) -> BaseException | None:
        """The error of a consumer or schedule loop that ended on its own, if any."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    async def _readiness(self) -> dict[str, bool]:
        checks = {
            "serving": not self._draining,
            "broker": self._broker.connected,
            "consumers": all(loop.running for loop in self._loops) and self.failed is None,
        }
        if self._database is not None:
            checks["database"] = await self._database.ping()
        return checks

    def _streams(self) -> list[Stream]:
        streams = {DEAD_LETTER_STREAM.name: DEAD_LETTER_STREAM}
        for topic in [*self.service.publishes, *(c.topic for c in self.service.consumers)]:
            streams[topic.stream.name] = topic.stream
        return list(streams.values())
