"""GET /v1/sites/{site}/days/{day}: every line of a site on a production day, from the
rollup's day figures of the site's lines (`tally.figures.site_figures`) and their weighings."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import tally.figures as figures
from tally.api.line_summaries import line_summary
from tally.api.places import SitePlace
from tally.contracts.figures import SiteDay
from tally.registry import RegistrySnapshot
from tally.sdk import Tx


async def site_day_view(tx: Tx, snapshot: RegistrySnapshot, site: SitePlace, day: date) -> SiteDay:
    span = site.day(day)
    zone = ZoneInfo(site.timezone)
    start = datetime.fromtimestamp(span.start, zone)
    end = datetime.fromtimestamp(span.end, zone)
    periods: dict[str, figures.PeriodFigures] = {}
    for found in await figures.site_figures(tx, snapshot.tenant, site.site, "day", start, end):
        for line in found.lines:
            periods[line.line] = line.figures
    return SiteDay(
        site=site.site,
        name=site.name,
        day=day,
        timezone=site.timezone,
        start=start,
        end=end,
        lines=[
            await line_summary(tx, snapshot, line, day, periods.get(line.line))
            for line in site.lines
        ],
    )
