"""The api's scheduled report jobs (tally.sdk schedules: once across every process, caught up
after downtime).

    close-days      a site's production day closes (its end + the grace): version 1 of the
                    site's report and of each of its lines' (slots per tenant, site and day,
                    so a day missed while the api was down is produced when it is back)
    recheck-days    every 30 minutes, the days closed within `Reports.recheck` are made again
                    from the figures now; a version is stored only where late data changed them

Both run in the api because it already builds the figures the reports are made of, for its
endpoints; a service of its own would hold the same builders, the registry cache and a pool,
for two jobs a day per site. Rendering runs in a thread, so requests are still answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tally.api import report_production as production
from tally.api.admin import ApiDeps
from tally.api.queries import all_tenants
from tally.api.report_queries import sites_with_day_start
from tally.calendar import SiteCalendar
from tally.sdk import Rejected, Schedule, ScheduledRun, ScopedDatabase, Slot, Tx, every

_log = logging.getLogger("tally.api.reports")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SiteDayKey:
    tenant: str
    site: str
    day: date


async def _site_days(
    reports: production.Reports, since: datetime, until: datetime
) -> list[Slot[SiteDayKey]]:
    async def tenants(tx: Tx) -> list[str]:
        return [row.tenant for row in await tx.fetch(all_tenants())]

    slots = []
    for tenant in await reports.database.transaction(tenants, readonly=True):

        async def sites(tx: Tx, tenant: str = tenant) -> list[tuple[str, SiteCalendar]]:
            rows = await tx.fetch(sites_with_day_start(tenant))
            return [(r.site, SiteCalendar(r.timezone, r.day_start, None)) for r in rows]

        for site, calendar in await ScopedDatabase(reports.database, tenant).transaction(sites):
            slots += closing_slots(tenant, site, calendar, reports.grace, since, until)
    return sorted(slots, key=lambda slot: slot.due)


def closing_slots(
    tenant: str,
    site: str,
    calendar: SiteCalendar,
    grace: timedelta,
    since: datetime,
    until: datetime,
) -> list[Slot[SiteDayKey]]:
    """The site's production days whose end + `grace` falls in (since, until]: 23, 24 or 25
    hours apart across DST, as the site's days are."""
    slots = []
    day = calendar.day_of((since - grace).timestamp()).date - _ONE_DAY
    while (due := datetime.fromtimestamp(calendar.day(day).end, UTC) + grace) <= until:
        if due > since:
            key = SiteDayKey(tenant, site, day)
            slots.append(Slot(f"{tenant}/{site}/{day.isoformat()}", due, key))
        day += _ONE_DAY
    return slots


async def closing_days(deps: ApiDeps, since: datetime, until: datetime) -> list[Slot[SiteDayKey]]:
    """The slots of `close-days`: every site's production days that close in (since, until]."""
    reports = deps.reports
    if reports is None or not reports.scheduled:
        return []
    return await _site_days(reports, since, until)


async def produce_day(reports: production.Reports, key: SiteDayKey) -> None:
    """The site's report of the day and each of its lines' (a version where figures changed)."""
    database = ScopedDatabase(reports.database, key.tenant)
    try:
        figures = await production.site_figures(reports, database, key.tenant, key.site, key.day)
    except Rejected as gone:
        # The site was removed after its day closed: nothing to report on.
        _log.info("no report of %s/%s %s: %s", key.tenant, key.site, key.day, gone.problem.detail)
        return
    await production.produce_site(reports, database, key.tenant, figures)
    for line in figures[1]:
        await production.produce_line(reports, database, key.tenant, line)


async def close_day(deps: ApiDeps, run: ScheduledRun[SiteDayKey]) -> None:
    if deps.reports is not None:
        await produce_day(deps.reports, run.slot.value)


async def recheck_days(deps: ApiDeps, run: ScheduledRun[datetime]) -> None:
    reports = deps.reports
    if reports is None or not reports.scheduled:
        return
    now = reports.clock()
    for slot in await _site_days(reports, now - reports.recheck, now):
        await produce_day(reports, slot.value)


SCHEDULES: list[Schedule[ApiDeps, Any]] = [
    Schedule("close-days", close_day, closing_days),
    Schedule("recheck-days", recheck_days, every(timedelta(minutes=30))),
]
