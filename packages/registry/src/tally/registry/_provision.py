"""Writing the registry: every write is scoped to its tenant, so row-level security checks it
too. Tokens are returned once and stored only as SHA-256 hashes."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from tally.registry._queries import (
    MachineRow,
    insert_token,
    machines_of_tenant,
    upsert_article,
    upsert_line,
    upsert_machine,
    upsert_site,
    upsert_tenant,
)

# Aliased: `Registry.revoke_tokens` is the public name of the same act.
from tally.registry._queries import revoke_tokens as revoke_statement
from tally.registry._records import Article, Line, Machine, Site, Tenant
from tally.registry._weight_law import limits
from tally.sdk import BoundCommand, Database, TallyError, Tx, new_token, token_hash


class RegistryError(TallyError):
    """A registry entry is invalid (names the field and value)."""


class Registry:
    """Tenants, sites, lines, machines, articles and machine tokens."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def put_tenant(self, tenant: Tenant) -> None:
        await self._write(
            tenant.tenant,
            upsert_tenant(
                tenant.tenant, tenant.name, tenant.rate_per_second, tenant.retention_days
            ),
        )

    async def put_site(self, site: Site) -> None:
        _check_timezone(site.timezone)
        await self._write(
            site.tenant,
            upsert_site(site.tenant, site.site, site.name, site.timezone, site.day_start),
        )

    async def put_line(self, line: Line) -> None:
        await self._write(line.tenant, upsert_line(line.tenant, line.line, line.site, line.name))

    async def put_machine(self, machine: Machine) -> None:
        await self._write(
            machine.tenant,
            upsert_machine(
                machine.tenant,
                machine.machine,
                machine.line,
                machine.kind.value,
                machine.position,
                machine.state_model.value,
                machine.counter_rollover,
            ),
        )

    async def put_article(self, article: Article) -> None:
        t1 = t2 = None
        if article.nominal_g is not None:
            try:
                law = limits(article.nominal_g)
            except ValueError as error:
                raise RegistryError(f"article {article.article}: {error}") from error
            t1, t2 = law.t1_g, law.t2_g
        await self._write(
            article.tenant,
            upsert_article(
                article.tenant,
                article.article,
                article.name,
                article.nominal_g,
                t1,
                t2,
                article.ideal_rate_ppm,
                article.price_per_kg,
            ),
        )

    async def issue_token(self, tenant: str, machine: str) -> str:
        """A new token for the machine (shown once); its earlier tokens are revoked."""
        token = new_token("tly_")

        async def work(tx: Tx) -> None:
            await tx.execute(revoke_statement(tenant, machine))
            await tx.execute(insert_token(token_hash(token), tenant, machine))

        await self._db.transaction(work, tenant=tenant)
        return token

    async def revoke_tokens(self, tenant: str, machine: str) -> None:
        """Revoke every live token of the machine: it uploads again only with a newly issued one.
        A machine without live tokens (or none at all) is left as it is."""
        await self._write(tenant, revoke_statement(tenant, machine))

    async def machines(self, tenant: str) -> list[MachineRow]:
        async def work(tx: Tx) -> list[MachineRow]:
            return await tx.fetch(machines_of_tenant(tenant))

        return await self._db.transaction(work, tenant=tenant, readonly=True)

    async def _write(self, tenant: str, statement: BoundCommand) -> None:
        async def work(tx: Tx) -> None:
            await tx.execute(statement)

        await self._db.transaction(work, tenant=tenant)


@functools.cache
def _zones() -> frozenset[str]:
    # Reading the zone database walks the disk: once per process is enough.
    return frozenset(available_timezones())


def _check_timezone(name: str) -> None:
    if name not in _zones():
        raise RegistryError(f"timezone {name!r} is not an IANA zone name (e.g. Europe/Berlin)")
