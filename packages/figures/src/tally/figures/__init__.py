"""tally.figures: the production figures of docs/FIGURES.md (rollup, api and CLI share them).

Recomputing the rollup buckets that a stored range touched, set-based in SQL from the raw rows,
and the typed read queries that every view of the figures is served from (never from raw rows).

Weighings (the ℮ lots of table `weighing_lots`, migration 0013):

    recompute_weighings     the rollup's hook: rewrite a machine's lots that [start, end] reaches
    article_weights         a machine's weighings per article over a period
    line_day_weights        a line's production day at its end-of-line machine, with its articles
    article_compliance      the ℮ verdict of each hour-lot of an article, with the rules' inputs
    weight_distribution     the packs by net weight per article (line_day_distribution: a day)
"""

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

__all__: list[str] = [
    "ArticleWeights",
    "LineDayWeights",
    "LotVerdict",
    "WeightBin",
    "WeightDistribution",
    "article_compliance",
    "article_weights",
    "line_day_distribution",
    "line_day_weights",
    "recompute_weighings",
    "weight_distribution",
]
