"""Writing the registry against a real database: tokens, plans, settings, line memberships and
article versions; the new tables under row-level security."""

from __future__ import annotations

import math
import secrets
import time as clock
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import msgspec
import pytest

from tally.calendar import Cleaning, Shift, ShiftPlan
from tally.registry import (
    DEFAULT_STATE_RULES,
    Article,
    ArticleVersion,
    Category,
    FigureSettings,
    Line,
    LineRoles,
    Machine,
    MachineKind,
    MachineMove,
    Registry,
    RegistryError,
    Site,
    SitePlan,
    StateModel,
    StateRule,
    Tenant,
    load_snapshot,
)
from tally.sdk import Database, token_hash
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

AUTHENTICATE = "SELECT tenant, machine FROM tally_authenticate($1)"


async def a_machine(registry: Registry) -> tuple[str, str]:
    """A machine of a tenant of the test's own (tests share the database)."""
    tenant = f"t{secrets.token_hex(5)}"
    await registry.put_tenant(Tenant(tenant=tenant, name="Test tenant"))
    await registry.put_site(Site(tenant=tenant, site="s1", name="Site", timezone="Europe/Berlin"))
    await registry.put_line(Line(tenant=tenant, line="l1", site="s1", name="Line 1"))
    kind = MachineKind.CHECKWEIGHER
    await registry.put_machine(Machine(tenant=tenant, machine="l1-cw", line="l1", kind=kind))
    return tenant, "l1-cw"


async def live(migrated_database_url: str, *tokens: str) -> list[bool]:
    """Whether the gateway would accept each token (asked through the same function)."""
    conn = await asyncpg.connect(migrated_database_url)
    try:
        return [await conn.fetchrow(AUTHENTICATE, token_hash(t)) is not None for t in tokens]
    finally:
        await conn.close()


async def test_a_new_token_revokes_the_earlier_ones(
    registry: Registry, migrated_database_url: str
) -> None:
    tenant, machine = await a_machine(registry)
    first = await registry.issue_token(tenant, machine)
    second = await registry.issue_token(tenant, machine)
    assert await live(migrated_database_url, first, second) == [False, True]


async def test_revoke_tokens_leaves_the_machine_without_a_live_token(
    registry: Registry, migrated_database_url: str
) -> None:
    tenant, machine = await a_machine(registry)
    token = await registry.issue_token(tenant, machine)
    await registry.revoke_tokens(tenant, machine)
    await registry.revoke_tokens(tenant, machine)  # nothing left to revoke: harmless
    assert await live(migrated_database_url, token) == [False]
    assert [row.machine for row in await registry.machines(tenant)] == [machine]


async def test_an_unknown_timezone_is_refused_naming_it(registry: Registry) -> None:
    site = Site(tenant="nobody", site="s1", name="Site", timezone="Europe/Kempten")
    with pytest.raises(RegistryError, match="'Europe/Kempten' is not an IANA zone"):
        await registry.put_site(site)


NIGHT = Shift(name="night", start="22:00", hours=8)
PLAN = ShiftPlan(name="nights", shifts=(NIGHT,), cleaning=(Cleaning(start="05:00", minutes=60),))


async def test_a_plan_is_stored_and_read_by_the_day_it_takes_effect(registry: Registry) -> None:
    tenant, _ = await a_machine(registry)
    later = ShiftPlan(shifts=(NIGHT, Shift(name="early", start="06:00", hours=8)))
    await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=PLAN))
    await registry.put_plan(
        SitePlan(tenant=tenant, site="s1", plan=later, valid_from=date(2025, 7, 1))
    )
    plans = await registry.plans(tenant, "s1")
    assert [(p.valid_from, p.plan) for p in plans] == [(None, PLAN), (date(2025, 7, 1), later)]
    await registry.remove_plan(tenant, "s1", date(2025, 7, 1))
    assert [p.plan for p in await registry.plans(tenant, "s1")] == [PLAN]


async def test_a_plan_must_fit_the_site_and_the_site_its_plans(registry: Registry) -> None:
    tenant, _ = await a_machine(registry)
    with pytest.raises(RegistryError, match=r"site .*/s9 does not exist: add it first"):
        await registry.put_plan(SitePlan(tenant=tenant, site="s9", plan=PLAN))
    await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=PLAN))
    moved = Site(tenant=tenant, site="s1", name="Site", timezone="Europe/Berlin", day_start=time(5))
    with pytest.raises(RegistryError, match=r"shifts\[0\] \(22:00 for 480 min\) runs past"):
        await registry.put_site(moved)
    late = Site(tenant=tenant, site="s1", name="Site", timezone="Europe/Berlin", day_start=time(7))
    await registry.put_site(late)  # the night shift and cleaning end by 07:00
    bad = ShiftPlan(cleaning=(Cleaning(start="06:30", minutes=60),))
    with pytest.raises(RegistryError, match=r"plan: cleaning\[0\] \(06:30 for 60 min\)"):
        await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=bad))


