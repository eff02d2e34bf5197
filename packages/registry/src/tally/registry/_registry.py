"""Writing the registry: every write is scoped to its tenant, so row-level security checks it
too. Tokens are returned once and stored only as SHA-256 hashes.

History is kept where figures need it: a machine put on another line has moved now (its past
stays on the old line), an article put with other values has a new version from now on; moves
and versions at other times are written with `move_machine` and `put_article_version`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import available_timezones

import msgspec

from tally.calendar import PlanError, ShiftPlan
from tally.registry._errors import RegistryError
from tally.registry._figure_queries import (
    article_versions_of_tenant as versions_statement,
)
from tally.registry._figure_queries import (
    delete_article_version,
    delete_move,
    delete_plan,
    line_exists,
    machine_exists,
    plans_of_tenant,
    set_line_roles,
    settings_of_tenant,
    site_day_start,
    sync_article,
    sync_machine_line,
    upsert_article_version,
    upsert_move,
    upsert_plan,
    upsert_settings,
)
from tally.registry._figure_queries import (
    memberships_of_tenant as memberships_statement,
)
from tally.registry._queries import (
    MachineRow,
    insert_token,
    machines_of_tenant,
    record_article_version,
    record_membership,
    upsert_article,
    upsert_line,
    upsert_machine,
    upsert_site,
    upsert_tenant,
)

# Aliased: `Registry.revoke_tokens` is the public name of the same act.
from tally.registry._queries import revoke_tokens as revoke_statement
from tally.registry._records import (
    Article,
    ArticleVersion,
    Line,
    LineRoles,
    Machine,
    MachineMove,
    Site,
    SitePlan,
    Tenant,
)
from tally.registry._settings import FigureSettings
from tally.registry._snapshot import ArticleTerms, Membership
from tally.registry._snapshot_cache import article_spans, membership_spans, settings_from_row
from tally.registry._weight_law import limits
from tally.sdk import BoundCommand, Database, Tx, new_token, token_hash

T = TypeVar("T")
# A plan "since always" is stored from the first day there is.
SINCE_ALWAYS = date.min


class Registry:
    """Tenants, sites, lines, machines, articles, machine tokens, and what figures need:
    shift plans, figure settings, line memberships and article versions."""

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
        """Add or update a site; its shift plans must still fit a changed day start."""
        _check_timezone(site.timezone)

        async def work(tx: Tx) -> None:
            for row in await tx.fetch(plans_of_tenant(site.tenant, site.site)):
                plan = msgspec.json.decode(row.plan, type=ShiftPlan)
                _check_fits(plan, site.day_start, f"the plan from {row.valid_from}")
            await tx.execute(
                upsert_site(site.tenant, site.site, site.name, site.timezone, site.day_start)
            )

        await self._db.transaction(work, tenant=site.tenant)

    async def put_line(self, line: Line) -> None:
        await self._write(line.tenant, upsert_line(line.tenant, line.line, line.site, line.name))

    async def put_line_roles(self, roles: LineRoles) -> None:
        """Set where a line's figures are taken (None: its thermoformer, its checkweigher)."""

        async def work(tx: Tx) -> None:
            if not (await tx.fetch_one(line_exists(roles.tenant, roles.line))).found:
                raise RegistryError(
                    f"line {roles.tenant}/{roles.line} does not exist: add it first"
                )
            for field in ("constraint_machine", "end_of_line_machine"):
                machine = getattr(roles, field)
                if (
                    machine is not None
                    and not (await tx.fetch_one(machine_exists(roles.tenant, machine))).found
                ):
                    raise RegistryError(
                        f"{field} = {machine!r} is not a machine of tenant {roles.tenant!r}: "
                        "add it first"
                    )
            await tx.execute(
                set_line_roles(
                    roles.tenant, roles.line, roles.constraint_machine, roles.end_of_line_machine
                )
            )

        await self._db.transaction(work, tenant=roles.tenant)

    async def put_machine(self, machine: Machine) -> None:
        """Add or update a machine; on another line than before, it has moved there now."""
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
                machine.max_rate_ppm,
            ),
            record_membership(machine.tenant, machine.machine, machine.line),
        )

    async def put_article(self, article: Article) -> None:
        """Add or update an article; other values than its latest version's start a new
        version now (earlier packs keep the terms they were made under)."""
        t1, t2 = _limits(article.article, article.nominal_g)
        values = (article.nominal_g, t1, t2, article.ideal_rate_ppm, article.price_per_kg)
        await self._write(
            article.tenant,
            upsert_article(article.tenant, article.article, article.name, *values),
            record_article_version(article.tenant, article.article, *values),
        )

    async def put_article_version(self, version: ArticleVersion) -> None:
        """Set an article's terms from `valid_from` on (the article must exist)."""
        t1, t2 = _limits(version.article, version.nominal_g)
        await self._write(
            version.tenant,
            upsert_article_version(
                version.tenant,
                version.article,
                version.valid_from,
                version.nominal_g,
                t1,
                t2,
                version.ideal_rate_ppm,
                version.price_per_kg,
            ),
            sync_article(version.tenant, version.article),
        )

    async def remove_article_version(
        self, tenant: str, article: str, valid_from: datetime | None
    ) -> None:
        """Forget the version that starts at `valid_from` (None: since always)."""
        await self._write(
            tenant,
            delete_article_version(tenant, article, valid_from),
            sync_article(tenant, article),
        )

    async def article_versions(self, tenant: str, article: str) -> list[ArticleTerms]:
        """An article's terms over time, oldest first."""
        rows = await self._read(tenant, lambda tx: tx.fetch(versions_statement(tenant, article)))
        return article_spans(rows).get(article, [])

    async def move_machine(self, move: MachineMove) -> None:
        """The machine stands on `move.line` from `move.valid_from` on."""
        await self._write(
            move.tenant,
            upsert_move(move.tenant, move.machine, move.valid_from, move.line),
            sync_machine_line(move.tenant, move.machine),
        )

    async def remove_move(self, tenant: str, machine: str, valid_from: datetime | None) -> None:
        """Forget the move at `valid_from` (None: the line since always)."""
        await self._write(
            tenant,
            delete_move(tenant, machine, valid_from),
            sync_machine_line(tenant, machine),
        )

    async def memberships(self, tenant: str, machine: str) -> list[Membership]:
        """The lines a machine stood on, oldest first."""
        rows = await self._read(tenant, lambda tx: tx.fetch(memberships_statement(tenant, machine)))
        return membership_spans(rows).get(machine, [])

    async def put_plan(self, plan: SitePlan) -> None:
        """Set a site's shift plan from the production day `valid_from` on (None: always)."""
        valid_from = plan.valid_from or SINCE_ALWAYS

        async def work(tx: Tx) -> None:
            found = await tx.fetch_optional(site_day_start(plan.tenant, plan.site))
            if found is None:
                raise RegistryError(f"site {plan.tenant}/{plan.site} does not exist: add it first")
            _check_fits(plan.plan, found.day_start, "plan")
            encoded = msgspec.json.encode(plan.plan).decode()
            await tx.execute(upsert_plan(plan.tenant, plan.site, valid_from, encoded))

        await self._db.transaction(work, tenant=plan.tenant)

    async def remove_plan(self, tenant: str, site: str, valid_from: date | None) -> None:
        """Forget the plan from `valid_from` (None: the one since always)."""
        await self._write(tenant, delete_plan(tenant, site, valid_from or SINCE_ALWAYS))

    async def plans(self, tenant: str, site: str) -> list[SitePlan]:
        """A site's plans by the day each takes effect (None: since always)."""
        rows = await self._read(tenant, lambda tx: tx.fetch(plans_of_tenant(tenant, site)))
        return [
            SitePlan(
                tenant=tenant,
                site=site,
                plan=msgspec.json.decode(row.plan, type=ShiftPlan),
                valid_from=None if row.valid_from == SINCE_ALWAYS else row.valid_from,
            )
            for row in rows
        ]

    async def put_settings(self, tenant: str, settings: FigureSettings) -> None:
        """Set a tenant's figure settings (all of them; start from `settings(tenant)`)."""
        await self._write(
            tenant,
            upsert_settings(
                tenant,
                settings.micro_stop_seconds,
                settings.gap_seconds,
                settings.changeover_is_loss,
                settings.cleaning_is_loss,
                msgspec.json.encode(settings.state_rules).decode(),
                msgspec.json.encode(settings.pack_counters).decode(),
                settings.good_counter,
            ),
        )

    async def settings(self, tenant: str) -> FigureSettings:
        """A tenant's figure settings (the defaults until set)."""
        row = await self._read(tenant, lambda tx: tx.fetch_optional(settings_of_tenant(tenant)))
        return settings_from_row(row)

    async def issue_token(self, tenant: str, machine: str) -> str:
        """A new token for the machine (shown once); its earlier tokens are revoked."""
        token = new_token("tly_")
        await self._write(
            tenant,
            revoke_statement(tenant, machine),
            insert_token(token_hash(token), tenant, machine),
        )
        return token

    async def revoke_tokens(self, tenant: str, machine: str) -> None:
        """Revoke every live token of the machine: it uploads again only with a newly issued one.
        A machine without live tokens (or none at all) is left as it is."""
        await self._write(tenant, revoke_statement(tenant, machine))

    async def machines(self, tenant: str) -> list[MachineRow]:
        return await self._read(tenant, lambda tx: tx.fetch(machines_of_tenant(tenant)))

    async def _write(self, tenant: str, *statements: BoundCommand) -> None:
        async def work(tx: Tx) -> None:
            for statement in statements:
                await tx.execute(statement)

        await self._db.transaction(work, tenant=tenant)

    async def _read(self, tenant: str, read: Callable[[Tx], Awaitable[T]]) -> T:
        return await self._db.transaction(read, tenant=tenant, readonly=True)


def _limits(article: str, nominal_g: float | None) -> tuple[float | None, float | None]:
    if nominal_g is None:
        return None, None
    try:
        law = limits(nominal_g)
    except ValueError as error:
        raise RegistryError(f"article {article}: {error}") from error
    return law.t1_g, law.t2_g


def _check_fits(plan: ShiftPlan, day_start: time, what: str) -> None:
    try:
        plan.check_day_start(day_start)
    except PlanError as error:
        raise RegistryError(f"{what}: {error}") from error


@functools.cache
def _zones() -> frozenset[str]:
    # Reading the zone database walks the disk: once per process is enough.
    return frozenset(available_timezones())


def _check_timezone(name: str) -> None:
    if name not in _zones():
        raise RegistryError(f"timezone {name!r} is not an IANA zone name (e.g. Europe/Berlin)")
