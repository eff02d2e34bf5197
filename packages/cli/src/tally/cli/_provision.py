"""The simulated fleet into the registry, and a fresh token per machine."""

from __future__ import annotations

from tally.registry import (
    Article,
    Line,
    Machine,
    MachineKind,
    Registry,
    Site,
    StateModel,
    Tenant,
)
from tally.sdk import Database
from tally.simulator import Fleet, TenantSpec

Tokens = dict[tuple[str, str], str]


async def provision(fleet: Fleet, database_url: str) -> Tokens:
    """Upsert every tenant, site, line, machine and article; return a token per machine.

    `database_url` is the owner's; the registry is written as tally_app, under the policy."""
    async with await Database.connect(database_url, max_size=2, switch_role=True) as database:
        registry = Registry(database)
        for tenant in fleet.tenants:
            await _put_tenant(registry, tenant)
        return {
            (p.tenant.id, p.machine.id): await registry.issue_token(p.tenant.id, p.machine.id)
            for p in fleet.placements()
        }


async def _put_tenant(registry: Registry, spec: TenantSpec) -> None:
    await registry.put_tenant(Tenant(tenant=spec.id, name=spec.name))
    for article in spec.articles:
        await registry.put_article(
            Article(
                tenant=spec.id,
                article=article.id,
                name=article.name,
                nominal_g=article.nominal_g,
                ideal_rate_ppm=article.ideal_rate_ppm,
                price_per_kg=article.price_per_kg,
            )
        )
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
        for line in site.lines:
            await registry.put_line(
                Line(tenant=spec.id, line=line.id, site=site.id, name=line.name)
            )
            for position, machine in enumerate(line.machines):
                await registry.put_machine(
                    Machine(
                        tenant=spec.id,
                        machine=machine.id,
                        line=line.id,
                        kind=MachineKind(machine.type),
                        position=position,
                        state_model=StateModel(machine.state_model.value),
                        counter_rollover=machine.counter_rollover,
                    )
                )
