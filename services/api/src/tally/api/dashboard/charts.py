"""The line view's charts as inline SVG, drawn from the figures' contract structs alone.

Each chart is a function of the figures it shows and returns an `<svg>` element with a
`<title>` and a `<desc>` (read by screen readers), text labels on the marks that matter (nothing
is shown only on hover) and a `<title>` per mark for the precise value. No script is needed
to see them, and the page's table of the same figures stays the reference.

Every text that comes from a tenant (machine and article names, reasons) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from tally.contracts.figures import (
    DowntimeEntry,
    HourFigures,
    OeeLosses,
    TimelineSpan,
    WeightDistribution,
)

WIDTH = 720
# The categories' colours, shared with the stylesheet's state badges (dashboard.css).
CATEGORY_COLOURS = {
    "running": "#2e7d32",
    "micro_stop": "#9ccc65",
    "changeover": "#1565c0",
    "cleaning": "#4fc3f7",
    "maintenance": "#6a1b9a",
    "blocked": "#f9a825",
    "starved": "#ffb300",
    "external_failure": "#8d6e63",
    "equipment_failure": "#c62828",
    "no_order": "#90a4ae",
    "unknown": "#616161",
    "no_data": "#e0e0e0",
}


def colour(category: str) -> str:
    return CATEGORY_COLOURS.get(category.replace(" ", "_").replace("/", "_"), "#616161")


def _svg(title: str, desc: str, height: int, body: str, *, css: str) -> str:
    return (
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def _empty(title: str, what: str, css: str) -> str:
    return _svg(
        title,
        f"No {what} in this day.",
        60,
        f'<text x="10" y="35" class="empty">No {escape(what)} in this day.</text>',
        css=css,
    )


def hourly_packs(hours: Sequence[HourFigures]) -> str:
    """Good packs per local hour as bars, rejects stacked on top in a second colour."""
    title = "Packs per hour"
    if not hours:
        return _empty(title, "packs", "hourly")
    height, top, bottom, left = 240, 20, 40, 50
    plot = height - top - bottom
    highest = max(max(h.good_packs + h.rejects for h in hours), 1)
    step = (WIDTH - left - 10) / len(hours)
    marks = [_axis(left, top, plot, highest)]
    for i, hour in enumerate(hours):
        x = left + i * step
        good = plot * hour.good_packs / highest
        rejected = plot * hour.rejects / highest
        label = hour.hour.strftime("%H:%M")
        marks.append(
            f'<g class="bar"><title>{escape(hour.hour.isoformat())}: {hour.good_packs} good, '
            f"{hour.rejects} rejected</title>"
            f'<rect x="{x + 1:.1f}" y="{top + plot - good:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{good:.1f}" fill="#2e7d32"/>'
            f'<rect x="{x + 1:.1f}" y="{top + plot - good - rejected:.1f}" '
            f'width="{max(step - 2, 1):.1f}" height="{rejected:.1f}" fill="#c62828"/></g>'
        )
        if len(hours) <= 12 or i % 2 == 0:
            marks.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" class="tick">{label}</text>'
            )
    total = sum(h.good_packs for h in hours)
    desc = f"{len(hours)} hours, {total} good packs in all; green good, red rejected."
    return _svg(title, desc, height, "".join(marks), css="hourly")


def _axis(left: int, top: int, plot: int, highest: float) -> str:
    return (
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot}" class="axis"/>'
        f'<line x1="{left}" y1="{top + plot}" x2="{WIDTH - 10}" y2="{top + plot}" class="axis"/>'
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="tick">{highest:g}</text>'
        f'<text x="{left - 6}" y="{top + plot}" text-anchor="end" class="tick">0</text>'
    )


def weights(distribution: WeightDistribution) -> str:
    """An article's net weights as a histogram with Qn, T1 and T2 drawn as labelled lines."""
    title = f"Net weights of {distribution.article}"
    if not distribution.counts or not any(distribution.counts):
        return _empty(title, "weighed packs", "weights")
    height, top, bottom, left = 220, 24, 40, 50
    plot = height - top - bottom
    low = distribution.first_bin_g
    high = low + distribution.bin_g * len(distribution.counts)
    limits = [g for g in (distribution.qn_g, distribution.t1_g, distribution.t2_g) if g]
    low, high = min([low, *limits]) - distribution.bin_g, max([high, *limits]) + distribution.bin_g
    scale = (WIDTH - left - 10) / (high - low)
    highest = max(distribution.counts)
    marks = [_axis(left, top, plot, highest)]
    for i, count in enumerate(distribution.counts):
        start = distribution.first_bin_g + i * distribution.bin_g
        x = left + (start - low) * scale
        bar = plot * count / highest
        marks.append(
            f'<rect x="{x:.1f}" y="{top + plot - bar:.1f}" '
            f'width="{max(distribution.bin_g * scale - 1, 1):.1f}" height="{bar:.1f}" '
            f'fill="#1565c0"><title>{start:g}–{start + distribution.bin_g:g} g: {count} packs'
            "</title></rect>"
        )
    for name, grams, css in (
        ("Qn", distribution.qn_g, "qn"),
        ("T1", distribution.t1_g, "t1"),
        ("T2", distribution.t2_g, "t2"),
    ):
        if grams is None:
            continue
        x = left + (grams - low) * scale
        marks.append(
            f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{top + plot}" '
            f'class="limit {css}"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" class="limit-label">'
            f"{name} {grams:g} g</text>"
        )
    marks.append(
        f'<text x="{left}" y="{height - 12}" class="tick">{low:g} g</text>'
        f'<text x="{WIDTH - 10}" y="{height - 12}" text-anchor="end" class="tick">{high:g} g</text>'
    )
    packs = sum(distribution.counts)
    desc = f"{packs} accepted packs in {distribution.bin_g:g} g bins, with Qn, T1 and T2."
    return _svg(title, desc, height, "".join(marks), css="weights")


