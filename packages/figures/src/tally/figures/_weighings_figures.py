"""The weighing figures as the API serves them (docs/FIGURES.md, "Weights"): an article's weights
over a period, a line's day totals, the ℮ verdict of each hour-lot with its inputs, and the
weight distribution. Grams and kilograms are floats made from exact decigram sums at the end;
the `_dg` fields keep the exact sums. Percentages are 0–100.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class ArticleWeights(msgspec.Struct, frozen=True, kw_only=True):
    """One article's weighings on one machine over a period (its lots starting in it).

    `packs` counts every weighed pack, `rejects` the rejected ones (by reason); weights, giveaway
    and the limits count accepted packs only, giveaway and `kg_declared` fixed-weight ones only.
    `lots` are the ℮ lots with a verdict, `compliant` whether every one of them complies (None:
    none has a verdict — a catch-weight article, or no accepted pack)."""

    article: str
    catch_weight: bool
    nominal_g: float | None
    packs: int
    accepted: int
    rejects: int
    rejects_by_reason: dict[str, int]
    net_dg: int
    kg: float
    kg_declared: float
    mean_g: float | None
    sd_g: float | None
    min_g: float | None
    max_g: float | None
    below_t1: int
    below_t2: int
    giveaway_dg: int
    giveaway_g: float
    giveaway_g_per_pack: float | None
    giveaway_pct: float | None
    giveaway_value: float
    lots: int
    lots_compliant: int
    compliant: bool | None


class LineDayWeights(msgspec.Struct, frozen=True, kw_only=True):
    """A line's production day from the weighings of its end-of-line machine (`machine`; None
    when the line has none): totals and the article table."""

    line: str
    day: date
    machine: str | None
    day_start: datetime
    day_end: datetime
    packs: int
    accepted: int
    rejects: int
    rejects_by_reason: dict[str, int]
    net_dg: int
    kg: float
    kg_declared: float
    giveaway_dg: int
    giveaway_g: float
    giveaway_pct: float | None
    giveaway_value: float
    articles: list[ArticleWeights]


class LotVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The ℮ verdict of one lot (an article on one machine in one local hour) by the three
    rules, with their inputs: over the lot's accepted fixed-weight packs (`packs`), the mean
    against Qn, the packs strictly below T1 against those allowed (2.5 %, inclusive), and
    the packs strictly below T2 (none allowed). `compliant` None: no verdict (catch-weight,
    or no accepted pack)."""

    article: str
    machine: str
    line: str | None
    production_day: date | None
    hour_start: datetime
    hour_end: datetime
    local_hour: str
    nominal_g: float | None
    t1_g: float | None
    t2_g: float | None
    weighed: int
    rejects: int
    packs: int
    mean_g: float | None
    sd_g: float | None
    below_t1: int
    below_t1_allowed: int
    below_t2: int
    mean_ok: bool | None
    below_t1_ok: bool | None
    below_t2_ok: bool | None
    compliant: bool | None


class WeightBin(msgspec.Struct, frozen=True, kw_only=True):
    """Packs whose net weight lies in [low_g, high_g)."""

    low_g: float
    high_g: float
    accepted: int
    rejected: int


class WeightDistribution(msgspec.Struct, frozen=True, kw_only=True):
    """An article's weighed packs by net weight over a period, sparse (empty bins left out),
    with the limits to draw them against (those of its latest lot)."""

    article: str
    nominal_g: float | None
    t1_g: float | None
    t2_g: float | None
    bin_g: float
    bins: list[WeightBin]
