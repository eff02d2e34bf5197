"""The figures API's answers: what integrations (ERPs, the dashboard, `tally report`) read.

These are public contracts like the topics': integrations are written against these names
(issue 10 fixes the line day's). Times are ISO 8601 with the site's UTC offset, days are the
production day's local date (docs/FIGURES.md: a day is named by the date it starts on), weights
in grams and kilograms, durations in seconds, ratios as fractions 0..1 (`oee` 0.853, not 85.3).
A ratio whose denominator is zero (no planned time, no packs) is null, never 0 or 1.

The api builds them from `tally.figures`' read queries (rollup tables, never raw rows); the
report and the dashboard draw only what is here, so all three show the same figures.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

__all__ = [
    "ArticleDay",
    "Completeness",
    "Compliance",
    "DowntimeEntry",
    "HourFigures",
    "LineDay",
    "LineRef",
    "LineSummary",
    "Live",
    "LiveLine",
    "LotVerdict",
    "MachineDay",
    "OeeLosses",
    "Production",
    "ProductionBucket",
    "ShiftFigures",
    "SiteDay",
    "SiteInfo",
    "Sites",
    "TimelineSpan",
    "WeightDistribution",
]


class _View(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Completeness(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How much of the planned time the data covers: 1.0 when every machine reported
    throughout; `silent_machines` sent nothing in the day, `gap_seconds` is planned time of the
    line's machines without data (beyond the tenant's gap threshold)."""

    fraction: float
    silent_machines: list[str]
    gap_seconds: float


class MachineDay(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    machine: str
    kind: str
    packs_total: int
    packs_good: int
    state_seconds: dict[str, float]
    planned_seconds: float
    run_seconds: float
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    suspect_jumps: int = 0


class ArticleDay(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One article (and batch, when the machines report one) on a line in a day, from the
    end-of-line checkweigher's hour-lots."""

    article: str
    name: str
    batch: str | None = None
    catch_weight: bool
    packs: int
    rejects: dict[str, int]
    kg: float
    kg_declared: float | None
    qn_g: float | None
    t1_g: float | None
    t2_g: float | None
    mean_g: float | None
    sd_g: float | None
    below_t1: int
    below_t2: int
    giveaway_g: float | None
    giveaway_pct: float | None
    giveaway_value: float | None
    # The ℮ verdict of the day: every hour-lot of the article complies (null: no lot judged).
    compliant: bool | None
    speed_ratio: float | None = None


class ShiftFigures(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    shift: str
    start: datetime
    end: datetime
    planned_seconds: float
    run_seconds: float
    good_packs: int
    total_packs: int
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None


class HourFigures(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A local clock hour (`hour` is its start, with the offset that tells the two 02:00 hours
    of an autumn DST night apart)."""

    hour: datetime
    good_packs: int
    total_packs: int
    kg: float
    mean_g: float | None
    rejects: int


class DowntimeEntry(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One row of the downtime Pareto: stops of a category and reason, longest first."""

    category: str
    reason: str | None
    count: int
    seconds: float


class TimelineSpan(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[start, end) of one machine in one state; `state` "no_data" for gaps."""

    machine: str
    start: datetime
    end: datetime
    state: str
    category: str


class OeeLosses(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The OEE loss waterfall: planned time less each loss gives fully productive time;
    the losses add up exactly (FIGURES.md)."""

    planned_seconds: float
    excluded_seconds: float
    stop_seconds: dict[str, float]
    no_data_seconds: float
    micro_stop_seconds: float
    speed_loss_seconds: float
    quality_loss_seconds: float
    fully_productive_seconds: float


class WeightDistribution(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Net weights of an article's packs in a day as a histogram: `counts[i]` packs weighed in
    [first_bin_g + i × bin_g, first_bin_g + (i + 1) × bin_g)."""

    article: str
    qn_g: float | None
    t1_g: float | None
    t2_g: float | None
    first_bin_g: float
    bin_g: float
    counts: list[int]


class LineDay(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/lines/{line}/days/{day}: one line's production day."""

    site: str
    line: str
    name: str
    day: date
    timezone: str
    start: datetime
    end: datetime
    good_packs: int
    total_packs: int
    rejects: dict[str, int]
    kg: float
    kg_declared: float | None
    giveaway_g: float | None
    giveaway_pct: float | None
    giveaway_value: float | None
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    planned_seconds: float
    run_seconds: float
    completeness: Completeness
    machines: list[MachineDay]
    articles: list[ArticleDay]
    shifts: list[ShiftFigures]
    hours: list[HourFigures]
    downtime: list[DowntimeEntry]
    timeline: list[TimelineSpan]
    losses: OeeLosses
    weights: list[WeightDistribution]
    # The registry's plan for the day (packs a line should make), when the site has one.
    plan_packs: int | None = None


class LineSummary(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One line in a site's day or in the live view."""

    line: str
    name: str
    good_packs: int
    total_packs: int
    plan_packs: int | None
    kg: float
    giveaway_pct: float | None
    reject_pct: float | None
    oee: float | None
    availability: float | None
    performance: float | None
    quality: float | None
    completeness: float


class SiteDay(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/sites/{site}/days/{day}: every line of a site on a day."""

    site: str
    name: str
    day: date
    timezone: str
    start: datetime
    end: datetime
    lines: list[LineSummary]


class LineRef(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line: str
    name: str


class SiteInfo(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: str
    name: str
    timezone: str
    lines: list[LineRef]


class Sites(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/sites."""

    sites: list[SiteInfo]


class LiveLine(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A line right now: the state of its constraint machine (since when) and today so far."""

    site: str
    line: str
    name: str
    state: str
    category: str
    since: datetime | None
    day: date
    figures: LineSummary
    updated_at: datetime | None


class Live(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/live: every line of the caller's tenant."""

    at: datetime
    lines: list[LiveLine]


class ProductionBucket(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: datetime
    end: datetime
    good_packs: int
    total_packs: int
    kg: float
    giveaway_g: float | None
    rejects: int
    planned_seconds: float
    run_seconds: float
    oee: float | None
    # False for a minute: finer than the ℮ hour-lot, so no weights (kg 0, giveaway null).
    weighed: bool = True


class Production(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/lines/{line}/production?from=&to=&bucket=minute|hour|shift|day; `next` is the
    `from` of the following page when the range holds more buckets than one page."""

    line: str
    bucket: str
    timezone: str
    buckets: list[ProductionBucket]
    next: datetime | None = None


class LotVerdict(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ℮ hour-lot: an article on a machine in a local clock hour, judged by the three
    rules (mean ≥ Qn, at most the allowed share below T1, none below T2)."""

    machine: str
    line: str | None
    hour: datetime
    packs: int
    qn_g: float | None
    t1_g: float | None
    t2_g: float | None
    mean_g: float | None
    below_t1: int
    below_t2: int
    allowed_below_t1: int
    mean_ok: bool | None
    t1_ok: bool | None
    t2_ok: bool | None
    compliant: bool | None


class Compliance(_View, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """GET /v1/articles/{article}/compliance?from=&to=."""

    article: str
    lots: list[LotVerdict]
    next: datetime | None = None
