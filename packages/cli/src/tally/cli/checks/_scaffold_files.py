"""The files of a new service, as templates: `{{name}}`, `{{pkg}}`, `{{Class}}`, `{{ENV}}`,
`{{port}}`, `{{ops_port}}` are replaced; nothing else is, so the code inside reads as the code it
becomes.
(Import order and line breaks depend on the name: ruff settles them after rendering.)

The service consumes every telemetry message on its own durable consumer and counts them per
tenant, line and timing, looking each machine's line up in PostgreSQL, and answers the counts of
a tenant over HTTP to administrators: one consumer, one query, one endpoint, two settings, one
metric. It is a shape to replace, chosen so that every part is real.
"""

from __future__ import annotations

PYPROJECT = """\
[project]
name = "tally-{{name}}"
version = "0.1.0"
description = "tally.{{pkg}}: counts telemetry per tenant, line and timing (a new service)"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["tally-sdk", "tally-contracts", "msgspec>=0.19", "prometheus-client>=0.21"]

[dependency-groups]
dev = ["httpx>=0.28"]

[build-system]
requires = ["uv_build>=0.8,<0.14"]
build-backend = "uv_build"

[tool.uv.build-backend]
module-name = "tally.{{pkg}}"

[tool.uv.sources]
tally-sdk = { workspace = true }
tally-contracts = { workspace = true }
"""

README = """\
# tally.{{pkg}}

Counts telemetry messages per tenant, line and timing (a service made by `tally new service`;
say here what it is for).

    uv run python -m tally.{{pkg}}      # TALLY_NATS_URL, TALLY_DATABASE_URL

    curl -s localhost:{{ops_port}}/metrics | grep tally_{{pkg}}_messages_total
    tally_{{pkg}}_messages_total{line="line-1",tenant="acme",timing="live"} 1200.0

    curl -s -H "Authorization: Bearer $TALLY_{{ENV}}_ADMIN_TOKEN" \\
        localhost:{{port}}/v1/tenants/acme/counts
    {"tenant":"acme","counts":[{"line":"line-1","timing":"live","messages":1200}]}

Its OpenAPI document is at `localhost:{{port}}/openapi.json`. It logs in to PostgreSQL as
`tally_app` (TALLY_DATABASE_URL is that role's login). Settings (TALLY_{{ENV}}_*):
`ADMIN_TOKEN` (required, at least 24 characters): the administrators' bearer token;
`LATE_AFTER_SECONDS` (default 300): messages whose device time is older than this count as
late. Its consumer's options without editing code:
`TALLY_{{ENV}}_CONSUMER_{{ENV}}_BATCH_SIZE` (200), `..._ACK_WAIT_SECONDS` and the others of the
SDK README. Checks and tests: `uv run tally check`, `uv run pytest services/{{name}}`.
"""

INIT = '''\
"""tally.{{pkg}}: counts telemetry per tenant, line and timing.

A service: run it with ``python -m tally.{{pkg}}``; nothing here is imported by other members.
"""
'''

MAIN = '''\
"""python -m tally.{{pkg}} [--workers N]"""

from tally.{{pkg}}.service import service
from tally.sdk import run_service

if __name__ == "__main__":
    run_service(service)
'''

SETTINGS = '''\
"""The {{name}} service's settings, from TALLY_{{ENV}}_*."""

from __future__ import annotations

from typing import Annotated

import msgspec


class {{Class}}Settings(msgspec.Struct, frozen=True, kw_only=True):
    # The administrators' bearer token for the HTTP endpoint, long enough not to be guessed:
    # `python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one.
    admin_token: Annotated[str, msgspec.Meta(min_length=24)]
    # Device time older than this is a replay or a drifting clock: counted apart as late.
    late_after_seconds: float = 300.0

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks; the token must not.
        return f"{type(self).__name__}(admin_token=<hidden>, ...)"
'''

QUERIES = '''\
"""The {{name}} service's SQL."""

from __future__ import annotations

import msgspec

from tally.sdk import query


class MachineLine(msgspec.Struct, frozen=True):
    line: str


# Row-level security shows only the transaction's tenant; the filter says so too.
@query(MachineLine, "SELECT line FROM machines WHERE tenant = $1 AND machine = $2")
def line_of_machine(tenant: str, machine: str) -> None: ...
'''

