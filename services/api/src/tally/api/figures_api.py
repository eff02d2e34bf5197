"""The figures API's handlers: each reads in one read-only transaction scoped to the caller's
tenant (row-level security), looks up the site, line or article the path names (404 naming it
when the tenant has none such: unknown and another tenant's are the same answer) and hands
the figures to its view's builder (`*_view.py`), which makes the contract struct.

    GET /v1/sites                                   site_list
    GET /v1/sites/{site}/days/{day}                 site_day_view
    GET /v1/lines/{line}/days/{day}                 line_day_view
    GET /v1/lines/{line}/production                 production_view
    GET /v1/articles/{article}/compliance           compliance_view
    GET /v1/live                                    live_view
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tally.api.admin import ApiDeps
from tally.api.compliance_view import compliance_view
from tally.api.figure_paths import (
    ArticlePath,
    ComplianceQuery,
    LineDayPath,
    LinePath,
    LiveQuery,
    ProductionQuery,
    SiteDayPath,
)
from tally.api.line_day_view import line_day_view
from tally.api.live_view import live_view
from tally.api.places import line_of, site_of
from tally.api.problems import not_found
from tally.api.production_view import production_view
from tally.api.queries import article_exists, articles_of_tenant
from tally.api.ranges import LONGEST, LONGEST_LOTS, Range, bounded, in_calendar
from tally.api.site_day_view import site_day_view
from tally.api.site_list import sites_view, tenant_sites
from tally.contracts.figures import Compliance, LineDay, Live, Production, SiteDay, Sites
from tally.registry import RegistrySnapshot
from tally.sdk import Call, NoParams, TenantCaller, Tx


async def snapshot_of(deps: ApiDeps, tenant: str) -> RegistrySnapshot:
    if deps.snapshots is None:
        raise RuntimeError("the api was started without the registry's snapshots")
    return await deps.snapshots.of(tenant)


async def sites_and_lines(deps: ApiDeps, call: Call[TenantCaller]) -> Sites:
    tenant = call.caller.tenant

    async def work(tx: Tx) -> Sites:
        return sites_view(await tenant_sites(tx, tenant))

    return await call.database().transaction(work, readonly=True)


async def get_site_day(deps: ApiDeps, call: Call[TenantCaller, SiteDayPath]) -> SiteDay:
    in_calendar(call.path.day, "day", call.path.day.isoformat())
    tenant = call.caller.tenant
    snapshot = await snapshot_of(deps, tenant)

    async def work(tx: Tx) -> SiteDay:
        return await site_day_of(tx, snapshot, call.path.site, call.path.day)

    return await call.database().transaction(work, readonly=True)


async def site_day_of(tx: Tx, snapshot: RegistrySnapshot, site: str, day: date) -> SiteDay:
    """GET /v1/sites/{site}/days/{day}'s answer (the daily report draws on it too)."""
    return await site_day_view(tx, snapshot, await site_of(tx, snapshot.tenant, site), day)


async def get_line_day(deps: ApiDeps, call: Call[TenantCaller, LineDayPath]) -> LineDay:
    in_calendar(call.path.day, "day", call.path.day.isoformat())
    tenant = call.caller.tenant
    snapshot = await snapshot_of(deps, tenant)

    async def work(tx: Tx) -> LineDay:
        return await line_day_of(tx, snapshot, call.path.line, call.path.day)

    return await call.database().transaction(work, readonly=True)


async def line_day_of(tx: Tx, snapshot: RegistrySnapshot, line: str, day: date) -> LineDay:
    """GET /v1/lines/{line}/days/{day}'s answer (the daily report draws on it too)."""
    tenant = snapshot.tenant
    site, place = await line_of(tx, tenant, line)
    names = {a.article: a.name for a in await tx.fetch(articles_of_tenant(tenant))}
    return await line_day_view(tx, snapshot, names, site, place, day)


async def get_production(
    deps: ApiDeps, call: Call[TenantCaller, LinePath, ProductionQuery]
) -> Production:
    tenant = call.caller.tenant
    query = call.query
    snapshot = await snapshot_of(deps, tenant)

    async def work(tx: Tx) -> Production:
        site, line = await line_of(tx, tenant, call.path.line)
        what = f"bucket={query.bucket.value}"
        today = site.today(datetime.now(UTC).timestamp())
        default = Range(site.at(today.start), site.at(today.end))
        within = bounded(query.from_, query.to, site.timezone, LONGEST[query.bucket], what, default)
        return await production_view(tx, snapshot, site, line, query.bucket, within, query.limit)

    return await call.database().transaction(work, readonly=True)


async def get_compliance(
    deps: ApiDeps, call: Call[TenantCaller, ArticlePath, ComplianceQuery]
) -> Compliance:
    tenant = call.caller.tenant
    article = call.path.article
    snapshot = await snapshot_of(deps, tenant)
    # Hour-lots are named in UTC offsets of their own; a range without an offset is UTC.
    now = datetime.now(UTC)
    default = Range(now - timedelta(days=1), now)
    query = call.query
    within = bounded(query.from_, query.to, "UTC", LONGEST_LOTS, "compliance", default)

    async def work(tx: Tx) -> Compliance:
        if not (await tx.fetch_one(article_exists(tenant, article))).found:
            raise not_found(
                f"article {article!r} does not exist in your tenant",
                "article",
                article,
            )
        return await compliance_view(tx, snapshot, article, within, call.query.limit)

    return await call.database().transaction(work, readonly=True)


async def get_live(deps: ApiDeps, call: Call[TenantCaller, NoParams, LiveQuery]) -> Live:
    tenant = call.caller.tenant
    snapshot = await snapshot_of(deps, tenant)
    now = datetime.now(UTC)

    async def work(tx: Tx) -> Live:
        if call.query.site is not None:
            sites = [await site_of(tx, tenant, call.query.site)]
        else:
            sites = await tenant_sites(tx, tenant)
        return await live_view(tx, snapshot, sites, now)

    return await call.database().transaction(work, readonly=True)
