"""The demo's closing table: each line's production days from the rollup, beside the truth.

Good packs, reject % and OEE are read from the rollup's tables (tally.figures, as the api reads
them, under the tenant policy); kg and giveaway % come from the simulator's truth only until the
weighings' figures join the rollup (their columns say "truth"). A day the run did not cover
whole is marked partial: the truth counts only what was generated in it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from tally.figures import PeriodFigures, line_figures
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
        f"{'tenant':<11}{'line':<6}{'day':<12}{'good packs':>22}{'kg':>10}{'giveaway %':>11}"
        f"{'reject %':>17}{'OEE %':>15}"
    )
    rows = [
        header,
        f"{'':<29}{'rollup | truth':>22}{'truth':>10}{'truth':>11}"
        f"{'rollup | truth':>17}{'rollup | truth':>15}",
    ]
    async with await Database.connect(owner_url, max_size=2, switch_role=True) as database:
        for truth in truths:
            for tenant in truth.tenants:
                for line in tenant.lines:
                    day = line.production_day
                    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)

                    async def read(
                        tx: Tx, t: str = tenant.tenant, name: str = line.line, s: datetime = start
                    ) -> list:  # type: ignore[type-arg]
                        return await line_figures(tx, t, name, "day", s, s + timedelta(days=3))

                    found = await database.transaction(read, tenant=tenant.tenant, readonly=True)
                    mine = next((f for f in found if f.production_day == day), None)
                    rows.append(_row(tenant.tenant, line, mine))
    return "\n".join(rows)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _row(tenant: str, line: LineDayTruth, mine: PeriodFigures | None) -> str:
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
    partial = "" if line.complete else " (partial)"
    return (
        f"{tenant:<11}{line.line:<6}{line.production_day.isoformat():<12}"
        f"{good + ' | ' + format(line.packs_good, ','):>22}{line.kg:>10,.1f}{_pct(giveaway):>11}"
        f"{reject + ' | ' + _pct(truth_reject):>17}{oee + ' | ' + _pct(line.figures.oee):>15}"
        f"{partial}"
    )
