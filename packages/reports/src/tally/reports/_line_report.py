"""The PDF of a line's production day (and, line by line, of a site's): what ../DOMAIN.md's
"daily production report" lists, drawn only from the figures API's `LineDay` and `SiteDay`.

Page one: the header (tenant, site, line, day, how complete the data was), the headline tiles
and the charts; then the tables (articles and batches, rejects, shifts, machines) and the
alarms and notes. Every number goes through `_formats`, so the PDF shows the API's figures
rounded the same way each time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from tally.contracts.figures import ArticleDay, Completeness, LineDay, SiteDay
from tally.reports import _charts as charts
from tally.reports import _formats as fmt
from tally.reports._document import Column, ReportPdf, Tile
from tally.reports._site_tables import site_summary


def line_pdf(
    day: LineDay, *, tenant: str, produced_at: datetime, version: int | None = None
) -> bytes:
    """The PDF report of one line's production day."""
    doc = ReportPdf(f"{day.name} {day.day.isoformat()}", produced_at)
    doc.page()
    _line_pages(doc, day, tenant, _stamp(produced_at, version))
    return doc.bytes()


def site_pdf(
    site: SiteDay,
    lines: Sequence[LineDay],
    *,
    tenant: str,
    produced_at: datetime,
    version: int | None = None,
) -> bytes:
    """The PDF report of a site's production day: the site's table of lines, then each line's
    report in the order of `site.lines`."""
    doc = ReportPdf(f"{site.name} {site.day.isoformat()}", produced_at)
    doc.page()
    stamp = _stamp(produced_at, version)
    site_summary(doc, site, lines, tenant, stamp)
    for day in _in_order(site, lines):
        doc.page()
        _line_pages(doc, day, tenant, stamp)
    return doc.bytes()


def _in_order(site: SiteDay, lines: Sequence[LineDay]) -> list[LineDay]:
    by_line = {day.line: day for day in lines}
    return [by_line[summary.line] for summary in site.lines if summary.line in by_line]


def _stamp(produced_at: datetime, version: int | None) -> str:
    made = f"produced {produced_at.isoformat(timespec='seconds')}"
    if version is None:
        # Not a stored version: the api serves these for days not closed yet.
        return f"provisional (not a stored version; figures may still change), {made}"
    return f"version {version}, {made}"


def completeness_text(completeness: Completeness) -> str:
    """The report's statement of how complete its data was."""
    silent = ", ".join(completeness.silent_machines) or "none"
    return (
        f"Data completeness: {fmt.percent(completeness.fraction)} of planned time covered; "
        f"silent machines: {silent}; gaps: {fmt.hours(completeness.gap_seconds)}"
    )


def _line_pages(doc: ReportPdf, day: LineDay, tenant: str, stamp: str) -> None:
    doc.title(
        f"Daily production report - {day.name}",
        [
            f"Tenant {tenant} · site {day.site} · line {day.line} · production day "
            f"{day.day.isoformat()} ({day.timezone}, {day.start.isoformat()} to "
            f"{day.end.isoformat()})",
            completeness_text(day.completeness),
            stamp,
        ],
    )
    doc.tiles(_tiles(day))
    _charts(doc, day)
    _tables(doc, day)


def _tiles(day: LineDay) -> list[Tile]:
    rejects = sum(day.rejects.values())
    plan = "" if day.plan_packs is None else f"plan {fmt.count(day.plan_packs)}"
    return [
        Tile("Good packs", fmt.count(day.good_packs), plan),
        Tile("Total packs", fmt.count(day.total_packs)),
        Tile("Kg actual", fmt.kg(day.kg)),
        Tile("Kg declared", fmt.kg(day.kg_declared)),
        Tile("Reject %", fmt.share(rejects, day.total_packs), f"{rejects} packs"),
        Tile("Giveaway %", fmt.percent(day.giveaway_pct), f"{fmt.grams(day.giveaway_g)} g"),
        Tile("Giveaway value", fmt.money(day.giveaway_value)),
        Tile("OEE", fmt.percent(day.oee)),
        Tile("Availability", fmt.percent(day.availability)),
        Tile("Performance", fmt.percent(day.performance)),
        Tile("Quality", fmt.percent(day.quality)),
        Tile("Run hours", fmt.hours(day.run_seconds)),
        Tile("Stop hours", fmt.hours(day.planned_seconds - day.run_seconds), "planned - run"),
        Tile("Planned hours", fmt.hours(day.planned_seconds)),
    ]


def _main_article(day: LineDay) -> ArticleDay | None:
    fixed = [a for a in day.articles if a.qn_g is not None]
    return max(fixed, key=lambda a: (a.packs, a.article), default=None)


