"""The report endpoints' and schedules' own lookups: a line's site, whether a site exists, and
every site of a tenant with its production day (for the days that close)."""

from __future__ import annotations

from datetime import time

import msgspec

from tally.sdk import query


class LineSite(msgspec.Struct, frozen=True):
    site: str


class SiteDayStart(msgspec.Struct, frozen=True):
    site: str
    timezone: str
    day_start: time


@query(LineSite, "SELECT site FROM lines WHERE tenant = $1 AND line = $2")
def site_of_line(tenant: str, line: str) -> None: ...


@query(LineSite, "SELECT site FROM sites WHERE tenant = $1 AND site = $2")
def site_by_id(tenant: str, site: str) -> None: ...


@query(SiteDayStart, "SELECT site, timezone, day_start FROM sites WHERE tenant = $1 ORDER BY site")
def sites_with_day_start(tenant: str) -> None: ...
