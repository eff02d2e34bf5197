"""A tenant's registry as the rollup reads it: one snapshot answers a batch's questions in
memory — a machine's line and an article's terms at an instant, a line's calendar and roles —
and it is loaded again only when the registry changed."""

from __future__ import annotations

import math
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time

import pytest

from tally.calendar import Shift, ShiftPlan
from tally.registry import (
    Article,
    ArticleVersion,
    FigureSettings,
    Line,
    LineRoles,
    Machine,
    MachineKind,
    MachineMove,
    Registry,
    Site,
    SitePlan,
    SnapshotCache,
    Tenant,
)
from tally.sdk import Database
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

MOVED = datetime(2025, 6, 2, 12, tzinfo=UTC)
REPRICED = datetime(2025, 6, 3, tzinfo=UTC)
EARLY = ShiftPlan(shifts=(Shift(name="early", start="06:00", hours=8),))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def database(migrated_database_url: str, login_url: LoginUrl) -> AsyncIterator[Database]:
    # Logs in as tally_app, as the rollup will: row-level security applies.
    async with await Database.connect(
        login_url(migrated_database_url, "tally_app"), max_size=2
    ) as database:
        yield database


async def a_tenant(registry: Registry) -> str:
    """Two lines in Kempten; a thermoformer moves from l1 to l2 at MOVED; ham changes price."""
    tenant = f"t{secrets.token_hex(5)}"
    await registry.put_tenant(Tenant(tenant=tenant, name="Test tenant"))
    site = Site(tenant=tenant, site="s1", name="Kempten", timezone="Europe/Berlin")
    await registry.put_site(site)
    await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=EARLY))
    for line in ("l1", "l2"):
        await registry.put_line(Line(tenant=tenant, line=line, site="s1", name=line))
    for machine, kind, position in (
        ("tf", MachineKind.THERMOFORMER, 1),
        ("cw", MachineKind.CHECKWEIGHER, 2),
        ("sl", MachineKind.SLICER, 0),
    ):
        await registry.put_machine(
            Machine(tenant=tenant, machine=machine, line="l1", kind=kind, position=position)
        )
    await registry.put_line_roles(LineRoles(tenant=tenant, line="l2", end_of_line_machine="sl"))
    await registry.move_machine(
        MachineMove(tenant=tenant, machine="tf", line="l2", valid_from=MOVED)
    )
    await registry.put_article(
        Article(tenant=tenant, article="ham", name="Ham", nominal_g=200, ideal_rate_ppm=110)
    )
    await registry.put_article(
        Article(tenant=tenant, article="wedge", name="Wedge", nominal_g=None, ideal_rate_ppm=70)
    )
    await registry.put_article_version(
        ArticleVersion(
            tenant=tenant,
            article="ham",
            valid_from=REPRICED,
            nominal_g=200,
            ideal_rate_ppm=120,
            price_per_kg=12.5,
        )
    )
    return tenant


async def test_a_snapshot_answers_what_a_batch_asks(registry: Registry, database: Database) -> None:
    tenant = await a_tenant(registry)
    snapshot = await SnapshotCache(database).of(tenant)
    moved = MOVED.timestamp()
    assert snapshot.line_at("tf", moved - 1) == "l1"
    assert snapshot.line_at("tf", moved) == "l2"
    assert [(m.line, m.start, m.end) for m in snapshot.memberships("tf", 0, math.inf)] == [
        ("l1", 0, moved),
        ("l2", moved, math.inf),
    ]
    assert snapshot.constraint_machine("l1", moved - 1) == "tf"
    assert snapshot.constraint_machine("l1", moved) is None  # no thermoformer left on l1
    assert snapshot.end_of_line_machine("l1", moved) == "cw"
    assert snapshot.end_of_line_machine("l2", moved) == "sl"  # set, not the default
    assert [m.machine for m in snapshot.machines_on("l1", moved - 1)] == ["sl", "tf", "cw"]
    before = snapshot.article_at("ham", REPRICED.timestamp() - 0.5)
    after = snapshot.article_at("ham", REPRICED.timestamp())
    assert before is not None
    assert after is not None
    assert (before.price_cents, before.ideal_rate_ppm) == (0, 110.0)
    assert (after.price_cents, after.ideal_rate_ppm, after.t2_dg) == (1250, 120.0, 1820)
    wedge = snapshot.article_at("wedge", 0)
    assert wedge is not None
    assert (wedge.nominal_dg, wedge.t1_dg) == (None, None)
    assert snapshot.article_at("nothing", 0) is None
    # Twice the highest ideal rate of any of the tenant's article versions.
    assert {m.max_rate_ppm for m in snapshot.machines.values()} == {240.0}
    line = snapshot.line("l1")
    assert line is not None
    day = line.site.calendar.day(date(2025, 6, 2))
    assert line.site.calendar.planned_seconds(day.start, day.end) == 8 * 3600
    assert line.site.day_start == time(6)
    assert snapshot.settings == FigureSettings()
    assert snapshot.category("packml", "Held", "production", "external") == "external_failure"


async def test_a_snapshot_is_reloaded_only_when_the_registry_changed(
    registry: Registry, database: Database
) -> None:
    tenant = await a_tenant(registry)
    clock = Clock()
    cache = SnapshotCache(database, recheck_seconds=5, clock=clock)
    first = await cache.of(tenant)
    clock.now = 10
    assert await cache.of(tenant) is first  # checked: nothing changed
    await registry.put_settings(tenant, FigureSettings(micro_stop_seconds=60))
    clock.now = 12
    assert await cache.of(tenant) is first  # within the recheck interval: not asked
    fresh = await cache.of(tenant, fresh=True)
    assert fresh is not first
    assert fresh.settings.micro_stop_seconds == 60
    assert fresh.version > first.version
    cache.forget(tenant)
    assert await cache.of(tenant) is not fresh
