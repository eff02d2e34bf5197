"""Typing cases that must pass: the public API infers what a reader expects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import assert_type

import msgspec

from tally.sdk import (
    AdminCaller,
    AdminToken,
    AnyEndpoint,
    Body,
    Broker,
    Call,
    Caller,
    Consumer,
    Database,
    DatabaseRuntime,
    Endpoint,
    Envelope,
    Html,
    Ledger,
    MachineToken,
    NoParams,
    Published,
    Runtime,
    Schedule,
    ScheduledRun,
    ScopedDatabase,
    Secret,
    Service,
    Slot,
    Stream,
    TenantCaller,
    Topic,
    Tx,
    by_tenant,
    daily_at,
    every,
    query,
)


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    machine: str
    value: float


READINGS = Topic("readings.{tenant}.{machine}", Reading, Stream("READINGS", ("readings.>",)))


class Deps:
    pass


async def handle(deps: Deps, batch: Sequence[Envelope[Reading]]) -> None:
    for envelope in batch:
        assert_type(envelope.message, Reading)
        assert_type(envelope.message.value, float)


async def publish(broker: Broker) -> None:
    receipt = await broker.publish(READINGS, Reading(tenant="a", machine="m", value=1.0))
    assert_type(receipt, Published)


assert_type(READINGS, Topic[Reading])
assert_type(Consumer("readings", READINGS, handle), Consumer[Deps, Reading])


class MachineRow(msgspec.Struct, frozen=True):
    machine: str
    kind: str


@query(MachineRow, "SELECT machine, kind FROM machines WHERE tenant = $1 AND line = $2")
def machines_of_line(tenant: str, line: str) -> None: ...


async def read(database: Database) -> None:
    async def work(tx: Tx) -> list[MachineRow]:
        rows = await tx.fetch(machines_of_line("acme", "l1"))
        assert_type(rows, list[MachineRow])
        assert_type(await tx.fetch_optional(machines_of_line("acme", "l1")), MachineRow | None)
        return rows

    assert_type(await database.transaction(work, tenant="acme"), list[MachineRow])


class Settings(msgspec.Struct, frozen=True):
    pass


@asynccontextmanager
async def database_deps(runtime: DatabaseRuntime, settings: Settings) -> AsyncIterator[Deps]:
    # A service that declares uses_database=True gets a Database, not Database | None.
    assert_type(runtime.database, Database)
    yield Deps()


@asynccontextmanager
async def plain_deps(runtime: Runtime, settings: Settings) -> AsyncIterator[Deps]:
    yield Deps()


async def maintain(deps: Deps, run: ScheduledRun[datetime]) -> None:
    assert_type(run.slot.value, datetime)


async def report(deps: Deps, run: ScheduledRun[date]) -> None:
    assert_type(run.slot.value, date)


async def closed_days(deps: Deps, since: datetime, until: datetime) -> list[Slot[date]]:
    return daily_at(time(6), "Europe/Berlin").between(since, until)


HOURLY = Schedule("maintenance", maintain, every(timedelta(hours=1)))
assert_type(HOURLY, Schedule[Deps, datetime])
assert_type(Schedule("report", report, closed_days), Schedule[Deps, date])
assert_type(
    Service(
        name="keeper",
        settings=Settings,
        deps=database_deps,
        consumers=[Consumer("readings", READINGS, handle)],
        schedules=[HOURLY],
        uses_database=True,
    ),
    Service[Settings, Deps],
)
# A service without the database may still take deps written for one that has it not.
assert_type(
    Service(name="plain", settings=Settings, deps=plain_deps, uses_database=True),
    Service[Settings, Deps],
)
assert_type(Secret("s").reveal(), str)


class Sample(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    machine: str
    seq: int
    ts: datetime


class SampleEntry(msgspec.Struct, frozen=True):
    machine: str
    seq: int
    ts: datetime


def sample_entry(sample: Sample) -> SampleEntry:
    return SampleEntry(sample.machine, sample.seq, sample.ts)


LEDGER = Ledger("samples_ledger", SampleEntry, sample_entry, key=("machine", "seq"))
assert_type(LEDGER, Ledger[Sample, SampleEntry])


async def claim(tx: Tx, batch: Sequence[Envelope[Sample]]) -> None:
    for tenant, envelopes in by_tenant(batch).items():
        await tx.set_tenant(tenant)
        new = await LEDGER.claim(tx, tenant, [e.message for e in envelopes])
        assert_type(new, list[Sample])


# --- endpoints -------------------------------------------------------------------------------


class TenantPath(msgspec.Struct, frozen=True):
    tenant: str


class Paging(msgspec.Struct, frozen=True):
    page: int = 1


class Tenant(msgspec.Struct, frozen=True):
    name: str


def admin_token(deps: Deps) -> str:
    return "token"


async def machine(deps: Deps, token_sha256: bytes) -> TenantCaller | None:
    return None


ADMIN = AdminToken(admin_token)
MACHINE = MachineToken(TenantCaller, machine)


async def put_tenant(deps: Deps, call: Call[AdminCaller, TenantPath, Paging, Tenant]) -> Tenant:
    assert_type(call.caller, AdminCaller)
    assert_type(call.path.tenant, str)
    assert_type(call.query.page, int)
    assert_type(call.body, Tenant)
    assert_type(call.database_for(call.path.tenant), ScopedDatabase)
    return call.body


async def own_page(deps: Deps, call: Call[TenantCaller]) -> Html:
    assert_type(call.path, NoParams)
    assert_type(call.body, None)
    assert_type(call.database(), ScopedDatabase)
    return Html("<p>mine</p>")


async def any_caller(deps: object, call: Call[Caller]) -> None:
    return None


PUT = Endpoint(
    "PUT",
    "/tenants/{tenant}",
    put_tenant,
    auth=ADMIN,
    summary="Create or update a tenant",
    params=TenantPath,
    query=Paging,
    body=Body(Tenant, merge_path=True),
    response=Tenant,
)
assert_type(PUT, Endpoint[Deps, AdminCaller, TenantPath, Paging, Tenant, Tenant])
PAGE = Endpoint("GET", "/page", own_page, auth=MACHINE, summary="A page", response=Html)
assert_type(PAGE, Endpoint[Deps, TenantCaller, NoParams, NoParams, None, Html])
# A handler that takes any caller serves any scheme.
ANY = Endpoint("GET", "/any", any_caller, auth=MACHINE, summary="Anyone known")
ENDPOINTS: list[AnyEndpoint[Deps]] = [PUT, PAGE, ANY]
