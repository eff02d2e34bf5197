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

__all__ = [
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
