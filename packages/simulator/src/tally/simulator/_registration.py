"""The simulated fleet registered: its tenants, sites, lines, machines and articles in the
registry, and a fresh token per machine for its senders."""

from __future__ import annotations

from collections.abc import Mapping

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
from tally.simulator._fleet import Fleet, TenantSpec

# (tenant, machine) → the machine's bearer token.
Tokens = dict[tuple[str, str], str]


async def provision(
    fleet: Fleet, database_url: str, rates: Mapping[str, int] | None = None
) -> Tokens:
    """Upsert every tenant (with its budget from `rates`, else the registry's default), site,
    line, machine and article; return a new token per machine.

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
