"""The site report's first page: the site's header, totals over its lines and one row per
line, from `SiteDay` (its lines' `LineDay`s give the completeness details)."""

from __future__ import annotations

from collections.abc import Sequence

from tally.contracts.figures import LineDay, SiteDay
from tally.reports import _formats as fmt
from tally.reports._document import Column, ReportPdf, Tile

_LINES = [
    Column("Line", 22, "L"), Column("Name", 30, "L"), Column("Good", 15), Column("Plan", 15),
    Column("Total", 15), Column("Kg", 15), Column("Giveaway", 13), Column("Rejects", 12),
    Column("OEE", 11), Column("A", 10), Column("P", 10), Column("Q", 10), Column("Data", 8),
]  # fmt: skip


def site_summary(
    doc: ReportPdf, site: SiteDay, lines: Sequence[LineDay], tenant: str, stamp: str
) -> None:
    silent = sorted({m for day in lines for m in day.completeness.silent_machines})
    gaps = sum(day.completeness.gap_seconds for day in lines)
    lowest = min((s.completeness for s in site.lines), default=None)
    doc.title(
        f"Daily production report - site {site.name}",
        [
            f"Tenant {tenant} · site {site.site} · production day {site.day.isoformat()} "
            f"({site.timezone}, {site.start.isoformat()} to {site.end.isoformat()})",
            f"Data completeness: lowest line {fmt.percent(lowest)} of planned time covered; "
            f"silent machines: {', '.join(silent) or 'none'}; gaps: {fmt.hours(gaps)}",
            stamp,
        ],
    )
    good = sum(s.good_packs for s in site.lines)
    total = sum(s.total_packs for s in site.lines)
    plans = [s.plan_packs for s in site.lines if s.plan_packs is not None]
    doc.tiles([
        Tile("Lines", fmt.count(len(site.lines))),
        Tile("Good packs", fmt.count(good), f"plan {sum(plans)}" if plans else ""),
        Tile("Total packs", fmt.count(total)),
        Tile("Kg actual", fmt.kg(sum(s.kg for s in site.lines))),
        Tile("Reject %", fmt.share(total - good, total)),
    ])  # fmt: skip
    doc.section("Lines")
    doc.table(_LINES, [
        [s.line, s.name[:20], fmt.count(s.good_packs), fmt.count(s.plan_packs),
         fmt.count(s.total_packs), fmt.kg(s.kg), fmt.percent(s.giveaway_pct),
         fmt.percent(s.reject_pct), fmt.percent(s.oee), fmt.percent(s.availability),
         fmt.percent(s.performance), fmt.percent(s.quality), fmt.percent(s.completeness)]
        for s in site.lines
    ])  # fmt: skip