async def test_settings_are_the_defaults_until_set(registry: Registry) -> None:
    tenant, _ = await a_machine(registry)
    assert await registry.settings(tenant) == FigureSettings()
    vendor = StateRule(category=Category.RUNNING, model=StateModel.VENDOR, names=("AUTO",))
    chosen = FigureSettings(
        micro_stop_seconds=90,
        changeover_is_loss=False,
        state_rules=(vendor, *DEFAULT_STATE_RULES),
    )
    await registry.put_settings(tenant, chosen)
    assert await registry.settings(tenant) == chosen


async def test_a_machine_put_on_another_line_has_moved_now(registry: Registry) -> None:
    tenant, machine = await a_machine(registry)
    await registry.put_line(Line(tenant=tenant, line="l2", site="s1", name="Line 2"))
    kind = MachineKind.CHECKWEIGHER
    before = time_now()
    await registry.put_machine(Machine(tenant=tenant, machine=machine, line="l1", kind=kind))
    await registry.put_machine(Machine(tenant=tenant, machine=machine, line="l2", kind=kind))
    spans = await registry.memberships(tenant, machine)
    assert [(m.line, m.start, m.end) for m in spans] == [
        ("l1", -math.inf, spans[1].start),
        ("l2", spans[1].start, math.inf),
    ]
    assert before <= spans[1].start <= time_now()


async def test_moves_at_given_times_keep_the_machine_on_its_line_now(registry: Registry) -> None:
    tenant, machine = await a_machine(registry)
    await registry.put_line(Line(tenant=tenant, line="l2", site="s1", name="Line 2"))
    past = datetime(2025, 6, 2, 4, tzinfo=UTC)
    future = datetime.now(UTC) + timedelta(days=30)
    await registry.move_machine(
        MachineMove(tenant=tenant, machine=machine, line="l2", valid_from=past)
    )
    await registry.move_machine(
        MachineMove(tenant=tenant, machine=machine, line="l1", valid_from=future)
    )
    assert [m.line for m in await registry.memberships(tenant, machine)] == ["l1", "l2", "l1"]
    assert [r.line for r in await registry.machines(tenant)] == ["l2"]  # the future is not now
    await registry.remove_move(tenant, machine, past)
    assert [r.line for r in await registry.machines(tenant)] == ["l1"]


async def test_an_article_with_other_values_gets_a_new_version(registry: Registry) -> None:
    tenant, _ = await a_machine(registry)
    ham = Article(tenant=tenant, article="ham-200", name="Ham", nominal_g=200, ideal_rate_ppm=110)
    await registry.put_article(ham)
    await registry.put_article(ham)  # the same values: no new version
    assert len(await registry.article_versions(tenant, "ham-200")) == 1
    await registry.put_article(Article(**{**msgspec.structs.asdict(ham), "price_per_kg": 12.5}))
    versions = await registry.article_versions(tenant, "ham-200")
    assert [(v.start == -math.inf, v.price_cents) for v in versions] == [(True, 0), (False, 1250)]
    assert [(v.nominal_dg, v.t1_dg, v.t2_dg) for v in versions] == [(2000, 1910, 1820)] * 2


async def test_an_article_version_in_the_past_and_one_to_come(registry: Registry) -> None:
    tenant, _ = await a_machine(registry)
    await registry.put_article(
        Article(tenant=tenant, article="salami", name="Salami", nominal_g=100, ideal_rate_ppm=140)
    )
    june = datetime(2025, 6, 1, tzinfo=UTC)
    soon = datetime.now(UTC) + timedelta(days=1)
    for when, qn, price in ((june, 150.0, 11.8), (soon, 250.0, 14.2)):
        await registry.put_article_version(
            ArticleVersion(
                tenant=tenant,
                article="salami",
                valid_from=when,
                nominal_g=qn,
                ideal_rate_ppm=120,
                price_per_kg=price,
            )
        )
    versions = await registry.article_versions(tenant, "salami")
    assert [(v.start, v.nominal_dg, v.t1_dg) for v in versions] == [
        (-math.inf, 1000, 955),
        (june.timestamp(), 1500, 1432),  # TNE of 150 g: 4.5 % = 6.75 → 6.8 g
        (soon.timestamp(), 2500, 2410),
    ]
    with pytest.raises(RegistryError, match="outside the ℮ table"):
        await registry.put_article_version(
            ArticleVersion(
                tenant=tenant,
                article="salami",
                valid_from=june,
                nominal_g=20_000.0,
                ideal_rate_ppm=1,
            )
        )


