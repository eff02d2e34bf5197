"""Producing the daily reports in the api: the figures they are made of, when a day counts as
closed, and storing a version (`tally.reports.ReportStore`).

    Reports(days=...)                       in ApiDeps: what the report endpoints and schedules use
    await produce_line(reports, db, tenant, line, day)   the stored latest (a new version first
                                                         if the figures changed), or None while
                                                         the day is open
    await produce_site(reports, db, tenant, site, day)

The figures come from `ReportDays`: the same builders that answer GET /v1/lines/{line}/days/{day}
and GET /v1/sites/{site}/days/{day}, so a report shows exactly the API's figures. A production
day is closed `grace` after its end (late data of the last minutes has arrived by then); until
then its report is rendered on request and not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from tally.contracts.figures import LineDay, SiteDay
from tally.reports import ReportStore, StoredFile
from tally.sdk import Database, ScopedDatabase, Tx


class ReportDays(Protocol):
    """Where a report's figures come from; each raises `Rejected` 404 for a line or site the
    tenant does not have (another tenant's included)."""

    async def line_day(self, tx: Tx, tenant: str, line: str, day: date) -> LineDay: ...

    async def site_day(self, tx: Tx, tenant: str, site: str, day: date) -> SiteDay: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Reports:
    # The api's pool, for the schedules (which have no caller to scope a transaction to).
    database: Database
    days: ReportDays
    store: ReportStore = field(default_factory=ReportStore)
    # A day is closed this long after its end: its report is then stored as version 1.
    grace: timedelta = timedelta(minutes=30)
    # Closed days this recent are checked for late data (a new version when figures changed).
    recheck: timedelta = timedelta(days=2)
    clock: Callable[[], datetime] = utc_now
    # False: the schedules leave closed days to the api's other processes (an api started
    # to serve one report, by `tally report`, should not produce every site's days).
    scheduled: bool = True

    def closed(self, end: datetime) -> bool:
        return self.clock() >= end + self.grace


async def line_figures(
    reports: Reports, database: ScopedDatabase, tenant: str, line: str, day: date
) -> LineDay:
    async def read(tx: Tx) -> LineDay:
        return await reports.days.line_day(tx, tenant, line, day)

    return await database.transaction(read, readonly=True)


async def site_figures(
    reports: Reports, database: ScopedDatabase, tenant: str, site: str, day: date
) -> tuple[SiteDay, list[LineDay]]:
    # One read-only transaction: the site's table and its lines' days see the same data.
    async def read(tx: Tx) -> tuple[SiteDay, list[LineDay]]:
        summary = await reports.days.site_day(tx, tenant, site, day)
        lines = [await reports.days.line_day(tx, tenant, s.line, day) for s in summary.lines]
        return summary, lines

    return await database.transaction(read, readonly=True, isolation="repeatable_read")


async def stored(
    reports: Reports,
    database: ScopedDatabase,
    key: tuple[str, str, str | None, date],
    version: int | None,
) -> StoredFile | None:
    async def read(tx: Tx) -> StoredFile | None:
        return await reports.store.file(tx, *key, version)

    return await database.transaction(read, readonly=True)


async def produce_line(
    reports: Reports, database: ScopedDatabase, tenant: str, figures: LineDay
) -> StoredFile | None:
    """The line day's stored latest version, made first when the figures are new; None while
    the day is open."""
    if not reports.closed(figures.end):
        return None
    await reports.store.produce_line(database, tenant, figures, reports.clock())
    return await stored(reports, database, (tenant, figures.site, figures.line, figures.day), None)


async def produce_site(
    reports: Reports,
    database: ScopedDatabase,
    tenant: str,
    figures: tuple[SiteDay, list[LineDay]],
) -> StoredFile | None:
    site, lines = figures
    if not reports.closed(site.end):
        return None
    await reports.store.produce_site(database, tenant, site, lines, reports.clock())
    return await stored(reports, database, (tenant, site.site, None, site.day), None)
