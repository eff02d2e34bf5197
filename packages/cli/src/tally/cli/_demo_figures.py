"""The demo's closing table: each line's production days from the rollup, beside the truth.

Good packs, reject % and OEE are read from the rollup's tables, kg and giveaway % from the ℮ lots
of the line's end-of-line machine (tally.figures, as the api reads them, under the tenant
policy). A day the run did not cover whole is marked partial: the truth counts only what was
generated in it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import httpx

from tally.figures import LineDayWeights, PeriodFigures, line_day_weights, line_figures
from tally.registry import RegistrySnapshot, load_snapshot
from tally.sdk import Database, Tx
from tally.simulator import LineDayTruth, Simulation
from tally.supervisor import ServiceProcess, scrape, total

_SETTLE_SECONDS = 180.0


async def wait_for_rollup(client: httpx.AsyncClient, rollup: ServiceProcess) -> bool:
    """Until the rollup has no notice left to recompute (its consumer lag is 0)."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    quiet = 0
    done = -1.0
    while time.monotonic() < deadline:
        samples = await scrape(client, rollup.ops_url)
        lag = total(samples, "tally_consumer_lag", consumer="rollup")
        recomputed = total(samples, "tally_rollup_machine_days_recomputed_total")
        # Lag 0 twice in a row with nothing recomputed in between: the last notice is done.
        quiet = quiet + 1 if lag == 0 and recomputed == done else 0
        done = recomputed
        if quiet >= 2:
            return True
        await asyncio.sleep(2.0)
    return False


async def figures_table(owner_url: str, runs: list[Simulation]) -> str:
    """Per line and production day: the rollup's figures | the truth's."""
    truths = [simulation.truth.to_file() for simulation in runs]
    header = (
        f"{'tenant':<11}{'line':<6}{'day':<12}{'good packs':>22}{'kg':>22}{'giveaway %':>15}"
        f"{'reject %':>17}{'OEE %':>15}"
    )
    rows = [
        header,
        f"{'':<29}{'rollup | truth':>22}{'rollup | truth':>22}{'rollup | truth':>15}"
        f"{'rollup | truth':>17}{'rollup | truth':>15}",
    ]
    async with await Database.connect(owner_url, max_size=2, switch_role=True) as database:
        for truth in truths:
            for tenant in truth.tenants:
                snapshot = await load_snapshot(database, tenant.tenant)
                for line in tenant.lines:
                    day = line.production_day
                    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)

                    async def read(
                        tx: Tx, t: str = tenant.tenant, name: str = line.line, s: datetime = start
                    ) -> list:  # type: ignore[type-arg]
                        return await line_figures(tx, t, name, "day", s, s + timedelta(days=3))

                    found = await database.transaction(read, tenant=tenant.tenant, readonly=True)
                    mine = next((f for f in found if f.production_day == day), None)

                    async def weigh(
                        tx: Tx,
                        name: str = line.line,
                        d: date = day,
                        known: RegistrySnapshot = snapshot,
                    ) -> LineDayWeights | None:
                        return await line_day_weights(tx, known, name, d)

                    weights = await database.transaction(weigh, tenant=tenant.tenant, readonly=True)
                    rows.append(_row(tenant.tenant, line, mine, weights))
    return "\n".join(rows)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _row(
    tenant: str, line: LineDayTruth, mine: PeriodFigures | None, weights: LineDayWeights | None
) -> str:
    truth_total = line.packs_total
    truth_reject = (truth_total - line.packs_good) / truth_total if truth_total else None
    declared = line.kg_declared
    giveaway = line.giveaway_g / 1000 / declared if declared else None
    if mine is None:
        good, reject, oee = "-", "-", "-"
    else:
        good = f"{mine.good_packs:,.0f}"
        total_packs = mine.total_packs
        reject = _pct((total_packs - mine.good_packs) / total_packs if total_packs else None)
        oee = _pct(mine.oee)
    kg = "-" if weights is None else f"{weights.kg:,.1f}"
    weighed_giveaway = None
    if weights is not None and weights.kg_declared:
        weighed_giveaway = weights.giveaway_g / 1000 / weights.kg_declared
    partial = "" if line.complete else " (partial)"
    return (
        f"{tenant:<11}{line.line:<6}{line.production_day.isoformat():<12}"
        f"{good + ' | ' + format(line.packs_good, ','):>22}"
        f"{kg + ' | ' + format(line.kg, ',.1f'):>22}"
        f"{_pct(weighed_giveaway) + ' | ' + _pct(giveaway):>15}"
        f"{reject + ' | ' + _pct(truth_reject):>17}{oee + ' | ' + _pct(line.figures.oee):>15}"
        f"{partial}"
    )
