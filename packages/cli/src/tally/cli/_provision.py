"""The simulated fleet into the registry, and a fresh token per machine.

Everything the figures need is written too: each tenant's figure settings, each site's shift
plan, each line's constraint and end-of-line machine, each machine's maximum rate and (through
`put_machine`) its line since always, and each article's versions (a repriced fleet has two).
Provisioning the same fleet again changes nothing but the tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tally.registry import (
    Article,
    ArticleVersion,
    Line,
    LineRoles,
    Machine,
    MachineKind,
    Registry,
    Site,
    SitePlan,
    StateModel,
    Tenant,
)
from tally.sdk import Database
from tally.simulator import ArticleSpec, Fleet, LineSpec, TenantSpec

Tokens = dict[tuple[str, str], str]


async def provision(fleet: Fleet, database_url: str) -> Tokens:
    """Upsert every tenant, site, line, machine and article with what the figures need; return
    a token per machine."""
    async with await Database.connect(database_url, max_size=2) as database:
        registry = Registry(database)
        for tenant in fleet.tenants:
            await _put_tenant(registry, tenant)
        return {
            (p.tenant.id, p.machine.id): await registry.issue_token(p.tenant.id, p.machine.id)
            for p in fleet.placements()
        }


async def _put_tenant(registry: Registry, spec: TenantSpec) -> None:
    await registry.put_tenant(Tenant(tenant=spec.id, name=spec.name))
    await registry.put_settings(spec.id, spec.settings)
    for article in spec.articles:
        await _put_article(registry, spec.id, article)
    for site in spec.sites:
        await registry.put_site(
            Site(
                tenant=spec.id,
                site=site.id,
                name=site.name,
                timezone=site.timezone,
                day_start=site.production_day_start,
            )
        )
        await registry.put_plan(SitePlan(tenant=spec.id, site=site.id, plan=site.plan))
        for line in site.lines:
            await _put_line(registry, spec.id, site.id, line)


async def _put_line(registry: Registry, tenant: str, site: str, line: LineSpec) -> None:
    await registry.put_line(Line(tenant=tenant, line=line.id, site=site, name=line.name))
    for position, machine in enumerate(line.machines):
        await registry.put_machine(
            Machine(
                tenant=tenant,
                machine=machine.id,
                line=line.id,
                kind=MachineKind(machine.type),
                position=position,
                state_model=StateModel(machine.state_model.value),
                counter_rollover=machine.counter_rollover,
                max_rate_ppm=machine.max_rate_ppm or None,
            )
        )
    roles = {m.type: m.id for m in line.machines}
    await registry.put_line_roles(
        LineRoles(
            tenant=tenant,
            line=line.id,
            constraint_machine=roles["thermoformer"],
            end_of_line_machine=roles["checkweigher"],
        )
    )


async def _put_article(registry: Registry, tenant: str, article: ArticleSpec) -> None:
    # The values in force now go through put_article (a first version since always); the
    # history is then written as it is, so a second provisioning finds nothing to change.
    now = datetime.now(UTC).timestamp()
    versions: list[tuple[datetime | None, float]] = [(None, article.price_per_kg)]
    versions += [(datetime.fromtimestamp(t, UTC), price) for t, price in article.repriced]
    await registry.put_article(
        Article(
            tenant=tenant,
            article=article.id,
            name=article.name,
            nominal_g=article.nominal_g,
            ideal_rate_ppm=article.ideal_rate_ppm,
            price_per_kg=article.price_at(now),
        )
    )
    for valid_from, price in versions:
        await registry.put_article_version(
            ArticleVersion(
                tenant=tenant,
                article=article.id,
                valid_from=valid_from,
                nominal_g=article.nominal_g,
                ideal_rate_ppm=article.ideal_rate_ppm,
                price_per_kg=price,
            )
        )
