"""The sites and lines a figures request names, looked up in the caller's tenant: an id that
does not exist there — unknown, or another tenant's — is the same 404, naming it, so that no
answer tells whether another tenant has such a line.

Every lookup runs in the caller's transaction, scoped to its tenant, so row-level security
hides other tenants' rows even if the SQL's own tenant filter were wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from tally.api.problems import not_found
from tally.api.queries import PlaceRow, place_of_line, places_of_site
from tally.calendar import ProductionDay, SiteCalendar
from tally.sdk import Tx


@dataclass(frozen=True, slots=True)
class LinePlace:
    line: str
    name: str


@dataclass(frozen=True, slots=True)
class SitePlace:
    """A site of the caller's tenant and its lines, in id order."""

    site: str
    name: str
    timezone: str
    day_start: time
    lines: tuple[LinePlace, ...]

    def day(self, name: date) -> ProductionDay:
        # Only the day's bounds: the zone and the day start settle them, whatever the plan.
        return SiteCalendar(self.timezone, self.day_start, None).day(name)

    def today(self, now: float) -> ProductionDay:
        return SiteCalendar(self.timezone, self.day_start, None).day_of(now)

    def at(self, instant: float) -> datetime:
        """An instant as the site's local time, with its offset."""
        return datetime.fromtimestamp(instant, ZoneInfo(self.timezone))


def sites_from(rows: list[PlaceRow]) -> list[SitePlace]:
    """Place rows (a site per line, ordered by site) as sites with their lines."""
    found: dict[str, tuple[PlaceRow, list[LinePlace]]] = {}
    for row in rows:
        _, lines = found.setdefault(row.site, (row, []))
        if row.line is not None:
            lines.append(LinePlace(row.line, row.line_name or row.line))
    return [
        SitePlace(row.site, row.site_name, row.timezone, row.day_start, tuple(lines))
        for row, lines in found.values()
    ]


async def site_of(tx: Tx, tenant: str, site: str) -> SitePlace:
    found = sites_from(await tx.fetch(places_of_site(tenant, site)))
    if not found:
        raise not_found(
            f"site {site!r} does not exist in your tenant; GET /v1/sites lists yours",
            "site",
            site,
        )
    return found[0]


async def line_of(tx: Tx, tenant: str, line: str) -> tuple[SitePlace, LinePlace]:
    """The line and its site (with only that line)."""
    row = await tx.fetch_optional(place_of_line(tenant, line))
    if row is None:
        raise not_found(
            f"line {line!r} does not exist in your tenant; GET /v1/sites lists yours",
            "line",
            line,
        )
    site = sites_from([row])[0]
    return site, site.lines[0]
