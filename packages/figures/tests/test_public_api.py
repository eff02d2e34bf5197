"""The figures' front door, pinned: the api, the CLI, the rollup and the weighings build on it."""

from __future__ import annotations

import tally.figures


def test_the_figures_export_exactly_their_public_names() -> None:
    assert tally.figures.__all__ == [
        "RECOMPUTERS",
        "DowntimeEntry",
        "LineDay",
        "LineFigures",
        "LineLive",
        "MachineFigures",
        "MachineNow",
        "MinuteRow",
        "PeriodFigures",
        "Recomputer",
        "SiteFigures",
        "TimelineEntry",
        "Touched",
        "line_day",
        "line_figures",
        "live",
        "machine_figures",
        "machine_minutes",
        "rebuild",
        "recompute",
        "site_figures",
    ]