SERVICE = '''\
"""The {{name}} service: counts telemetry per tenant, line and timing.

    GET /v1/tenants/{tenant}/counts   what this process counted for a tenant (administrators)

Its own durable consumer sees every telemetry message, whatever other services do. Each batch
is counted per tenant in one read-only transaction that looks the machines' lines up. Replace
`count_batch` and `tenant_counts` with what the service is for.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
from prometheus_client import Counter

from tally.contracts import TELEMETRY, Telemetry
from tally.{{pkg}}.queries import line_of_machine
from tally.{{pkg}}.settings import {{Class}}Settings
from tally.sdk import (
    AdminCaller,
    AdminToken,
    Call,
    Consumer,
    Database,
    DatabaseRuntime,
    Endpoint,
    Envelope,
    Service,
    Tx,
    by_tenant,
)


@dataclass(frozen=True)
class {{Class}}Deps:
    database: Database
    settings: {{Class}}Settings
    messages: Counter
    # tenant → (line, timing) → messages, as counted by this process
    counted: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)


class TenantPath(msgspec.Struct, frozen=True):
    tenant: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class LineCount(msgspec.Struct, frozen=True, kw_only=True):
    line: str
    timing: str
    messages: int


class TenantCounts(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    counts: list[LineCount]


async def count_batch(deps: {{Class}}Deps, batch: Sequence[Envelope[Telemetry]]) -> None:
    """Count a batch; the SDK acknowledges it after this returns."""
    late = datetime.now(UTC) - timedelta(seconds=deps.settings.late_after_seconds)
    # A batch mixes tenants: each tenant's reads run scoped to that tenant.
    for tenant, envelopes in by_tenant(batch).items():
        machines = sorted({e.message.machine for e in envelopes})
        lines = await deps.database.transaction(
            _lines_of(tenant, machines), tenant=tenant, readonly=True
        )
        counted = deps.counted.setdefault(tenant, {})
        for envelope in envelopes:
            timing = "late" if envelope.message.ts < late else "live"
            line = lines[envelope.message.machine]
            deps.messages.labels(tenant, line, timing).inc()
            counted[line, timing] = counted.get((line, timing), 0) + 1


async def tenant_counts(deps: {{Class}}Deps, call: Call[AdminCaller, TenantPath]) -> TenantCounts:
    """GET /v1/tenants/{tenant}/counts: what this process counted for the tenant."""
    counted = deps.counted.get(call.path.tenant, {})
    counts = [
        LineCount(line=line, timing=timing, messages=n)
        for (line, timing), n in sorted(counted.items())
    ]
    return TenantCounts(tenant=call.path.tenant, counts=counts)


def _admin_token(deps: {{Class}}Deps) -> str:
    return deps.settings.admin_token


COUNTS = Endpoint(
    "GET",
    "/v1/tenants/{tenant}/counts",
    tenant_counts,
    auth=AdminToken(_admin_token),
    params=TenantPath,
    response=TenantCounts,
    summary="Telemetry messages this process counted for a tenant, per line and timing",
)


def _lines_of(tenant: str, machines: list[str]) -> Callable[[Tx], Awaitable[dict[str, str]]]:
    async def read(tx: Tx) -> dict[str, str]:
        found: dict[str, str] = {}
        for machine in machines:
            row = await tx.fetch_optional(line_of_machine(tenant, machine))
            found[machine] = row.line if row is not None else "unregistered"
        return found

    return read


@contextlib.asynccontextmanager
async def {{pkg}}_deps(
    runtime: DatabaseRuntime, settings: {{Class}}Settings
) -> AsyncIterator[{{Class}}Deps]:
    yield {{Class}}Deps(
        database=runtime.database,
        settings=settings,
        messages=Counter(
            "tally_{{pkg}}_messages",
            "Telemetry messages counted, per tenant, line and timing (live or late)",
            ["tenant", "line", "timing"],
            registry=runtime.metrics.registry,
        ),
    )


service = Service(
    name="{{name}}",
    settings={{Class}}Settings,
    deps={{pkg}}_deps,
    consumers=[Consumer("{{name}}", TELEMETRY, count_batch, batch_size=200)],
    endpoints=[COUNTS],
    uses_database=True,
    default_port={{port}},
)
'''