async def as_app(migrated_database_url: str, tenant: str | None, sql: str) -> list[asyncpg.Record]:
    """Run `sql` as the services' role with `tenant` set (or none), as row-level security sees."""
    conn = await asyncpg.connect(migrated_database_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL ROLE tally_app")
            if tenant is not None:
                await conn.execute("SELECT set_config('tally.tenant', $1, true)", tenant)
            return await conn.fetch(sql)
    finally:
        await conn.close()


NEW_TABLES = (
    "site_plans",
    "figure_settings",
    "machine_lines",
    "article_versions",
    "registry_versions",
)


async def test_the_new_tables_show_a_tenant_only_its_own_rows(
    registry: Registry, migrated_database_url: str
) -> None:
    tenant, _ = await a_machine(registry)
    other, _ = await a_machine(registry)
    await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=PLAN))
    await registry.put_settings(tenant, FigureSettings())
    await registry.put_article(
        Article(tenant=tenant, article="ham", name="Ham", nominal_g=200, ideal_rate_ppm=110)
    )
    for table in NEW_TABLES:
        count = f"SELECT count(*) AS n FROM {table} WHERE tenant = '{tenant}'"
        assert (await as_app(migrated_database_url, tenant, count))[0]["n"] >= 1, table
        assert (await as_app(migrated_database_url, other, count))[0]["n"] == 0, table
        everyones = await as_app(migrated_database_url, None, f"SELECT count(*) AS n FROM {table}")
        assert everyones[0]["n"] == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await as_app(
            migrated_database_url,
            other,
            f"INSERT INTO site_plans VALUES ('{tenant}', 's1', '2030-01-01', '{{}}')",
        )


async def test_every_write_raises_the_tenants_registry_version(
    registry: Registry, migrated_database_url: str
) -> None:
    tenant, _ = await a_machine(registry)

    async def version() -> int:
        rows = await as_app(migrated_database_url, tenant, "SELECT version FROM registry_versions")
        return int(rows[0]["version"])

    first = await version()
    await registry.put_settings(tenant, FigureSettings(gap_seconds=30))
    second = await version()
    await registry.put_plan(SitePlan(tenant=tenant, site="s1", plan=PLAN))
    assert first < second < await version()


def time_now() -> float:
    return clock.time()


async def test_putting_the_values_in_force_now_again_changes_no_history(
    registry: Registry,
) -> None:
    tenant, machine = await a_machine(registry)
    ham = Article(tenant=tenant, article="ham", name="Ham", nominal_g=200, ideal_rate_ppm=110)
    await registry.put_article(ham)
    soon = datetime.now(UTC) + timedelta(days=1)
    dearer = ArticleVersion(
        tenant=tenant,
        article="ham",
        valid_from=soon,
        nominal_g=200,
        ideal_rate_ppm=110,
        price_per_kg=9,
    )
    await registry.put_article_version(dearer)
    await registry.put_article(ham)  # today's values: the price to come does not count yet
    assert [v.price_cents for v in await registry.article_versions(tenant, "ham")] == [0, 900]
    await registry.put_line(Line(tenant=tenant, line="l2", site="s1", name="Line 2"))
    kind = MachineKind.CHECKWEIGHER
    await registry.move_machine(
        MachineMove(tenant=tenant, machine=machine, line="l2", valid_from=soon)
    )
    await registry.put_machine(Machine(tenant=tenant, machine=machine, line="l1", kind=kind))
    assert [m.line for m in await registry.memberships(tenant, machine)] == ["l1", "l2"]
    # Since always, explicitly: the first line is corrected, not moved.
    await registry.move_machine(
        MachineMove(tenant=tenant, machine=machine, line="l2", valid_from=None)
    )
    spans = await registry.memberships(tenant, machine)
    assert [(m.line, m.start) for m in spans] == [("l2", -math.inf), ("l2", soon.timestamp())]


async def test_line_roles_name_machines_of_the_tenant(
    registry: Registry, migrated_database_url: str, login_url: LoginUrl
) -> None:
    tenant, machine = await a_machine(registry)
    await registry.put_line_roles(LineRoles(tenant=tenant, line="l1", end_of_line_machine=machine))
    with pytest.raises(RegistryError, match="constraint_machine = 'nope' is not a machine"):
        await registry.put_line_roles(
            LineRoles(tenant=tenant, line="l1", constraint_machine="nope")
        )
    with pytest.raises(RegistryError, match=r"line .*/l9 does not exist"):
        await registry.put_line_roles(LineRoles(tenant=tenant, line="l9"))
    # Putting the line again leaves its roles alone.
    await registry.put_line(Line(tenant=tenant, line="l1", site="s1", name="Renamed"))
    app_url = login_url(migrated_database_url, "tally_app")
    async with await Database.connect(app_url, max_size=1) as database:
        snapshot = await load_snapshot(database, tenant)
    line = snapshot.line("l1")
    assert line is not None
    assert (line.constraint_machine, line.end_of_line_machine) == (None, machine)
