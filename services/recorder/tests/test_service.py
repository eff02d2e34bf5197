"""The recorder against a real PostgreSQL: stored once, whatever is redelivered or re-sent."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from tally.contracts import TELEMETRY, Counter, Telemetry, Weighing
from tally.recorder.service import RecorderDeps, service
from tally.recorder.settings import RecorderSettings
from tally.sdk import Database, MemoryBroker, ServiceHost, Tx
from tally.sdk.testing import LoginUrl, eventually

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
async def admin(migrated_database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    connection = await asyncpg.connect(migrated_database_url)
    yield connection
    await connection.close()


@dataclass(frozen=True)
class Running:
    broker: MemoryBroker
    deps: RecorderDeps

    def stored(self, tenant: str) -> float:
        return float(self.deps.stored.labels(tenant)._value.get())

    def duplicates(self, tenant: str) -> float:
        return float(self.deps.duplicates.labels(tenant)._value.get())


@pytest.fixture
async def recorder(
    admin: object, migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[Running]:
    broker = MemoryBroker()
    role = service.database_role
    database = await Database.connect(login_url(migrated_database_url, role), role=role)
    host = ServiceHost(service, RecorderSettings(), broker=broker, database=database)
    await host.start()
    assert host.deps is not None
    yield Running(broker, host.deps)
    await host.stop()
    await database.close()


def telemetry(tenant: str, seq: int, *, ts: datetime | None = None, boot: str = "b1") -> Telemetry:
    # A message re-sent is the same message: same identity, same device time.
    at = ts or NOW - timedelta(seconds=seq)
    return Telemetry(
        tenant=tenant,
        machine="cw-1",
        boot_id=boot,
        seq=seq,
        ts=at,
        signals=[
            Counter(name="packs_total", value=seq),
            Weighing(article="salami-100", net_g=101.5, accepted=True),
        ],
    )


async def count(admin: asyncpg.Connection[asyncpg.Record], table: str, tenant: str) -> int:
    value = await admin.fetchval(f"SELECT count(*) FROM {table} WHERE tenant = $1", tenant)
    assert isinstance(value, int)
    return value


async def test_each_message_is_stored_once_even_when_published_again_and_redelivered(
    recorder: Running, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    broker = recorder.broker
    for seq in range(50):
        await broker.publish(TELEMETRY, telemetry(tenant, seq))
    # Re-sent after JetStream's duplicate window: only the ledger can catch these.
    for seq in range(10):
        await broker.publish_bytes(
            TELEMETRY.subject(telemetry(tenant, seq)),
            msgspec.json.encode(telemetry(tenant, seq)),
        )
    await eventually(lambda: recorder.stored(tenant) == 50)
    await eventually(lambda: recorder.duplicates(tenant) == 10)
    assert await count(admin, "telemetry_messages", tenant) == 50
    assert await count(admin, "counter_samples", tenant) == 50
    assert await count(admin, "weighings", tenant) == 50


async def test_late_data_lands_in_the_day_it_describes(
    recorder: Running, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    old = datetime.now(UTC) - timedelta(days=20)
    await recorder.broker.publish(TELEMETRY, telemetry(tenant, 1, ts=old))
    await eventually(lambda: recorder.stored(tenant) == 1)
    partition = await admin.fetchval(
        "SELECT tableoid::regclass::text FROM counter_samples WHERE tenant = $1", tenant
    )
    assert partition == f"counter_samples_{old:%Y%m%d}"


async def test_the_reading_role_cannot_see_another_tenants_rows_or_write_raw_data(
    recorder: Running,
    migrated_database_url: str,
    login_url: LoginUrl,
    admin: asyncpg.Connection[asyncpg.Record],
) -> None:
    mine, theirs = f"t{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}"
    for tenant in (mine, theirs):
        await recorder.broker.publish(TELEMETRY, telemetry(tenant, 1))
    # Two batches may be in flight at once: wait for both tenants.
    await eventually(lambda: recorder.stored(mine) == 1 and recorder.stored(theirs) == 1)
    reader = await Database.connect(login_url(migrated_database_url, "tally_app"))
    try:

        async def visible(tx: Tx) -> int:
            # No tenant filter on purpose: row-level security alone must hide other tenants.
            return int(await tx.connection.fetchval("SELECT count(*) FROM counter_samples"))

        assert await reader.transaction(visible, tenant=mine) == 1
        assert await reader.transaction(visible) == 0
    finally:
        await reader.close()


async def test_expiry_drops_whole_days_past_every_retention_and_trims_shorter_ones(
    admin: asyncpg.Connection[asyncpg.Record],
) -> None:
    keeper, brief = f"t{secrets.token_hex(4)}", f"t{secrets.token_hex(4)}"
    today = datetime.now(UTC).date()
    # Past the longest retention the schema allows (3650 days), whatever other tests store.
    ancient, recent = today - timedelta(days=3700), today - timedelta(days=20)
    await admin.execute(
        "INSERT INTO tenants (tenant, name, retention_days) VALUES ($1, 'keeps', 400), "
        "($2, 'brief', 10)",
        keeper,
        brief,
    )
    for day in (ancient, recent):
        await admin.execute("SELECT tally_ensure_partitions($1, $1)", day)
        for tenant in (keeper, brief):
            await admin.execute(
                "INSERT INTO gauge_samples (tenant, machine, name, ts, value) "
                "VALUES ($1, 'm', 'speed', $2, 1.0)",
                tenant,
                datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12),
            )
    dropped = await admin.fetchval("SELECT tally_expire_datapoints($1)", today)
    assert dropped >= 7  # the ancient day of every raw table
    assert await admin.fetchval("SELECT to_regclass($1)", f"gauge_samples_{ancient:%Y%m%d}") is None
    left = await admin.fetch(
        "SELECT tenant FROM gauge_samples WHERE tenant = ANY($1::text[])", [keeper, brief]
    )
    # The long retention keeps its 20-day-old row; the 10-day retention loses its own.
    assert [row["tenant"] for row in left] == [keeper]


async def test_expiry_trims_on_each_later_run_the_days_that_expired_since(
    admin: asyncpg.Connection[asyncpg.Record],
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    today = datetime.now(UTC).date()
    await admin.execute(
        "INSERT INTO tenants (tenant, name, retention_days) VALUES ($1, 'brief', 10)", tenant
    )
    day = today - timedelta(days=8)
    await admin.execute("SELECT tally_ensure_partitions($1, $1)", day)
    await admin.execute(
        "INSERT INTO gauge_samples (tenant, machine, name, ts, value) "
        "VALUES ($1, 'm', 'speed', $2, 1.0)",
        tenant,
        datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12),
    )
    await admin.execute("SELECT tally_expire_datapoints($1)", today)
    assert await count(admin, "gauge_samples", tenant) == 1  # 8 days old: kept
    # Three days on, the row is 11 days old: the run trims the days expired since the last one.
    await admin.execute("SELECT tally_expire_datapoints($1)", today + timedelta(days=3))
    assert await count(admin, "gauge_samples", tenant) == 0


async def test_maintenance_runs_on_a_schedule_and_makes_the_days_ahead(
    recorder: Running, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    ahead = datetime.now(UTC).date() + timedelta(days=RecorderSettings().partitions_ahead_days)

    async def done() -> bool:
        return bool(
            await admin.fetchval(
                "SELECT finished_at IS NOT NULL FROM tally_schedule_runs "
                "WHERE service = 'recorder' AND schedule = 'maintenance' "
                "ORDER BY due DESC LIMIT 1"
            )
        )

    await eventually(done, seconds=30)
    assert await admin.fetchval("SELECT to_regclass($1)", f"weighings_{ahead:%Y%m%d}") is not None


async def test_a_day_another_process_expired_is_made_again_for_late_data(
    recorder: Running, admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    await recorder.broker.publish(TELEMETRY, telemetry(tenant, 1, ts=old))
    await eventually(lambda: recorder.stored(tenant) == 1)
    # Another recorder process's expiry drops the day this one made and remembers.
    for (parent,) in await admin.fetch(
        "SELECT c.relname FROM tally_partitioned_tables t JOIN pg_class c ON c.oid = t.parent"
    ):
        await admin.execute(f'DROP TABLE IF EXISTS "{parent}_{old:%Y%m%d}"')
    await recorder.broker.publish(TELEMETRY, telemetry(tenant, 2, ts=old))
    await eventually(lambda: recorder.stored(tenant) == 2, seconds=30)
    assert await count(admin, "counter_samples", tenant) == 1  # the first went with its day
