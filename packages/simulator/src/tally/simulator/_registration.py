"""The simulated fleet registered: its tenants, sites, lines, machines and articles in the
registry, and a fresh token per machine for its senders.

Everything the figures need is written too: each tenant's figure settings, each site's shift
plan, each line's constraint and end-of-line machine, each machine's maximum rate and (through
`put_machine`) its line since always, and each article's versions (a repriced fleet has two).
Provisioning the same fleet again changes nothing but the tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from tally.simulator._fleet import ArticleSpec, Fleet, LineSpec, TenantSpec

# (tenant, machine) → the machine's bearer token.
Tokens = dict[tuple[str, str], str]


async def provision(
    fleet: Fleet, database_url: str, rates: Mapping[str, int] | None = None
) -> Tokens:
    """Upsert every tenant (with its budget from `rates`, else the registry's default), site,
    line, machine and article with what the figures need; return a token per machine.

    `database_url` is the schema owner's; the registry is written as tally_app, under the
    policy."""
    rates = rates or {}
    async with await Database.connect(database_url, max_size=2, switch_role=True) as database:
        registry = Registry(database)
        for tenant in fleet.tenants:
            await _put_tenant(registry, tenant, rates.get(tenant.id))
        return {
            (p.tenant.id, p.machine.id): await registry.issue_token(p.tenant.id, p.machine.id)
            for p in fleet.placements()
        }


async def _put_tenant(registry: Registry, spec: TenantSpec, rate: int | None) -> None:
    budget = {} if rate is None else {"rate_per_second": rate}
    await registry.put_tenant(Tenant(tenant=spec.id, name=spec.name, **budget))
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
