"""A consumer's ledger against a real PostgreSQL: only new identities come back, a batch that
mixes tenants is claimed per tenant under row-level security, and the ledger is partitioned and
expired with the data it protects."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from tally.sdk import (
    Consumer,
    ContractError,
    Database,
    DatabaseRuntime,
    DayPartitions,
    Envelope,
    Ledger,
    MemoryBroker,
    NoSettings,
    Service,
    ServiceHost,
    Stream,
    Topic,
    Tx,
    by_tenant,
    command,
)
from tally.sdk.testing import LoginUrl, eventually

pytestmark = pytest.mark.integration


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    machine: str
    seq: int
    ts: datetime
    value: float


class ReadingEntry(msgspec.Struct, frozen=True):
    machine: str
    seq: int
    ts: datetime


def reading_entry(reading: Reading) -> ReadingEntry:
    return ReadingEntry(reading.machine, reading.seq, reading.ts)


LEDGER = Ledger("probe_readings_ledger", ReadingEntry, reading_entry, key=("machine", "seq"))
READINGS = Topic(
    "probe-readings.{tenant}",
    Reading,
    Stream("PROBE_READINGS", ("probe-readings.>",), consumers=("keeper",)),
)


@command(
    "INSERT INTO probe_readings (tenant, machine, seq, value) "
    "SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::float8[])"
)
def store_readings(
    tenant: str, machines: list[str], seqs: list[int], values: list[float]
) -> None: ...


@dataclass(frozen=True)
class Keeper:
    database: Database
    partitions: DayPartitions


async def keep(deps: Keeper, batch: Sequence[Envelope[Reading]]) -> None:
    """The SDK README's consumer: each tenant's readings claimed and stored as that tenant's."""
    await deps.partitions.ensure(LEDGER.days(e.message for e in batch))
    tenants = by_tenant(batch)

    async def work(tx: Tx) -> None:
        for tenant, envelopes in tenants.items():
            await tx.set_tenant(tenant)
            new = await LEDGER.claim(tx, tenant, [e.message for e in envelopes])
            await tx.execute(
                store_readings(
                    tenant, [r.machine for r in new], [r.seq for r in new], [r.value for r in new]
                )
            )

    await deps.database.transaction(work)


@asynccontextmanager
async def keeper_deps(runtime: DatabaseRuntime, _: NoSettings) -> AsyncIterator[Keeper]:
    yield Keeper(runtime.database, DayPartitions(runtime.database))


KEEPER = Service(
    name="keeper",
    settings=NoSettings,
    deps=keeper_deps,
    consumers=[Consumer("keeper", READINGS, keep, batch_size=50, max_wait=0.2)],
    uses_database=True,
)


