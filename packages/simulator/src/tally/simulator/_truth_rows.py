"""Weighing rows of the truth file: ℮ lots, article-days, and a line's day totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tally.simulator._lots import MICROS_PER_UNIT, WeighingTally
from tally.simulator._machine_tally import DayTally, MachineTally, t1_t2_dg
from tally.simulator._truth_file import ArticleDayTruth, LotTruth

DG_PER_KG = 10_000


def weighing_fields(article: str, nominal_g: float | None, tally: WeighingTally) -> dict[str, Any]:
    """The fields every weighings row shares."""
    return {
        "article": article,
        "nominal_g": nominal_g,
        "packs": tally.packs,
        "accepted": tally.accepted,
        "rejects": tally.rejects,
        "rejects_by_reason": dict(sorted(tally.rejects_by_reason.items())),
        "net_dg": tally.net_dg,
        "net_sq_dg": tally.net_sq_dg,
        "kg": tally.net_dg / DG_PER_KG,
        "kg_declared": tally.declared_dg / DG_PER_KG,
        "min_g": None if tally.min_dg is None else tally.min_dg / 10,
        "max_g": None if tally.max_dg is None else tally.max_dg / 10,
        "mean_g": tally.mean_g,
        "sigma_g": tally.sigma_g,
        "below_t1": tally.below_t1,
        "below_t2": tally.below_t2,
        "giveaway_dg": tally.giveaway_dg,
        "giveaway_g": tally.giveaway_dg / 10,
        "giveaway_value": round(tally.giveaway_micros / MICROS_PER_UNIT, 6),
        "compliant": tally.compliant,
    }


def lot_rows(machine: MachineTally) -> list[LotTruth]:
    """Every ℮ lot the machine weighed."""
    placement = machine.placement
    calendar = machine.calendar
    rows = []
    for (article_id, start), tally in machine.lots.items():
        article = placement.tenant.article(article_id)
        hour = calendar.local_hour(start)
        t1, t2 = t1_t2_dg(tally.nominal_dg) if tally.nominal_dg is not None else (None, None)
        rows.append(
            LotTruth(
                **weighing_fields(article_id, article.nominal_g, tally),
                site=placement.site.id,
                line=placement.line.id,
                machine=placement.machine.id,
                production_day=calendar.day_of(start).date,
                hour_start=datetime.fromtimestamp(hour.start, UTC),
                hour_end=datetime.fromtimestamp(hour.end, UTC),
                local_hour=hour.label,
                t1_g=None if t1 is None else t1 / 10,
                t2_g=None if t2 is None else t2 / 10,
            )
        )
    return rows


def article_days(machine: MachineTally, name: date, day: DayTally) -> list[ArticleDayTruth]:
    """The day's weighings per article, with the verdicts of its lots that start in the day."""
    calendar = machine.calendar
    verdicts: dict[str, list[bool]] = {}
    for (article_id, start), lot in machine.lots.items():
        if lot.compliant is not None and calendar.day_of(start).date == name:
            verdicts.setdefault(article_id, []).append(lot.compliant)
    rows = []
    for article_id, tally in sorted(day.articles.items()):
        article = machine.placement.tenant.article(article_id)
        lots = verdicts.get(article_id, [])
        fields = weighing_fields(article_id, article.nominal_g, tally)
        fields["compliant"] = all(lots) if lots else None
        rows.append(ArticleDayTruth(**fields, lots=len(lots), lots_compliant=sum(lots)))
    return rows


@dataclass(frozen=True, slots=True)
class LineWeighings:
    """A line's weighing totals over a day, from its end-of-line machine's article rows."""

    rejects_by_reason: dict[str, int]
    kg: float
    kg_declared: float
    giveaway_dg: int
    giveaway_g: float
    giveaway_value: float


def line_weighings(articles: list[ArticleDayTruth]) -> LineWeighings:
    reasons: dict[str, int] = {}
    for article in articles:
        for reason, n in article.rejects_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + n
    net = sum(a.net_dg for a in articles)
    declared = round(sum(a.kg_declared for a in articles) * DG_PER_KG)
    giveaway = sum(a.giveaway_dg for a in articles)
    return LineWeighings(
        rejects_by_reason=dict(sorted(reasons.items())),
        kg=net / DG_PER_KG,
        kg_declared=declared / DG_PER_KG,
        giveaway_dg=giveaway,
        giveaway_g=giveaway / 10,
        giveaway_value=round(sum(a.giveaway_value for a in articles), 6),
    )
