"""Counting what the demo stored: from the database and the broker, not from the services' word.

Stored messages and datapoints come from the recorder's ledger (read per tenant, under row-level
security like any reader); dead letters from the dead-letter stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

from tally.cli._report import DemoReport, ServiceSummary, TenantSummary
from tally.cli._scrape import scrape, total
from tally.cli._service_processes import ServiceProcess
from tally.sdk import DEAD_LETTER_STREAM, Database, Endpoints, NatsBroker, Tx, query
from tally.simulator import Simulation


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
class Baseline:
    """What was there before the run, per tenant: (ledger count, dead letters)."""

    ledger: dict[str, LedgerCount]
    dead_letters: dict[str, int]


async def baseline(found: Endpoints, tenants: list[str]) -> Baseline:
    return Baseline(await _ledger(found, tenants), await _dead_letters(found, tenants))


async def _ledger(found: Endpoints, tenants: list[str]) -> dict[str, LedgerCount]:
    counts: dict[str, LedgerCount] = {}
    async with await Database.connect(found.database_url, max_size=1) as database:
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


async def summarise(
    found: Endpoints,
    before: Baseline,
    simulation: Simulation,
    *,
    options: tuple[int, float],
    wall: float,
    services: list[ServiceProcess],
    truth_file: Path,
) -> DemoReport:
    tenants = list(before.ledger)
    after = Baseline(await _ledger(found, tenants), await _dead_letters(found, tenants))
    recorder = next(s for s in services if s.name == "recorder")
    async with httpx.AsyncClient(timeout=5.0) as client:
        recorder_metrics = await scrape(client, recorder.url)
    rows: list[TenantSummary] = []
    for tenant in tenants:
        stats = simulation.stats[tenant]
        stored = after.ledger[tenant].messages - before.ledger[tenant].messages
        dropped = stats.duplicates + int(
            total(recorder_metrics, "tally_recorder_duplicates_dropped_total", tenant=tenant)
        )
        acknowledged = stats.accepted + stats.duplicates
        rows.append(
            TenantSummary(
                tenant=tenant,
                messages_sent=stats.messages_sent,
                datapoints_sent=stats.datapoints_sent,
                accepted=acknowledged,
                duplicates_dropped=dropped,
                stored=stored,
                datapoints_stored=after.ledger[tenant].datapoints
                - before.ledger[tenant].datapoints,
                dead_lettered=after.dead_letters[tenant] - before.dead_letters[tenant],
                unsent=stats.unsent,
                lost=acknowledged - dropped - stored,
            )
        )
    truth = simulation.truth
    datapoints = sum(r.datapoints_stored for r in rows)
    accepted_points = sum(s.datapoints_sent for s in simulation.stats.values())
    return DemoReport(
        seed=options[0],
        speed=options[1],
        wall_seconds=round(wall, 1),
        simulated_seconds=float(truth.end - truth.start),
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
        truth_file=str(truth_file),
    )
