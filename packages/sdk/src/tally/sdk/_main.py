"""`python -m tally.<service>`: read settings, connect, host the service until SIGTERM.

    usage: python -m tally.recorder [--workers N] [--port PORT] [--ops-port PORT]

Settings common to every service come from TALLY_* (see `RuntimeSettings`); the service's own
from TALLY_<SERVICE>_*. A missing or garbled setting stops start-up with the variable's name.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
import time
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import asyncpg
import msgspec

from tally.sdk._database import Database
from tally.sdk._errors import BrokerUnavailable, InfrastructureError, SettingsError
from tally.sdk._host import ServiceHost
from tally.sdk._logins import without_password
from tally.sdk._logs import configure_logging
from tally.sdk._nats_broker import NatsBroker
from tally.sdk._service import Service
from tally.sdk._settings import load_settings
from tally.sdk._topics import StreamLimits
from tally.sdk._workers import supervise

S = TypeVar("S", bound=msgspec.Struct)
D = TypeVar("D")

_log = logging.getLogger("tally.sdk.main")


class RuntimeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings every service reads, from TALLY_*."""

    nats_url: str
    # The service's own login (its `Service.database_role`), never the owner's.
    database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    # /healthz, /readyz and /metrics: a port of their own, never the public one (default: the
    # public port + 1000, e.g. 9080 for the gateway's 8080).
    ops_port: int | None = None
    log_level: str = "info"
    db_pool_size: int = 10
    # How long to keep trying to reach NATS and PostgreSQL at start-up before giving up.
    connect_seconds: float = 30.0
    # Every stream tally declares: on how many JetStream servers it is kept (3 or 5 in a
    # cluster), and how many bytes it may hold before publishes are refused with 503 (1 GiB;
    # the server's JetStream store must hold all streams' limits times their replicas).
    stream_replicas: Annotated[int, msgspec.Meta(ge=1)] = 1
    stream_max_bytes: Annotated[int, msgspec.Meta(ge=1)] = 1024**3
    # Overrides the ack wait every consumer declares: fault tests stall a service past a
    # short one instead of waiting out the declared 30 s.
    ack_wait_seconds: Annotated[float, msgspec.Meta(gt=0)] | None = None

    @property
    def stream_limits(self) -> StreamLimits:
        return StreamLimits(replicas=self.stream_replicas, max_bytes=self.stream_max_bytes)


def run_service(service: Service[S, D], argv: list[str] | None = None) -> None:
    """The `main` of a service module; exits with 2 on bad settings, 1 on failure."""
    parser = argparse.ArgumentParser(prog=f"python -m tally.{service.name}")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the consumers")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (TALLY_HTTP_PORT)")
    parser.add_argument(
        "--ops-port", type=int, default=None, help="/healthz, /readyz, /metrics (TALLY_OPS_PORT)"
    )
    args = parser.parse_args(argv)
    try:
        runtime = load_settings(RuntimeSettings, "TALLY_")
        settings = load_settings(service.settings, service.settings_prefix)
    except SettingsError as error:
        print(f"tally {service.name}: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    configure_logging(service.name, runtime.log_level)
    port = args.port if args.port is not None else (runtime.http_port or service.default_port)
    ops_port = _first(args.ops_port, runtime.ops_port, service.default_port + 1000)
    if ops_port == port:
        print(
            f"tally {service.name}: TALLY_OPS_PORT must differ from the HTTP port", file=sys.stderr
        )
        raise SystemExit(2)
    if args.workers > 1:
        raise SystemExit(supervise(service.name, args.workers, port, ops_port))
    try:
        _run(serve(service, runtime, settings, port=port, ops_port=ops_port))
    except InfrastructureError as error:
        _log.error("%s", error)
        raise SystemExit(1) from error


def _first(*ports: int | None) -> int:
    return next(port for port in ports if port is not None)


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop  # a faster event loop, where installed
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def serve(
    service: Service[S, D], runtime: RuntimeSettings, settings: S, *, port: int, ops_port: int
) -> None:
    """Connect, host the service, and stop gracefully on SIGTERM or SIGINT."""
    if runtime.ack_wait_seconds is not None:
        service = with_ack_wait(service, runtime.ack_wait_seconds)
    broker = await _connect_broker(service.name, runtime)
    database = None
    try:
        if service.uses_database:
            database = await _connect_database(service.name, service.database_role, runtime)
        host = ServiceHost(
            service,
            settings,
            broker=broker,
            database=database,
            host=runtime.http_host,
            port=port,
            ops_port=ops_port,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await host.start()
        await stop.wait()
        _log.info("stop requested; draining")
        await host.stop()
    finally:
        if database is not None:
            await database.close()
        await broker.close()


def with_ack_wait(service: Service[S, D], seconds: float) -> Service[S, D]:
    """The service with every consumer's ack wait set to `seconds`."""
    consumers = [dataclasses.replace(c, ack_wait=seconds) for c in service.consumers]
    return dataclasses.replace(service, consumers=consumers)


async def _connect_broker(name: str, runtime: RuntimeSettings) -> NatsBroker:
    deadline = time.monotonic() + runtime.connect_seconds
    while True:
        try:
            return await NatsBroker.connect(
                runtime.nats_url, name=f"tally-{name}", limits=runtime.stream_limits
            )
        except BrokerUnavailable:
            if time.monotonic() > deadline:
                raise
            _log.warning("NATS at %s not reachable yet; retrying", runtime.nats_url)
            await asyncio.sleep(1.0)


async def _connect_database(name: str, role: str, runtime: RuntimeSettings) -> Database:
    if runtime.database_url is None:
        raise InfrastructureError(
            f"service {name} uses the database: set TALLY_DATABASE_URL to the login of role "
            f"{role} (postgresql://{role}:PASSWORD@HOST/DATABASE)"
        )
    deadline = time.monotonic() + runtime.connect_seconds
    while True:
        try:
            return await Database.connect(
                runtime.database_url,
                max_size=runtime.db_pool_size,
                role=role,
                application_name=name,
            )
        # 57P03 ("the database system is starting up") is no OSError but just as transient.
        except (OSError, asyncpg.CannotConnectNowError) as error:
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"cannot reach PostgreSQL at {without_password(runtime.database_url)}: "
                    f"{error!r}"
                ) from error
            _log.warning("PostgreSQL not reachable yet; retrying")
            await asyncio.sleep(1.0)