def _charts(doc: ReportPdf, day: LineDay) -> None:
    doc.section("Hourly packs (good; rejects stacked in red)", 42)
    charts.hourly_packs(doc, day.hours)
    main = _main_article(day)
    which = "" if main is None else f" - limits of {main.name}"
    doc.section(f"Hourly mean weight against Qn, T1 and T2{which}", 46)
    limits = [] if main is None else [("Qn", main.qn_g), ("T1", main.t1_g), ("T2", main.t2_g)]
    charts.hourly_weight(doc, day.hours, limits)
    doc.section("OEE loss waterfall", 50)
    charts.loss_waterfall(doc, day.losses)
    doc.section("Top 10 downtime reasons", 30)
    charts.top_downtime(doc, day.downtime)
    doc.section("State timeline per machine", 30)
    machines = [m.machine for m in day.machines]
    charts.state_timeline(doc, machines, day.timeline, day.start, day.end, ZoneInfo(day.timezone))


_ARTICLES = [
    Column("Article", 30, "L"), Column("Batch", 16, "L"), Column("Packs", 13),
    Column("Rejects", 12), Column("Kg", 15), Column("Mean g", 13), Column("Qn g", 12),
    Column("sd g", 10), Column("<T1 %", 11), Column("<T2", 8), Column("Giveaway g", 17),
    Column("Giveaway", 12), Column("e", 7), Column("Speed", 11),
]  # fmt: skip
_SHIFTS = [
    Column("Shift", 22, "L"), Column("From", 20, "L"), Column("To", 20, "L"),
    Column("Planned", 16), Column("Run", 16), Column("Good", 16), Column("Total", 16),
    Column("OEE", 15), Column("A", 15), Column("P", 15), Column("Q", 15),
]  # fmt: skip
_MACHINES = [
    Column("Machine", 34, "L"), Column("Kind", 26, "L"), Column("Packs", 18),
    Column("Good", 18), Column("Planned", 18), Column("Run", 18), Column("OEE", 16),
    Column("A", 12), Column("P", 12), Column("Q", 12),
]  # fmt: skip
_REJECTS = [Column("Article", 60, "L"), Column("Batch", 30, "L"), Column("Reason", 60, "L"),
            Column("Packs", 20)]  # fmt: skip
_NOTES = [Column("Kind", 40, "L"), Column("Reason", 90, "L"), Column("Count", 20),
          Column("Hours", 30)]  # fmt: skip


def _verdict(compliant: bool | None) -> str:
    return fmt.NONE if compliant is None else ("ok" if compliant else "FAIL")


def _article_row(a: ArticleDay) -> list[str]:
    rejected = sum(a.rejects.values())
    return [
        a.name[:22], a.batch or fmt.NONE, fmt.count(a.packs), fmt.count(rejected), fmt.kg(a.kg),
        fmt.grams(a.mean_g), fmt.grams(a.qn_g), fmt.grams(a.sd_g),
        fmt.share(a.below_t1, a.packs - rejected), fmt.count(a.below_t2),
        fmt.grams(a.giveaway_g), fmt.percent(a.giveaway_pct), _verdict(a.compliant),
        fmt.percent(a.speed_ratio),
    ]  # fmt: skip


def _tables(doc: ReportPdf, day: LineDay) -> None:
    doc.section("Articles and batches")
    doc.table(_ARTICLES, [_article_row(a) for a in day.articles])
    doc.note("Rejects by reason")
    rows = [
        [a.name, a.batch or fmt.NONE, reason, fmt.count(packs)]
        for a in day.articles
        for reason, packs in sorted(a.rejects.items())
    ]
    doc.table(_REJECTS, rows)
    doc.section("Shifts")
    doc.table(_SHIFTS, [
        [s.shift, fmt.clock(s.start), fmt.clock(s.end), fmt.hours(s.planned_seconds),
         fmt.hours(s.run_seconds), fmt.count(s.good_packs), fmt.count(s.total_packs),
         fmt.percent(s.oee), fmt.percent(s.availability), fmt.percent(s.performance),
         fmt.percent(s.quality)]
        for s in day.shifts
    ])  # fmt: skip
    doc.section("Machines")
    doc.table(_MACHINES, [
        [m.machine, m.kind, fmt.count(m.packs_total), fmt.count(m.packs_good),
         fmt.hours(m.planned_seconds), fmt.hours(m.run_seconds), fmt.percent(m.oee),
         fmt.percent(m.availability), fmt.percent(m.performance), fmt.percent(m.quality)]
        for m in day.machines
    ])  # fmt: skip
    doc.section("Alarms and notes (changeovers, cleaning, stops by first-out alarm)")
    doc.table(_NOTES, [
        [d.category, d.reason or fmt.NONE, fmt.count(d.count), fmt.hours(d.seconds)]
        for d in day.downtime
    ])  # fmt: skip
