"""GET /v1/lines/{line}/production: a line's figures per minute, hour, shift or production day
over [from, to), a page of `limit` buckets at a time.

Hours, shifts and days come from the rollup's line periods (`tally.figures.line_figures`), with
the end-of-line machine's weighings of the hour-lots starting in each bucket. A minute is finer
than the ℮ hour-lot, the weighings' grain: minute buckets hold packs and time (`weighed`
false, kg 0, giveaway null) from the machines' minutes — packs at the end-of-line machine,
planned and run time at the constraint machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import tally.figures as figures
from tally.api.figure_paths import Bucket
from tally.api.hour_lots import HourWeights, hour_weights
from tally.api.places import LinePlace, SitePlace
from tally.api.ranges import Range
from tally.contracts.figures import Production, ProductionBucket
from tally.registry import RegistrySnapshot
from tally.sdk import Tx


async def production_view(
    tx: Tx, snapshot: RegistrySnapshot, site: SitePlace, line: LinePlace, bucket: Bucket,
    within: Range, limit: int,
) -> Production:  # fmt: skip
    zone = ZoneInfo(site.timezone)
    if bucket is Bucket.MINUTE:
        buckets = await _minutes(tx, snapshot, line.line, within, limit + 1, zone)
    else:
        buckets = await _periods(tx, snapshot, line.line, bucket, within, limit + 1, zone)
    more = len(buckets) > limit
    return Production(
        line=line.line,
        bucket=bucket.value,
        timezone=site.timezone,
        buckets=buckets[:limit],
        next=buckets[limit].start if more else None,
    )


async def _periods(
    tx: Tx, snapshot: RegistrySnapshot, line: str, bucket: Bucket, within: Range, count: int,
    zone: ZoneInfo,
) -> list[ProductionBucket]:  # fmt: skip
    periods = await figures.line_figures(
        tx, snapshot.tenant, line, bucket.value, within.start, within.end
    )
    periods = periods[:count]
    if not periods:
        return []
    eol = snapshot.end_of_line_machine(line, periods[0].start.timestamp())
    first, last = periods[0].start, periods[-1].end
    # Only the articles the end-of-line machine weighed in these periods: their lots.
    weighed = (
        [] if eol is None else await figures.article_weights(tx, snapshot.tenant, eol, first, last)
    )
    lots = await hour_weights(tx, snapshot, eol, [a.article for a in weighed], first, last)
    found = []
    for period in periods:
        inside = [w for hour, w in lots.items() if period.start <= hour < period.end]
        found.append(_bucket(period, inside, zone))
    return found


def _bucket(
    period: figures.PeriodFigures, lots: list[HourWeights], zone: ZoneInfo
) -> ProductionBucket:
    giveaways = [w.giveaway_g for w in lots if w.giveaway_g is not None]
    return ProductionBucket(
        start=period.start.astimezone(zone),
        end=period.end.astimezone(zone),
        good_packs=round(period.good_packs),
        total_packs=round(period.total_packs),
        kg=sum(w.kg for w in lots),
        giveaway_g=sum(giveaways) if giveaways else None,
        rejects=sum(w.rejects for w in lots),
        planned_seconds=period.ppt_seconds,
        run_seconds=period.run_seconds,
        oee=period.oee,
    )


async def _minutes(
    tx: Tx, snapshot: RegistrySnapshot, line: str, within: Range, count: int, zone: ZoneInfo
) -> list[ProductionBucket]:
    at = within.start.timestamp()
    eol = snapshot.end_of_line_machine(line, at)
    constraint = snapshot.constraint_machine(line, at)
    end = min(within.end, within.start + timedelta(minutes=count))
    packs = await _machine_minutes(tx, snapshot.tenant, eol, within.start, end)
    time = await _machine_minutes(tx, snapshot.tenant, constraint, within.start, end)
    found = []
    for minute in sorted(set(packs) | set(time)):
        made, ran = packs.get(minute), time.get(minute)
        found.append(
            ProductionBucket(
                start=minute.astimezone(zone),
                end=(minute + timedelta(minutes=1)).astimezone(zone),
                good_packs=round(made.packs_good) if made else 0,
                total_packs=round(made.packs_total) if made else 0,
                kg=0.0,
                giveaway_g=None,
                rejects=0,
                planned_seconds=ran.planned_seconds if ran else 0.0,
                run_seconds=ran.running_seconds if ran else 0.0,
                oee=None,
                weighed=False,
            )
        )
    return found


async def _machine_minutes(
    tx: Tx, tenant: str, machine: str | None, start: datetime, end: datetime
) -> dict[datetime, figures.MinuteRow]:
    if machine is None:
        return {}
    rows = await figures.machine_minutes(tx, tenant, machine, start, end)
    return {row.minute.astimezone(UTC): row for row in rows}
