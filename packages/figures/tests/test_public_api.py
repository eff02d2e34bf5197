"""The figures' front door, pinned: the api, the CLI, the rollup and the weighings build on it."""

from __future__ import annotations

import tally.figures


def test_the_figures_export_exactly_their_public_names() -> None:
    assert tally.figures.__all__ == [
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
