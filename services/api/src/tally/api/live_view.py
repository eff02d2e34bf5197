"""GET /v1/live: every line of the caller's tenant right now — the state of its constraint
machine (since the minute it was last seen) and its production day so far.

"Today" is the line's latest production day with figures (`tally.figures.live`), not the wall
clock's: figures are placed by the machines' own clocks (docs/FIGURES.md, "Device time"), and a
line whose clock runs elsewhere (a replay, the demo's fast simulation) is shown where its data
is. A line without any figures is shown on the site's current day, with nothing produced.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

import tally.figures as figures
from tally.api.line_summaries import line_summary
from tally.api.places import SitePlace
from tally.contracts.figures import Live, LiveLine
from tally.registry import RegistrySnapshot
from tally.sdk import Tx


async def live_view(
    tx: Tx, snapshot: RegistrySnapshot, sites: list[SitePlace], now: datetime
) -> Live:
    current = {line.line: line for line in await figures.live(tx, snapshot.tenant, now)}
    found = []
    for site in sites:
        for line in site.lines:
            seen = current.get(line.line)
            day = seen.today.production_day if seen else site.today(now.timestamp()).date
            found.append(
                LiveLine(
                    site=site.site,
                    line=line.line,
                    name=line.name,
                    state=(seen.state or seen.category) if seen else "no_data",
                    category=seen.category if seen else "no_data",
                    since=seen.as_of.astimezone(site.at(0).tzinfo) if seen and seen.as_of else None,
                    day=day,
                    figures=await line_summary(
                        tx, snapshot, line, day, seen.today if seen else None
                    ),
                    updated_at=seen.as_of if seen else None,
                )
            )
    return Live(at=now.astimezone(UTC), lines=found)


async def live_fingerprint(tx: Tx, tenant: str, lines: set[str], now: datetime) -> bytes:
    """What changes whenever the rollup stores new figures for one of `lines`: their current
    state and day so far (cheap: no weighings), for the dashboard's event stream."""
    current = [x for x in await figures.live(tx, tenant, now) if x.line in lines]
    return msgspec.json.encode(sorted(current, key=lambda x: x.line))
