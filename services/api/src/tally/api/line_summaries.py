"""One line's figures in a row: what the site's day and the live view list per line (the
rollup's period figures and the end-of-line machine's weighings of the same day)."""

from __future__ import annotations

from datetime import date

import tally.figures as figures
from tally.api.places import LinePlace
from tally.contracts.figures import LineSummary
from tally.registry import RegistrySnapshot
from tally.sdk import Tx


def good_packs(counted: float, weights: figures.LineDayWeights | None) -> int:
    """FIGURES.md: a line's good packs are its end-of-line machine's accepted weighings, or
    its good-packs counter (the rollup's count) when it sends no weighings."""
    if weights is not None and weights.packs > 0:
        return weights.accepted
    return round(counted)


def plan_packs(
    snapshot: RegistrySnapshot, line: str, day: date, weights: figures.LineDayWeights | None
) -> int | None:
    """What the line should make in the day: the planned time of the site's shift plan at the
    ideal rate of the article it made most of (none before it weighed an article, or on a day
    without planned time). The registry keeps no order book; this is the plan its shift plan
    and articles imply."""
    view = snapshot.line(line)
    made = max(weights.articles, key=lambda a: a.packs, default=None) if weights else None
    if view is None or made is None:
        return None
    span = view.site.calendar.day(day)
    planned = view.site.calendar.planned_seconds(span.start, span.end)
    terms = snapshot.article_at(made.article, span.start) or snapshot.article_at(
        made.article, span.end
    )
    if terms is None or planned <= 0:
        return None
    return round(planned / 60 * terms.ideal_rate_ppm)


async def line_summary(
    tx: Tx,
    snapshot: RegistrySnapshot,
    line: LinePlace,
    day: date,
    period: figures.PeriodFigures | None,
) -> LineSummary:
    """`period`: the line's rollup figures of `day` (None: none yet)."""
    weights = await figures.line_day_weights(tx, snapshot, line.line, day)
    weighed = weights.packs if weights else 0
    rejects = weights.rejects if weights else 0
    declared = weights is not None and weights.kg_declared > 0
    return LineSummary(
        line=line.line,
        name=line.name,
        good_packs=good_packs(period.good_packs if period else 0.0, weights),
        total_packs=round(period.total_packs) if period else 0,
        plan_packs=plan_packs(snapshot, line.line, day, weights),
        kg=weights.kg if weights else 0.0,
        giveaway_pct=(
            weights.giveaway_pct / 100
            if weights and declared and weights.giveaway_pct is not None
            else None
        ),
        reject_pct=rejects / weighed if weighed else None,
        oee=period.oee if period else None,
        availability=period.availability if period else None,
        performance=period.performance if period else None,
        quality=period.quality if period else None,
        completeness=period.completeness if period else 0.0,
    )
