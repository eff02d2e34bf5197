"""GET /v1/lines/{line}/days/{day}: a line's production day, from the rollup's figures of the
line and its machines (packs, time, OEE, stops: `tally.figures.line_day`), its end-of-line
machine's weighings (kg, giveaway, rejects, articles: `line_day_weights`), the weight
distribution, the hour-lots (weights per hour) and each machine's minutes (the timeline).

A day without figures (nothing produced yet, or a day to come) is all zeros with null ratios,
never a 404: the line exists and made nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import tally.figures as figures
from tally.api.hour_lots import HourWeights, hour_weights
from tally.api.line_summaries import good_packs, plan_packs
from tally.api.places import LinePlace, SitePlace
from tally.contracts.figures import (
    ArticleDay,
    Completeness,
    DowntimeEntry,
    HourFigures,
    LineDay,
    MachineDay,
    OeeLosses,
    ShiftFigures,
    TimelineSpan,
    WeightDistribution,
)
from tally.registry import RegistrySnapshot
from tally.sdk import Tx

_AVAILABILITY = "availability:"


async def line_day_view(
    tx: Tx, snapshot: RegistrySnapshot, names: dict[str, str], site: SitePlace,
    line: LinePlace, day: date,
) -> LineDay:  # fmt: skip
    """`names`: the tenant's article names by article number."""
    span = site.day(day)
    zone = ZoneInfo(site.timezone)
    start, end = _at(span.start, zone), _at(span.end, zone)
    tenant = snapshot.tenant
    rolled = await figures.line_day(tx, tenant, line.line, day)
    weights = await figures.line_day_weights(tx, snapshot, line.line, day)
    distributions = await figures.line_day_distribution(tx, snapshot, line.line, day) or []
    eol = weights.machine if weights is not None else None
    weighed = [a.article for a in weights.articles] if weights is not None else []
    lots = await hour_weights(tx, snapshot, eol, weighed, start, end)
    ppt = rolled.ppt_seconds if rolled is not None else 0.0
    planned = rolled.planned_seconds if rolled is not None else 0.0
    machines = [m for m in snapshot.machines_on(line.line, span.start)]
    timeline = [
        span_
        for machine in machines
        for span_ in await _timeline(tx, tenant, machine.machine, start, end, zone)
    ]
    return LineDay(
        site=site.site,
        line=line.line,
        name=line.name,
        day=day,
        timezone=site.timezone,
        start=start,
        end=end,
        good_packs=good_packs(rolled.good_packs if rolled else 0.0, weights),
        total_packs=round(rolled.total_packs) if rolled else 0,
        rejects=dict(weights.rejects_by_reason) if weights else {},
        kg=weights.kg if weights else 0.0,
        kg_declared=weights.kg_declared if weights and weights.kg_declared else None,
        giveaway_g=weights.giveaway_g if weights and weights.kg_declared else None,
        giveaway_pct=_fraction(weights.giveaway_pct) if weights else None,
        giveaway_value=weights.giveaway_value if weights and weights.kg_declared else None,
        oee=rolled.oee if rolled else None,
        availability=rolled.availability if rolled else None,
        performance=rolled.performance if rolled else None,
        quality=rolled.quality if rolled else None,
        planned_seconds=ppt,
        run_seconds=rolled.run_seconds if rolled else 0.0,
        completeness=_completeness(rolled, [m.machine for m in machines], planned),
        machines=_machines(rolled, snapshot),
        articles=_articles(weights, snapshot, names, span.start),
        shifts=_shifts(rolled, zone),
        hours=_hours(rolled, lots, zone),
        downtime=_downtime(rolled),
        timeline=timeline,
        losses=_losses(rolled, planned, ppt),
        weights=[_distribution(d) for d in distributions],
        plan_packs=plan_packs(snapshot, line.line, day, weights),
    )


def _at(epoch: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, zone)


def _fraction(percent: float | None) -> float | None:
    # tally.figures states giveaway in percent; the API's ratios are fractions (0.012).
    return None if percent is None else percent / 100


def _completeness(
    rolled: figures.LineDay | None, machines: list[str], planned: float
) -> Completeness:
    if rolled is None:
        return Completeness(fraction=0.0, silent_machines=machines, gap_seconds=planned)
    heard = {
        m.machine
        for m in rolled.machines
        if any(c != "no_data" and s > 0 for c, s in m.category_seconds.items())
    }
    return Completeness(
        fraction=rolled.completeness,
        silent_machines=[m for m in machines if m not in heard],
        gap_seconds=(1.0 - rolled.completeness) * planned,
    )


def _machines(rolled: figures.LineDay | None, snapshot: RegistrySnapshot) -> list[MachineDay]:
    found = []
    for machine in rolled.machines if rolled else []:
        view = snapshot.machine(machine.machine)
        period = machine.figures
        found.append(
            MachineDay(
                machine=machine.machine,
                kind=view.kind.value if view else "unknown",
                packs_total=round(machine.packs_total),
                packs_good=round(machine.packs_good),
                state_seconds=machine.state_seconds,
                planned_seconds=period.ppt_seconds,
                run_seconds=period.run_seconds,
                oee=period.oee,
                availability=period.availability,
                performance=period.performance,
                quality=period.quality,
            )
        )
    return found


