"""Deps that need the database in a service that does not declare it is a type error, and a
service without it has no `database` on its runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from tally.sdk import DatabaseRuntime, Runtime, Service


class Settings(msgspec.Struct, frozen=True):
    pass


@asynccontextmanager
async def database_deps(runtime: DatabaseRuntime, settings: Settings) -> AsyncIterator[None]:
    yield None


@asynccontextmanager
async def plain_deps(runtime: Runtime, settings: Settings) -> AsyncIterator[None]:
    runtime.database  # E: attr-defined
    yield None


Service(name="a", settings=Settings, deps=database_deps)  # E: arg-type
Service(name="b", settings=Settings, deps=database_deps, uses_database=False)  # E: call-overload
