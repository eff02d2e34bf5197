"""Declaring a service: its settings, its dependencies, its consumers, schedules and
endpoints — one screen.

    service = Service(
        name="recorder",
        settings=RecorderSettings,          # read from TALLY_RECORDER_* at start-up
        deps=recorder_deps,                 # async context manager building the frozen Deps
        consumers=[Consumer("recorder", TELEMETRY, record_batch, batch_size=500)],
        schedules=[Schedule("maintenance", maintain, every(timedelta(hours=1)))],
        endpoints=[Endpoint("GET", "/v1/stored", stored, auth=ADMIN, ...)],   # HTTP, if any
        uses_database=True,
    )

    if __name__ == "__main__":
        run_service(service)

A service with `uses_database=True` builds its Deps from a `DatabaseRuntime`, whose `database`
is a `Database`; any other from a `Runtime`, which has none. mypy holds the two together: a
deps function that wants a `DatabaseRuntime` in a service without `uses_database=True` does not
type-check.

Declaring imports nothing heavy and opens no connection, so tools (`tally check`) can read every
service's graph without running it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar, Unpack, overload

import msgspec

from tally.sdk._broker import Broker
from tally.sdk._consumer import Consumer
from tally.sdk._database import Database
from tally.sdk._endpoint import AnyEndpoint
from tally.sdk._errors import ContractError
from tally.sdk._metrics import ServiceMetrics
from tally.sdk._openapi import OpenApiInfo
from tally.sdk._schedules import Schedule
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
    metrics: ServiceMetrics


@dataclass(frozen=True)
class DatabaseRuntime(Runtime):
    """The runtime of a service with `uses_database=True`: one pool for the whole process."""

    database: Database


DepsFactory = Callable[[Runtime, S], AbstractAsyncContextManager[D]]
DatabaseDepsFactory = Callable[[DatabaseRuntime, S], AbstractAsyncContextManager[D]]


class _Declared(TypedDict, Generic[D], total=False):
    """The fields of `Service` after `uses_database`, for its two typed signatures."""

    consumers: Sequence[Consumer[D, Any]]
    schedules: Sequence[Schedule[D, Any]]
    endpoints: Sequence[AnyEndpoint[D]]
    openapi: OpenApiInfo
    publishes: Sequence[Topic[Any]]
    database_role: str
    default_port: int
    drain_seconds: float


@dataclass(frozen=True)
class Service(Generic[S, D]):
    """A tally service. Settings of type S are read from ``TALLY_<NAME>_*``; `deps` builds the
    frozen D that every handler and endpoint receives."""

    name: str
    settings: type[S]
    # A `DatabaseDepsFactory` when `uses_database` (the typed signatures below see to it).
    deps: Callable[[Any, S], AbstractAsyncContextManager[D]]
    uses_database: bool = False
    # Every field from here on is listed in `_Declared` too.
    consumers: Sequence[Consumer[D, Any]] = ()
    # Jobs run on a schedule: once across every process of the service when it uses the
    # database, else in each process (`Schedule(each_process=True)`).
    schedules: Sequence[Schedule[D, Any]] = ()
    # Served on the public port with /openapi.json, generated from these declarations.
    endpoints: Sequence[AnyEndpoint[D]] = ()
    openapi: OpenApiInfo = field(default_factory=OpenApiInfo)
    # Topics this service publishes to, so the service graph is known without running it.
    publishes: Sequence[Topic[Any]] = ()
    # The role the service logs in as (TALLY_DATABASE_URL must be its login; checked at start):
    # `tally_app` is subject to row-level security. Roles with other rights, such as the
    # recorder's BYPASSRLS `tally_ingest`, are made by the migrations (0007_least_privilege).
    database_role: str = "tally_app"
    default_port: int = 8000
    # Time allowed for in-flight batches, scheduled jobs and requests to finish after SIGTERM.
    drain_seconds: float = 20.0

    if TYPE_CHECKING:

        @overload
        def __init__(
            self,
            *,
            name: str,
            settings: type[S],
            deps: DepsFactory[S, D],
            uses_database: Literal[False] = False,
            **declared: Unpack[_Declared[D]],
        ) -> None: ...

        @overload
        def __init__(
            self,
            *,
            name: str,
            settings: type[S],
            deps: DatabaseDepsFactory[S, D],
            uses_database: Literal[True],
            **declared: Unpack[_Declared[D]],
        ) -> None: ...

        def __init__(self, **fields: Any) -> None: ...

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ContractError(
                f"service name {self.name!r}: use 1-32 lower-case letters, digits or '-'"
            )
        for kind, names in (
            ("consumer", [c.name for c in self.consumers]),
            ("schedule", [s.name for s in self.schedules]),
        ):
            if len(names) != len(set(names)):
                raise ContractError(f"service {self.name!r} declares a {kind} name twice: {names}")
        routes = [(e.method, e.openapi_path) for e in self.endpoints]
        if len(routes) != len(set(routes)):
            raise ContractError(f"service {self.name!r} declares a route twice: {routes}")
        shared = [s.name for s in self.schedules if not s.each_process]
        if shared and not self.uses_database:
            raise ContractError(
                f"service {self.name!r}: schedules {shared} run once across its processes, "
                "which needs the database to hold the claims; declare uses_database=True, or "
                "Schedule(..., each_process=True) to run them in every process"
            )

    @property
    def settings_prefix(self) -> str:
        return f"TALLY_{self.name.upper().replace('-', '_')}_"