@pytest.fixture
async def owner(migrated_database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    connection = await asyncpg.connect(migrated_database_url)
    if await connection.fetchval("SELECT to_regclass('probe_readings_ledger')") is None:
        await connection.execute(LEDGER.table_sql())
        await connection.execute(
            "CREATE TABLE probe_readings (tenant text NOT NULL, machine text NOT NULL, "
            "seq bigint NOT NULL, value double precision NOT NULL);"
            "SELECT tally_tenant_policy('probe_readings');"
            "GRANT SELECT, INSERT ON probe_readings TO tally_app"
        )
    yield connection
    await connection.close()


@pytest.fixture
async def app(
    owner: object, migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[Database]:
    database = await Database.connect(
        login_url(migrated_database_url, "tally_app"), role="tally_app"
    )
    yield database
    await database.close()


NOW = datetime.now(UTC).replace(microsecond=0)


def reading(tenant: str, seq: int, *, machine: str = "cw-1", ts: datetime = NOW) -> Reading:
    return Reading(tenant=tenant, machine=machine, seq=seq, ts=ts, value=float(seq))


async def test_a_claim_returns_the_new_items_once_each_in_their_order(app: Database) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    await DayPartitions(app).ensure(LEDGER.days([reading(tenant, 1)]))

    async def claim(items: list[Reading]) -> list[int]:
        async def work(tx: Tx) -> list[int]:
            return [r.seq for r in await LEDGER.claim(tx, tenant, items)]

        return await app.transaction(work, tenant=tenant)

    first = [reading(tenant, 2), reading(tenant, 1), reading(tenant, 2)]
    assert await claim(first) == [2, 1]
    assert await claim([reading(tenant, 1), reading(tenant, 3)]) == [3]
    # The same seq of another machine is another identity.
    assert await claim([reading(tenant, 3, machine="cw-2")]) == [3]
    assert await claim([]) == []


async def test_a_mixed_batch_is_claimed_and_stored_per_tenant(
    app: Database,
    owner: asyncpg.Connection[asyncpg.Record],
    migrated_database_url: str,
    login_url: LoginUrl,
) -> None:
    tenants = [f"t{secrets.token_hex(4)}" for _ in range(3)]
    broker = MemoryBroker()
    host = ServiceHost(KEEPER, NoSettings(), broker=broker, database=app)
    await host.start()
    try:
        for seq in range(10):
            for tenant in tenants:  # interleaved: every batch mixes the tenants
                await broker.publish(READINGS, reading(tenant, seq))
        # Redelivered or re-sent: changes nothing.
        for tenant in tenants:
            await broker.publish(READINGS, reading(tenant, 4))

        async def stored() -> int:
            return int(
                await owner.fetchval(
                    "SELECT count(*) FROM probe_readings WHERE tenant = ANY($1::text[])", tenants
                )
            )

        await eventually(
            lambda: (
                host.metrics.registry.get_sample_value(
                    "tally_messages_handled_total", {"consumer": "keeper", "tenant": tenants[-1]}
                )
                == 11
            ),
            seconds=30,
        )
        assert await stored() == 30
    finally:
        await host.stop()
    rows = await owner.fetch(
        "SELECT tenant, count(*) AS n FROM probe_readings_ledger WHERE tenant = ANY($1::text[]) "
        "GROUP BY tenant",
        tenants,
    )
    assert {r["tenant"]: r["n"] for r in rows} == dict.fromkeys(tenants, 10)

    async def visible(tx: Tx) -> int:
        return int(await tx.connection.fetchval("SELECT count(*) FROM probe_readings_ledger"))

    # Under row-level security each tenant sees its own ten, and nothing without a tenant.
    assert await app.transaction(visible, tenant=tenants[0]) == 10
    assert await app.transaction(visible) == 0


async def test_a_batch_scoped_to_its_first_tenant_cannot_claim_another_tenants_messages(
    app: Database,
) -> None:
    first, second = f"t{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}"
    await DayPartitions(app).ensure(LEDGER.days([reading(first, 1)]))

    async def wrong(tx: Tx) -> None:
        # The mistake the SDK README once showed: the first message's tenant for the batch.
        await LEDGER.claim(tx, second, [reading(second, 1)])

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await app.transaction(wrong, tenant=first)


async def test_the_ledger_is_partitioned_and_expired_with_the_data_it_protects(
    app: Database, owner: asyncpg.Connection[asyncpg.Record]
) -> None:
    declared = await owner.fetchval(
        "SELECT count(*) FROM tally_partitioned_tables "
        "WHERE parent = 'probe_readings_ledger'::regclass"
    )
    forced = await owner.fetchval(
        "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'probe_readings_ledger'"
    )
    assert (declared, forced) == (1, True)
    tenant = f"t{secrets.token_hex(4)}"
    # Past the longest retention the schema allows (3650 days), whatever other tests store.
    ancient = NOW - timedelta(days=3700)
    await DayPartitions(app).ensure(LEDGER.days([reading(tenant, 1, ts=ancient)]))

    async def claim(tx: Tx) -> None:
        await LEDGER.claim(tx, tenant, [reading(tenant, 1, ts=ancient)])

    await app.transaction(claim, tenant=tenant)
    partition = f"probe_readings_ledger_{ancient:%Y%m%d}"
    assert await owner.fetchval("SELECT to_regclass($1)", partition) is not None
    await owner.fetchval("SELECT tally_expire_datapoints($1)", NOW.date())
    assert await owner.fetchval("SELECT to_regclass($1)", partition) is None


class Untimed(msgspec.Struct, frozen=True):
    machine: str
    ts: str


class Tenanted(msgspec.Struct, frozen=True):
    tenant: str
    machine: str
    ts: datetime


class Odd(msgspec.Struct, frozen=True):
    machine: list[str]
    ts: datetime


@pytest.mark.parametrize(
    ("table", "entry", "key", "message"),
    [
        ("ok", ReadingEntry, ("serial",), "must name fields"),
        ("ok", Untimed, ("machine",), "is no datetime"),
        ("ok", Tenanted, ("machine",), "has a tenant field"),
        ("ok", Odd, ("machine",), "has no column type"),
        ("Bad-Name", ReadingEntry, ("machine",), "lower-case"),
    ],
)
def test_a_ledger_declared_wrongly_is_refused_when_declared(
    table: str, entry: type[msgspec.Struct], key: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        Ledger(table, entry, lambda item: item, key=key)
