"""tally.figures: the production figures of docs/FIGURES.md (rollup, api and CLI share them).

    recompute       the buckets a stored range touched, from the raw rows: the minutes it can
                    change (widened to whole stops and neighbouring samples) with their stops and
                    suspect counter jumps, then the hours, shifts and days of those minutes'
                    production days (GROUP BYs of minutes), the other `RECOMPUTERS` over the
                    range, and the lines' periods, set-based from their machines'
    rebuild         recompute a tenant's production days [first, last] from raw rows
    Touched         what changed: tenant, machine, device-time range
    RECOMPUTERS     other figures' recomputations, `(tx, tenant, machine, start, end)`, run in
                    the same transaction (the weighings' ℮ lots join here)
    line_day, line_figures, machine_figures, machine_minutes, site_figures, live
                    the typed reads (msgspec Structs), from rollup tables only

Weighings (the ℮ lots of table `weighing_lots`, migration 0013):

    recompute_weighings     the rollup's hook: rewrite a machine's lots that [start, end] reaches
    article_weights         a machine's weighings per article over a period
    line_day_weights        a line's production day at its end-of-line machine, with its articles
    article_compliance      the ℮ verdict of each hour-lot of an article, with the rules' inputs
    weight_distribution     the packs by net weight per article (line_day_distribution: a day)

Everything is in device time and each site's production days (tally.calendar).
"""

from tally.figures._figures import (
    DowntimeEntry,
    LineDay,
    LineFigures,
    LineLive,
    MachineFigures,
    MachineNow,
    PeriodFigures,
    SiteFigures,
    TimelineEntry,
    line_day,
    line_figures,
    live,
    machine_figures,
    machine_minutes,
    site_figures,
)
from tally.figures._read_queries import MinuteRow
from tally.figures._rebuild import rebuild
from tally.figures._recompute import RECOMPUTERS, Recomputer, Touched, recompute
from tally.figures._weighings_figures import (
    ArticleWeights,
    LineDayWeights,
    LotVerdict,
    WeightBin,
    WeightDistribution,
)
from tally.figures._weighings_reads import (
    article_compliance,
    article_weights,
    line_day_distribution,
    line_day_weights,
    weight_distribution,
)
from tally.figures._weighings_recompute import recompute_weighings

__all__ = [
    "RECOMPUTERS",
    "ArticleWeights",
    "DowntimeEntry",
    "LineDay",
    "LineDayWeights",
    "LineFigures",
    "LineLive",
    "LotVerdict",
    "MachineFigures",
    "MachineNow",
    "MinuteRow",
    "PeriodFigures",
    "Recomputer",
    "SiteFigures",
    "TimelineEntry",
    "Touched",
    "WeightBin",
    "WeightDistribution",
    "article_compliance",
    "article_weights",
    "line_day",
    "line_day_distribution",
    "line_day_weights",
    "line_figures",
    "live",
    "machine_figures",
    "machine_minutes",
    "rebuild",
    "recompute",
    "recompute_weighings",
    "site_figures",
    "weight_distribution",
]
