"""A line's production made by hand: raw rows as the recorder stores them (as the owner), then
the rollup's recomputation (as tally_rollup) — so the api's tests read real figures.

A line of a thermoformer (the constraint machine) and a checkweigher (end of line): both run
from `start`, one pack a second, one weighing per pack at the checkweigher (101.0 g, every
20th rejected as underweight), except `held` minutes in the middle where the thermoformer is
Held (an equipment failure, with a first-out alarm).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.api.tests.conftest import Api
from tally.calendar import Shift, ShiftPlan
from tally.figures import Touched, recompute
from tally.registry import Registry, SitePlan, load_snapshot
from tally.sdk import Database, Tx
from tally.sdk.testing import LoginUrl

MACHINES = ("l1-tf", "l1-cw")
ROUND_THE_CLOCK = ShiftPlan(
    shifts=(
        Shift(name="early", start="06:00", hours=8),
        Shift(name="late", start="14:00", hours=8),
        Shift(name="night", start="22:00", hours=8),
    )
)


@dataclass
class MadeProduction:
    tenant: str
    owner_url: str
    app: Database
    rollup: Database
    packs: int = 0

    async def plan(self) -> None:
        await Registry(self.app).put_plan(
            SitePlan(tenant=self.tenant, site="p1", plan=ROUND_THE_CLOCK)
        )

    async def run(self, start: datetime, minutes: int, *, held: int = 0) -> None:
        """`minutes` of production from `start` (the middle `held` of them stopped), stored
        and rolled up."""
        stop_from = start + timedelta(minutes=(minutes - held) // 2)
        stop_to = stop_from + timedelta(minutes=held)
        connection = await asyncpg.connect(self.owner_url)
        try:
            await connection.execute(
                "SELECT tally_ensure_partitions($1, $2)",
                (start - timedelta(days=1)).date(),
                (start + timedelta(days=2)).date(),
            )
            await self._store(connection, start, minutes, stop_from, stop_to)
        finally:
            await connection.close()
        snapshot = await load_snapshot(self.app, self.tenant)
        end = start + timedelta(minutes=minutes)
        for machine in MACHINES:
            touched = Touched(
                tenant=self.tenant,
                machine=machine,
                start=start.timestamp(),
                end=end.timestamp(),
            )

            async def work(tx: Tx, touched: Touched = touched) -> None:
                await recompute(tx, snapshot, touched)

            await self.rollup.transaction(work, tenant=self.tenant)

    async def _store(
        self,
        connection: asyncpg.Connection,
        start: datetime,
        minutes: int,
        stop_from: datetime,
        stop_to: datetime,
    ) -> None:
        tenant = self.tenant
        seconds = [start + timedelta(seconds=s) for s in range(minutes * 60 + 1)]
        producing = [t for t in seconds if not stop_from <= t < stop_to]
        messages, counters, weighings = [], [], []
        for machine in MACHINES:
            made = self.packs
            for index, t in enumerate(seconds):
                if t in producing and t != seconds[0]:
                    made += 1
                seq = int(t.timestamp())
                messages.append((tenant, machine, "boot", seq, t, False, 1))
                if index % 10 == 0 or t == seconds[-1]:
                    counters.append((tenant, machine, "packs_total", t, made, "boot", seq))
        for t in producing[1:]:
            self.packs += 1
            rejected = self.packs % 20 == 0
            weighings.append(
                (tenant, "l1-cw", t, "salami-100", 93.0 if rejected else 101.0, not rejected,
                 None if not rejected else "underweight")
            )  # fmt: skip
        states: list[tuple[str, str, datetime, str, str, str, str | None]] = [
            (tenant, m, start, "Execute", "packml", "production", None) for m in MACHINES
        ]
        if stop_to > stop_from:
            states += [
                (tenant, "l1-tf", stop_from, "Held", "packml", "production", "equipment"),
                (tenant, "l1-tf", stop_to, "Execute", "packml", "production", None),
            ]
        await connection.executemany(
            "INSERT INTO telemetry_messages (tenant, machine, boot_id, seq, ts, historical, "
            "signals) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            messages,
        )
        await connection.executemany(
            "INSERT INTO counter_samples (tenant, machine, name, ts, value, boot_id, seq) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            counters,
        )
        await connection.executemany(
            "INSERT INTO weighings (tenant, machine, ts, article, net_g, accepted, zone, "
            "reject_reason) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
            weighings,
        )
        await connection.executemany(
            "INSERT INTO state_changes (tenant, machine, ts, name, model, mode, sub_state) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            states,
        )
        await connection.executemany(
            "INSERT INTO context_events (tenant, machine, ts, event, article) "
            "VALUES ($1, $2, $3, 'article_change', 'salami-100')",
            [(tenant, m, start) for m in MACHINES],
        )
        if stop_to > stop_from:
            await connection.execute(
                "INSERT INTO alarms (tenant, machine, ts, code, raised, category, first_out, "
                "text) VALUES ($1, 'l1-tf', $2, 'E12', true, 'equipment', true, 'Film jam')",
                tenant,
                stop_from,
            )


async def plant(api: Api, tenant: str) -> None:
    """A site in Berlin with one line of two machines, and an article."""
    base = f"/v1/admin/tenants/{tenant}"
    site = {"name": "Kempten", "timezone": "Europe/Berlin"}
    for path, body in (
        (f"{base}/sites/p1", site),
        (f"{base}/lines/l1", {"site": "p1", "name": "Line 1"}),
        (f"{base}/machines/l1-tf", {"line": "l1", "kind": "thermoformer"}),
        (f"{base}/machines/l1-cw", {"line": "l1", "kind": "checkweigher", "position": 1}),
        (
            f"{base}/articles/salami-100",
            {"name": "Salami", "nominal_g": 100, "ideal_rate_ppm": 120, "price_per_kg": 14.9},
        ),
    ):
        answer = await api.client.put(path, json=body)
        assert answer.status_code == 200, answer.text


@asynccontextmanager
async def making(tenant: str, url: str, login_url: LoginUrl) -> AsyncIterator[MadeProduction]:
    """The tenant's round-the-clock plan, and a way to make production (as the app and the
    rollup log in)."""
    async with (
        await Database.connect(login_url(url, "tally_app"), max_size=2) as app,
        await Database.connect(
            login_url(url, "tally_rollup"), max_size=2, role="tally_rollup"
        ) as rollup,
    ):
        production = MadeProduction(tenant, url, app, rollup)
        await production.plan()
        yield production
