"""Counting what the demo stored: from the database and the broker, not from the services' word.

Stored messages and datapoints come from the recorder's ledger (read per tenant, under row-level
security like any reader); dead letters from the dead-letter stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from tally.cli._report import DemoReport, ServiceSummary, TenantSummary
from tally.sdk import DEAD_LETTER_STREAM, Database, Endpoints, NatsBroker, Tx, query
from tally.simulator import Simulation, TenantStats
from tally.supervisor import Samples, ServiceProcess, total


class LedgerCount(msgspec.Struct, frozen=True):
    messages: int
    datapoints: int


@query(
    LedgerCount,
    """
    SELECT count(*) AS messages, coalesce(sum(signals), 0)::bigint AS datapoints
    FROM telemetry_messages WHERE tenant = $1
    """,
)
def ledger_count(tenant: str) -> None: ...


@dataclass(frozen=True)
class Snapshot:
    """What the database and the dead-letter stream hold, per tenant."""

    ledger: dict[str, LedgerCount]
    dead_letters: dict[str, int]


async def snapshot(found: Endpoints, tenants: list[str]) -> Snapshot:
    return Snapshot(await _ledger(found, tenants), await _dead_letters(found, tenants))


async def _ledger(found: Endpoints, tenants: list[str]) -> dict[str, LedgerCount]:
    counts: dict[str, LedgerCount] = {}
    async with await Database.connect(found.database_url, max_size=1, switch_role=True) as database:
        for tenant in tenants:

            async def read(tx: Tx, tenant: str = tenant) -> LedgerCount:
                return await tx.fetch_one(ledger_count(tenant))

            counts[tenant] = await database.transaction(read, tenant=tenant, readonly=True)
    return counts


async def _dead_letters(found: Endpoints, tenants: list[str]) -> dict[str, int]:
    broker = await NatsBroker.connect(found.nats_url, name="tally-demo")
    try:
        await broker.ensure_stream(DEAD_LETTER_STREAM)
        return {
            tenant: len(await broker.browse(DEAD_LETTER_STREAM, f"deadletter.{tenant}.>"))
            for tenant in tenants
        }
    finally:
        await broker.close()


def combined_stats(runs: Sequence[Simulation]) -> dict[str, TenantStats]:
    """Per-tenant sending statistics summed over the demo's runs (backfill, then live)."""
    combined: dict[str, TenantStats] = {}
    for simulation in runs:
        for tenant, stats in simulation.stats.items():
            into = combined.setdefault(tenant, TenantStats())
            for name in TenantStats.__slots__:
                setattr(into, name, getattr(into, name) + getattr(stats, name))
    return combined


async def summarise(
    found: Endpoints,
    before: Snapshot,
    runs: Sequence[Simulation],
    recorder_metrics: Samples,
    *,
    seed: int,
    speed: float,
    wall: float,
    services: list[ServiceProcess],
    truth_files: list[str],
) -> DemoReport:
    tenants = list(before.ledger)
    after = await snapshot(found, tenants)
    sent = combined_stats(runs)
    rows = [
        _tenant_summary(tenant, sent[tenant], before, after, recorder_metrics) for tenant in tenants
    ]
    datapoints = sum(r.datapoints_stored for r in rows)
    accepted_points = sum(s.datapoints_sent for s in sent.values())
    return DemoReport(
        seed=seed,
        speed=speed,
        wall_seconds=round(wall, 1),
        simulated_seconds=float(sum(r.truth.end - r.truth.start for r in runs)),
        tenants=rows,
        services=[
            ServiceSummary(name=s.name, peak_rss_mb=round(s.peak_rss / 2**20, 1)) for s in services
        ],
        datapoints_per_second_accepted=round(accepted_points / wall, 1),
        datapoints_per_second_stored=round(datapoints / wall, 1),
        sent=sum(r.messages_sent for r in rows),
        accepted=sum(r.accepted for r in rows),
        duplicates_dropped=sum(r.duplicates_dropped for r in rows),
        stored=sum(r.stored for r in rows),
        dead_lettered=sum(r.dead_lettered for r in rows),
        lost=sum(r.lost for r in rows),
        truth_files=truth_files,
    )


def _tenant_summary(
    tenant: str, stats: TenantStats, before: Snapshot, after: Snapshot, recorder_metrics: Samples
) -> TenantSummary:
    # The gateway acknowledges new messages and JetStream duplicates alike; each acknowledged
    # message ends up stored, dropped as a duplicate (by JetStream or the recorder's ledger) or
    # dead-lettered. Whatever is in none of these is lost.
    accepted = stats.accepted + stats.duplicates
    dropped = stats.duplicates + int(
        total(recorder_metrics, "tally_recorder_duplicates_dropped_total", tenant=tenant)
    )
    stored = after.ledger[tenant].messages - before.ledger[tenant].messages
    dead = after.dead_letters[tenant] - before.dead_letters[tenant]
    return TenantSummary(
        tenant=tenant,
        messages_sent=stats.messages_sent,
        datapoints_sent=stats.datapoints_sent,
        accepted=accepted,
        duplicates_dropped=dropped,
        stored=stored,
        datapoints_stored=after.ledger[tenant].datapoints - before.ledger[tenant].datapoints,
        dead_lettered=dead,
        unsent=stats.unsent,
        lost=accepted - dropped - stored - dead,
    )