def _articles(
    weights: figures.LineDayWeights | None,
    snapshot: RegistrySnapshot,
    names: dict[str, str],
    at: float,
) -> list[ArticleDay]:
    found = []
    for article in weights.articles if weights else []:
        terms = snapshot.article_at(article.article, at)
        fixed = not article.catch_weight
        found.append(
            ArticleDay(
                article=article.article,
                name=names.get(article.article, article.article),
                catch_weight=article.catch_weight,
                packs=article.packs,
                rejects=dict(article.rejects_by_reason),
                kg=article.kg,
                kg_declared=article.kg_declared if fixed else None,
                qn_g=article.nominal_g,
                t1_g=_grams(terms.t1_dg if terms else None),
                t2_g=_grams(terms.t2_dg if terms else None),
                mean_g=article.mean_g,
                sd_g=article.sd_g,
                below_t1=article.below_t1,
                below_t2=article.below_t2,
                giveaway_g=article.giveaway_g if fixed else None,
                giveaway_pct=_fraction(article.giveaway_pct),
                giveaway_value=article.giveaway_value if fixed else None,
                compliant=article.compliant,
            )
        )
    return found


def _grams(decigrams: int | None) -> float | None:
    return None if decigrams is None else decigrams / 10


def _shifts(rolled: figures.LineDay | None, zone: ZoneInfo) -> list[ShiftFigures]:
    return [
        ShiftFigures(
            shift=p.label,
            start=p.start.astimezone(zone),
            end=p.end.astimezone(zone),
            planned_seconds=p.ppt_seconds,
            run_seconds=p.run_seconds,
            good_packs=round(p.good_packs),
            total_packs=round(p.total_packs),
            oee=p.oee,
            availability=p.availability,
            performance=p.performance,
            quality=p.quality,
        )
        for p in (rolled.shifts if rolled else [])
    ]


def _hours(
    rolled: figures.LineDay | None, lots: dict[datetime, HourWeights], zone: ZoneInfo
) -> list[HourFigures]:
    found = []
    for p in rolled.hours if rolled else []:
        weighed = lots.get(p.start.astimezone(UTC))
        found.append(
            HourFigures(
                hour=p.start.astimezone(zone),
                good_packs=round(p.good_packs),
                total_packs=round(p.total_packs),
                kg=weighed.kg if weighed else 0.0,
                mean_g=weighed.mean_g if weighed else None,
                rejects=weighed.rejects if weighed else 0,
            )
        )
    return found


def _downtime(rolled: figures.LineDay | None) -> list[DowntimeEntry]:
    return [
        DowntimeEntry(
            category=entry.category, reason=entry.reason, count=entry.count,
            seconds=entry.minutes * 60,
        )
        for entry in (rolled.downtime if rolled else [])
    ]  # fmt: skip


async def _timeline(
    tx: Tx, tenant: str, machine: str, start: datetime, end: datetime, zone: ZoneInfo
) -> list[TimelineSpan]:
    """The machine's minutes merged into spans of one state (the state holding longest in
    each minute: the timeline's resolution is a minute)."""
    spans: list[TimelineSpan] = []
    for minute in await figures.machine_minutes(tx, tenant, machine, start, end):
        state = minute.state or minute.category
        begin = minute.minute.astimezone(zone)
        last = spans[-1] if spans else None
        if (
            last
            and last.state == state
            and last.category == minute.category
            and (last.end == begin)
        ):
            spans[-1] = TimelineSpan(
                machine=machine, start=last.start, end=_minute_end(begin), state=state,
                category=minute.category,
            )  # fmt: skip
        else:
            spans.append(
                TimelineSpan(
                    machine=machine, start=begin, end=_minute_end(begin), state=state,
                    category=minute.category,
                )
            )  # fmt: skip
    return spans


def _minute_end(begin: datetime) -> datetime:
    return datetime.fromtimestamp(begin.timestamp() + 60, begin.tzinfo)


def _losses(rolled: figures.LineDay | None, planned: float, ppt: float) -> OeeLosses:
    losses = rolled.losses if rolled else {}
    stops = {
        key.removeprefix(_AVAILABILITY): seconds
        for key, seconds in losses.items()
        if key.startswith(_AVAILABILITY) and key != f"{_AVAILABILITY}no_data"
    }
    no_data = losses.get(f"{_AVAILABILITY}no_data", 0.0)
    micro = losses.get("micro_stops", 0.0)
    speed = losses.get("speed", 0.0)
    quality = losses.get("quality", 0.0)
    productive = ppt - sum(stops.values()) - no_data - micro - speed - quality
    return OeeLosses(
        planned_seconds=ppt,
        excluded_seconds=max(planned - ppt, 0.0),
        stop_seconds=stops,
        no_data_seconds=no_data,
        micro_stop_seconds=micro,
        speed_loss_seconds=speed,
        quality_loss_seconds=quality,
        fully_productive_seconds=productive if ppt else 0.0,
    )


def _distribution(found: figures.WeightDistribution) -> WeightDistribution:
    bins = sorted(found.bins, key=lambda b: b.low_g)
    first = bins[0].low_g if bins else 0.0
    counts = [0] * (round((bins[-1].low_g - first) / found.bin_g) + 1 if bins else 0)
    for each in bins:
        counts[round((each.low_g - first) / found.bin_g)] += each.accepted
    return WeightDistribution(
        article=found.article, qn_g=found.nominal_g, t1_g=found.t1_g, t2_g=found.t2_g,
        first_bin_g=first, bin_g=found.bin_g, counts=counts,
    )  # fmt: skip
