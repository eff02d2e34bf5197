"""Declaring a service: its settings, its dependencies, its consumers and endpoints — one screen.

    service = Service(
        name="recorder",
        settings=RecorderSettings,          # read from TALLY_RECORDER_* at start-up
        deps=recorder_deps,                 # async context manager building the frozen Deps
        consumers=[Consumer("recorder", TELEMETRY, record_batch, batch_size=500)],
        endpoints=[Endpoint("GET", "/v1/stored", stored, auth=ADMIN, ...)],   # HTTP, if any
        uses_database=True,
    )

    if __name__ == "__main__":
        run_service(service)

Declaring imports nothing heavy and opens no connection, so tools (`tally check`) can read every
service's graph without running it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec

from tally.sdk._broker import Broker
from tally.sdk._consumer import Consumer
from tally.sdk._database import Database
from tally.sdk._endpoint import AnyEndpoint
from tally.sdk._errors import ContractError
from tally.sdk._metrics import ServiceMetrics
from tally.sdk._openapi import OpenApiInfo
from tally.sdk._topics import Topic

S = TypeVar("S", bound=msgspec.Struct)
D = TypeVar("D")

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class NoSettings(msgspec.Struct, frozen=True):
    """For services without settings of their own."""


@dataclass(frozen=True)
class Runtime:
    """What the SDK has set up before a service's `Deps` are built."""

    service: str
    broker: Broker
    # Present when the service declared `uses_database`; one pool for the whole process.
    database: Database | None
    metrics: ServiceMetrics


DepsFactory = Callable[[Runtime, S], AbstractAsyncContextManager[D]]


@dataclass(frozen=True)
class Service(Generic[S, D]):
    """A tally service. Settings of type S are read from ``TALLY_<NAME>_*``; `deps` builds the
    frozen D that every handler and endpoint receives."""

    name: str
    settings: type[S]
    deps: DepsFactory[S, D]
    consumers: Sequence[Consumer[D, Any]] = ()
    # Served on the public port with /openapi.json, generated from these declarations.
    endpoints: Sequence[AnyEndpoint[D]] = ()
    openapi: OpenApiInfo = field(default_factory=OpenApiInfo)
    # Topics this service publishes to, so the service graph is known without running it.
    publishes: Sequence[Topic[Any]] = ()
    uses_database: bool = False
    # The role the service logs in as (TALLY_DATABASE_URL must be its login; checked at start):
    # `tally_app` is subject to row-level security. Roles with other rights, such as the
    # recorder's BYPASSRLS `tally_ingest`, are made by the migrations (0007_least_privilege).
    database_role: str = "tally_app"
    default_port: int = 8000
    # Time allowed for in-flight batches and requests to finish after SIGTERM.
    drain_seconds: float = 20.0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ContractError(
                f"service name {self.name!r}: use 1-32 lower-case letters, digits or '-'"
            )
        names = [c.name for c in self.consumers]
        if len(names) != len(set(names)):
            raise ContractError(f"service {self.name!r} declares a consumer name twice: {names}")
        routes = [(e.method, e.openapi_path) for e in self.endpoints]
        if len(routes) != len(set(routes)):
            raise ContractError(f"service {self.name!r} declares a route twice: {routes}")

    @property
    def settings_prefix(self) -> str:
        return f"TALLY_{self.name.upper().replace('-', '_')}_"
