"""Tenants' registry snapshots, loaded whole and kept until the registry changes.

Every registry write raises the tenant's version (a trigger, migration 0009). `SnapshotCache.of`
asks for that number at most once per `recheck_seconds` — one primary-key lookup — and loads
the tenant again, in one repeatable-read transaction, only when it moved. A rollup asks once per
batch; the same snapshot then answers every question about that batch in memory.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import msgspec

from tally.calendar import ShiftPlan, SiteCalendar
from tally.registry._figure_queries import (
    ArticleVersionRow,
    MembershipRow,
    SettingsRow,
    article_versions_of_tenant,
    lines_of_tenant,
    machine_specs_of_tenant,
    memberships_of_tenant,
    plans_of_tenant,
    registry_version,
    settings_of_tenant,
    sites_of_tenant,
)
from tally.registry._records import MachineKind, StateModel
from tally.registry._settings import FigureSettings
from tally.registry._snapshot import (
    MAX_RATE_FACTOR,
    ArticleTerms,
    LineView,
    MachineView,
    Membership,
    RegistrySnapshot,
    SiteView,
    spans,
)
from tally.sdk import Database, Tx


@dataclass(slots=True)
class _Cached:
    snapshot: RegistrySnapshot
    checked: float


class SnapshotCache:
    """Per-tenant registry snapshots for one process (share it; it is cheap to keep)."""

    def __init__(
        self,
        database: Database,
        *,
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._recheck = recheck_seconds
        self._clock = clock
        self._cached: dict[str, _Cached] = {}

    async def of(self, tenant: str, *, fresh: bool = False) -> RegistrySnapshot:
        """The tenant's snapshot; `fresh` checks the version now whatever the last check."""
        cached = self._cached.get(tenant)
        now = self._clock()
        if cached is not None and not fresh and now - cached.checked < self._recheck:
            return cached.snapshot
        if cached is not None:
            version = await self._version(tenant)
            if version == cached.snapshot.version:
                cached.checked = now
                return cached.snapshot
        snapshot = await load_snapshot(self._db, tenant)
        self._cached[tenant] = _Cached(snapshot, now)
        return snapshot

    def forget(self, tenant: str | None = None) -> None:
        """Drop one tenant's snapshot (or all): the next `of` loads it again."""
        if tenant is None:
            self._cached.clear()
        else:
            self._cached.pop(tenant, None)

    async def _version(self, tenant: str) -> int:
        async def work(tx: Tx) -> int:
            return (await tx.fetch_one(registry_version(tenant))).version

        return await self._db.transaction(work, tenant=tenant, readonly=True)


async def load_snapshot(database: Database, tenant: str) -> RegistrySnapshot:
    """Read a tenant's whole registry, consistently, into a snapshot."""

    async def work(tx: Tx) -> RegistrySnapshot:
        # The version first: a write that lands meanwhile is seen by the next check.
        version = (await tx.fetch_one(registry_version(tenant))).version
        settings_row = await tx.fetch_optional(settings_of_tenant(tenant))
        plans: dict[str, dict[date, ShiftPlan]] = defaultdict(dict)
        for row in await tx.fetch(plans_of_tenant(tenant, None)):
            plans[row.site][row.valid_from] = msgspec.json.decode(row.plan, type=ShiftPlan)
        sites = {
            row.site: SiteView(
                row.site,
                row.timezone,
                row.day_start,
                SiteCalendar(row.timezone, row.day_start, plans.get(row.site)),
            )
            for row in await tx.fetch(sites_of_tenant(tenant))
        }
        lines = {
            row.line: LineView(
                row.line, sites[row.site], row.constraint_machine, row.end_of_line_machine
            )
            for row in await tx.fetch(lines_of_tenant(tenant))
        }
        versions = await tx.fetch(article_versions_of_tenant(tenant, None))
        highest = max((v.ideal_rate_ppm for v in versions), default=None)
        default_rate = None if highest is None else MAX_RATE_FACTOR * highest
        machines = {
            row.machine: MachineView(
                row.machine,
                MachineKind(row.kind),
                row.position,
                StateModel(row.state_model),
                row.counter_rollover,
                row.max_rate_ppm if row.max_rate_ppm is not None else default_rate,
            )
            for row in await tx.fetch(machine_specs_of_tenant(tenant))
        }
        memberships = membership_spans(await tx.fetch(memberships_of_tenant(tenant, None)))
        return RegistrySnapshot(
            tenant,
            version,
            settings_from_row(settings_row),
            lines,
            machines,
            memberships,
            article_spans(versions),
        )

    return await database.transaction(
        work, tenant=tenant, readonly=True, isolation="repeatable_read"
    )


def settings_from_row(row: SettingsRow | None) -> FigureSettings:
    """The settings a row holds (no row: the defaults)."""
    if row is None:
        return FigureSettings()
    return msgspec.convert(
        {
            "micro_stop_seconds": row.micro_stop_seconds,
            "gap_seconds": row.gap_seconds,
            "changeover_is_loss": row.changeover_is_loss,
            "cleaning_is_loss": row.cleaning_is_loss,
            "state_rules": msgspec.json.decode(row.state_rules),
            "pack_counters": msgspec.json.decode(row.pack_counters),
            "good_counter": row.good_counter,
        },
        FigureSettings,
    )


def membership_spans(rows: list[MembershipRow]) -> dict[str, list[Membership]]:
    """Rows ordered by machine and time as each machine's [start, end) lines."""
    by_machine: dict[str, list[MembershipRow]] = defaultdict(list)
    for row in rows:
        by_machine[row.machine].append(row)
    return {
        machine: [
            Membership(machine, row.line, start, end)
            for row, (start, end) in zip(ms, spans([r.valid_from for r in ms]), strict=True)
        ]
        for machine, ms in by_machine.items()
    }


def article_spans(rows: list[ArticleVersionRow]) -> dict[str, list[ArticleTerms]]:
    """Rows ordered by article and time as each article's [start, end) terms."""
    by_article: dict[str, list[ArticleVersionRow]] = defaultdict(list)
    for row in rows:
        by_article[row.article].append(row)
    return {
        article: [
            ArticleTerms(
                article,
                start,
                end,
                row.nominal_dg,
                row.t1_dg,
                row.t2_dg,
                row.ideal_rate_ppm,
                row.price_cents,
            )
            for row, (start, end) in zip(vs, spans([r.valid_from for r in vs]), strict=True)
        ]
        for article, vs in by_article.items()
    }