TESTS = '''\
"""The {{name}} service against a real PostgreSQL and the in-memory broker."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tally.contracts import TELEMETRY, Counter, Signal, Telemetry
from tally.{{pkg}}.service import {{Class}}Deps, service
from tally.{{pkg}}.settings import {{Class}}Settings
from tally.sdk import Database, MemoryBroker, ServiceHost
from tally.sdk.testing import LoginUrl, eventually

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "an-administrators-token-of-some-length"


@dataclass(frozen=True)
class Running:
    host: ServiceHost[{{Class}}Settings, {{Class}}Deps]
    broker: MemoryBroker

    def counted(self, tenant: str, line: str, timing: str) -> float:
        labels = {"tenant": tenant, "line": line, "timing": timing}
        name = "tally_{{pkg}}_messages_total"
        return self.host.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def running(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Running]:
    # Logs in as the service's own role, as it does when run.
    role = service.database_role
    database = await Database.connect(login_url(migrated_database_url, role), role=role)
    broker = MemoryBroker()
    settings = {{Class}}Settings(admin_token=ADMIN_TOKEN)
    host = ServiceHost(service, settings, broker=broker, database=database)
    await host.start()
    yield Running(host, broker)
    await host.stop()
    await database.close()


async def register_machine(database_url: str, tenant: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        async with admin.transaction():
            await admin.execute("SELECT set_config('tally.tenant', $1, true)", tenant)
            await admin.execute("INSERT INTO tenants (tenant, name) VALUES ($1, $1)", tenant)
            await admin.execute(
                "INSERT INTO sites (tenant, site, name, timezone) VALUES ($1, 'p', 'P', 'UTC')",
                tenant,
            )
            await admin.execute(
                "INSERT INTO lines (tenant, line, site, name) VALUES ($1, 'line-1', 'p', 'L')",
                tenant,
            )
            await admin.execute(
                "INSERT INTO machines (tenant, machine, line, kind) "
                "VALUES ($1, 'slicer-1', 'line-1', 'slicer')",
                tenant,
            )
    finally:
        await admin.close()


def telemetry(tenant: str, machine: str, seq: int, ts: datetime) -> Telemetry:
    signals: list[Signal] = [Counter(name="packs_total", value=seq)]
    return Telemetry(tenant=tenant, machine=machine, boot_id="b1", seq=seq, ts=ts, signals=signals)


async def test_messages_are_counted_per_line_and_timing(
    running: Running, migrated_database_url: str
) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    await register_machine(migrated_database_url, tenant)
    now = datetime.now(UTC)
    for seq in range(3):
        await running.broker.publish(TELEMETRY, telemetry(tenant, "slicer-1", seq, now))
    hour_ago = now - timedelta(hours=1)
    await running.broker.publish(TELEMETRY, telemetry(tenant, "slicer-1", 9, hour_ago))
    await eventually(lambda: running.counted(tenant, "line-1", "live") == 3)
    await eventually(lambda: running.counted(tenant, "line-1", "late") == 1)


async def test_an_unregistered_machine_is_counted_apart(running: Running) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    await running.broker.publish(TELEMETRY, telemetry(tenant, "ghost", 1, datetime.now(UTC)))
    await eventually(lambda: running.counted(tenant, "unregistered", "live") == 1)


async def test_administrators_read_a_tenants_counts_and_nobody_else(running: Running) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    await running.broker.publish(TELEMETRY, telemetry(tenant, "ghost", 1, datetime.now(UTC)))
    await eventually(lambda: running.counted(tenant, "unregistered", "live") == 1)
    url = f"http://127.0.0.1:{running.host.port}/v1/tenants/{tenant}/counts"
    async with httpx.AsyncClient() as client:
        counts = await client.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        stranger = await client.get(url)

    assert counts.json() == {
        "tenant": tenant,
        "counts": [{"line": "unregistered", "timing": "live", "messages": 1}],
    }
    assert stranger.status_code == 401
'''