def timeline(spans: Sequence[TimelineSpan], start: datetime, end: datetime) -> str:
    """One row per machine: its states over the day, coloured by category."""
    title = "State of each machine over the day"
    if not spans:
        return _empty(title, "states", "timeline")
    machines = list(dict.fromkeys(s.machine for s in spans))
    row, left, top = 28, 130, 10
    height = top + row * len(machines) + 30
    length = (end - start).total_seconds() or 1.0
    scale = (WIDTH - left - 10) / length
    marks = []
    for index, machine in enumerate(machines):
        y = top + index * row
        marks.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(machine)}</text>"
        )
    for span in spans:
        y = top + machines.index(span.machine) * row
        x = left + max((span.start - start).total_seconds(), 0) * scale
        w = max(((min(span.end, end) - max(span.start, start)).total_seconds()) * scale, 0.5)
        marks.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{colour(span.category)}"><title>{escape(span.machine)}: '
            f"{escape(span.state)} ({escape(span.category)}) {span.start:%H:%M:%S}–"
            f"{span.end:%H:%M:%S}</title></rect>"
        )
    bottom = top + row * len(machines) + 18
    marks.append(
        f'<text x="{left}" y="{bottom}" class="tick">{start:%H:%M}</text>'
        f'<text x="{WIDTH - 10}" y="{bottom}" text-anchor="end" class="tick">{end:%H:%M}</text>'
    )
    categories = sorted({s.category for s in spans})
    desc = f"{len(machines)} machines; categories shown: {', '.join(categories)}."
    return _svg(title, desc, height, "".join(marks), css="timeline")


def pareto(entries: Sequence[DowntimeEntry]) -> str:
    """Stops by category and reason, longest first, as labelled horizontal bars."""
    title = "Downtime Pareto"
    if not entries:
        return _empty(title, "stops", "pareto")
    shown = sorted(entries, key=lambda e: -e.seconds)[:10]
    row, left, top = 26, 260, 6
    height = top + row * len(shown) + 6
    longest = max(shown[0].seconds, 1.0)
    marks = []
    for i, entry in enumerate(shown):
        y = top + i * row
        name = entry.category + (f" · {entry.reason}" if entry.reason else "")
        w = (WIDTH - left - 120) * entry.seconds / longest
        minutes = entry.seconds / 60
        marks.append(
            f'<text x="{left - 6}" y="{y + 17}" text-anchor="end" class="tick">'
            f"{escape(name[:40])}</text>"
            f'<rect x="{left}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row - 8}" '
            f'fill="{colour(entry.category)}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 17}" class="value">{minutes:.1f} min · '
            f"{entry.count}×</text>"
        )
    desc = f"{len(entries)} kinds of stop; the longest: {shown[0].category}."
    return _svg(title, desc, height, "".join(marks), css="pareto")


def waterfall(losses: OeeLosses) -> str:
    """Planned time, each loss taken off in turn, and the fully productive time left."""
    title = "OEE losses"
    if losses.planned_seconds <= 0:
        return _empty(title, "planned time", "waterfall")
    steps: list[tuple[str, float]] = [
        (f"stops: {category}", seconds)
        for category, seconds in sorted(losses.stop_seconds.items(), key=lambda kv: -kv[1])
        if seconds > 0
    ]
    if losses.no_data_seconds > 0:
        steps.append(("no data", losses.no_data_seconds))
    steps += [
        ("micro-stops", losses.micro_stop_seconds),
        ("speed", losses.speed_loss_seconds),
        ("quality", losses.quality_loss_seconds),
    ]
    bars = [("planned", 0.0, losses.planned_seconds, "total")]
    level = losses.planned_seconds
    for name, seconds in steps:
        bars.append((name, level - seconds, level, "loss"))
        level -= seconds
    bars.append(("fully productive", 0.0, losses.fully_productive_seconds, "total"))
    row, left, top = 26, 200, 6
    height = top + row * len(bars) + 6
    scale = (WIDTH - left - 130) / max(losses.planned_seconds, 1.0)
    marks = []
    for i, (name, low, high, kind) in enumerate(bars):
        y = top + i * row
        x0, x1 = sorted((left + low * scale, left + high * scale))
        hours = (high - low) / 3600
        fill = "#2e7d32" if kind == "total" else "#c62828"
        marks.append(
            f'<text x="{left - 6}" y="{y + 17}" text-anchor="end" class="tick">'
            f"{escape(name)}</text>"
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{row - 8}" '
            f'fill="{fill}"/>'
            f'<text x="{x1 + 6:.1f}" y="{y + 17}" class="value">{hours:.2f} h</text>'
        )
    share = losses.fully_productive_seconds / losses.planned_seconds
    desc = f"Of {losses.planned_seconds / 3600:.2f} planned hours, {share:.1%} fully productive."
    return _svg(title, desc, height, "".join(marks), css="waterfall")
