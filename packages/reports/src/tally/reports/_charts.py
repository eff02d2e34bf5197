"""The report's charts, drawn as PDF vector graphics (rectangles, lines, text): they print
sharp at any size, and their labels are text a reader can search and a test can extract.

Each function draws below the cursor across the page's width and moves the cursor past it;
an empty series draws its frame and says that there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from tally.contracts.figures import DowntimeEntry, HourFigures, OeeLosses, TimelineSpan
from tally.reports import _formats as fmt
from tally.reports._document import INK, MARGIN, MUTED, RULE, WIDTH, ReportPdf, pdf_text

Rgb = tuple[int, int, int]

# One colour per category (FIGURES.md's categories), the same in every chart.
CATEGORY_COLOURS: dict[str, Rgb] = {
    "running": (47, 158, 68),
    "changeover": (51, 154, 240),
    "cleaning": (116, 192, 252),
    "maintenance": (132, 94, 247),
    "blocked": (253, 126, 20),
    "starved": (250, 176, 5),
    "external failure": (156, 102, 68),
    "equipment failure": (224, 49, 49),
    "no order / no shift": (173, 181, 189),
    "unknown": (73, 80, 87),
    "no data": (233, 236, 239),
}
_OTHER: Rgb = (134, 142, 150)


def colour(category: str) -> Rgb:
    """A category's colour, its name written with spaces or underscores ("no_data")."""
    return CATEGORY_COLOURS.get(category.replace("_", " "), _OTHER)


_BAR: Rgb = (34, 139, 230)
_LABEL = 30.0


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float


def _frame(doc: ReportPdf, height: float) -> _Box:
    doc.room(height + 4)
    pdf = doc.pdf
    box = _Box(MARGIN + _LABEL, pdf.get_y() + 2, WIDTH - _LABEL - 2, height - 8)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(box.x, box.y + box.h, box.x + box.w, box.y + box.h)
    pdf.line(box.x, box.y, box.x, box.y + box.h)
    return box


def _done(doc: ReportPdf, box: _Box) -> None:
    doc.pdf.set_xy(MARGIN, box.y + box.h + 8)


def _text(doc: ReportPdf, x: float, y: float, text: str, size: float = 6.5) -> None:
    doc.pdf.set_font("helvetica", "", size)
    doc.pdf.set_text_color(*MUTED)
    doc.pdf.text(x, y, pdf_text(text))
    doc.pdf.set_text_color(*INK)


def _empty(doc: ReportPdf, box: _Box, what: str) -> None:
    _text(doc, box.x + 3, box.y + box.h / 2, f"no {what} in this day", 8)


def _hour_labels(doc: ReportPdf, box: _Box, hours: Sequence[HourFigures]) -> float:
    step = box.w / len(hours)
    every = max(1, len(hours) // 12)
    for n, hour in enumerate(hours):
        if n % every == 0:
            _text(doc, box.x + n * step + 0.3, box.y + box.h + 3.2, f"{hour.hour:%H}")
    return step


def hourly_packs(doc: ReportPdf, hours: Sequence[HourFigures]) -> None:
    """Good packs per local hour (bars), with the rejects stacked on top in red."""
    box = _frame(doc, 42)
    if not hours:
        _empty(doc, box, "packs")
        _done(doc, box)
        return
    top = max(h.total_packs for h in hours) or 1
    _text(doc, MARGIN, box.y + 2, f"max {top} packs/h")
    step = _hour_labels(doc, box, hours)
    pdf = doc.pdf
    for n, hour in enumerate(hours):
        left = box.x + n * step + step * 0.15
        good = box.h * hour.good_packs / top
        other = box.h * (hour.total_packs - hour.good_packs) / top
        # An hour without packs draws nothing (a zero-height rectangle would show a hairline).
        if good > 0:
            pdf.set_fill_color(*_BAR)
            pdf.rect(left, box.y + box.h - good, step * 0.7, good, style="F")
        if other > 0:
            pdf.set_fill_color(*CATEGORY_COLOURS["equipment failure"])
            pdf.rect(left, box.y + box.h - good - other, step * 0.7, other, style="F")
    _done(doc, box)


def hourly_weight(
    doc: ReportPdf,
    hours: Sequence[HourFigures],
    limits: Sequence[tuple[str, float | None]],
) -> None:
    """Mean net weight per local hour (a line with points) against the limits (Qn, T1, T2 of
    the day's main article) as dashed lines."""
    box = _frame(doc, 46)
    means = [h.mean_g for h in hours]
    known = [m for m in means if m is not None]
    lines = [(name, value) for name, value in limits if value is not None]
    if not known:
        _empty(doc, box, "weighed packs")
        _done(doc, box)
        return
    values = known + [value for _, value in lines]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.1, 0.5)
    low, high = low - pad, high + pad

    def y_of(grams: float) -> float:
        return box.y + box.h * (high - grams) / (high - low)

    pdf = doc.pdf
    for name, value in lines:
        pdf.set_draw_color(*CATEGORY_COLOURS["equipment failure" if name != "Qn" else "running"])
        pdf.set_dash_pattern(dash=1.2, gap=0.8)
        pdf.line(box.x, y_of(value), box.x + box.w, y_of(value))
        pdf.set_dash_pattern()
        _text(doc, MARGIN, y_of(value) + 1, f"{name} {fmt.grams(value)} g")
    step = _hour_labels(doc, box, hours)
    pdf.set_draw_color(*_BAR)
    pdf.set_line_width(0.4)
    points: list[tuple[float, float]] = []
    # One line per run of weighed hours: an hour without packs breaks it.
    for n, mean in enumerate([*means, None]):
        if mean is not None:
            points.append((box.x + (n + 0.5) * step, y_of(mean)))
            continue
        if len(points) > 1:
            pdf.polyline(points)
        _dots(doc, points)
        points = []
    pdf.set_line_width(0.2)
    _done(doc, box)


def _dots(doc: ReportPdf, points: Sequence[tuple[float, float]]) -> None:
    pdf = doc.pdf
    pdf.set_fill_color(*_BAR)
    for x, y in points:
        pdf.rect(x - 0.6, y - 0.6, 1.2, 1.2, style="F")


def _loss_steps(losses: OeeLosses) -> list[tuple[str, float]]:
    stops = sorted(losses.stop_seconds.items(), key=lambda item: (-item[1], item[0]))
    return [
        ("excluded", losses.excluded_seconds),
        *((f"stop: {category}", seconds) for category, seconds in stops),
        ("no data", losses.no_data_seconds),
        ("micro-stops", losses.micro_stop_seconds),
        ("speed loss", losses.speed_loss_seconds),
        ("quality loss", losses.quality_loss_seconds),
    ]


def loss_waterfall(doc: ReportPdf, losses: OeeLosses) -> None:
    """Planned time, each loss taken off in turn, and the fully productive time that is left:
    one horizontal bar per step, each loss starting where the one before ended."""
    steps = _loss_steps(losses)
    box = _frame(doc, 12 + 5 * (len(steps) + 2))
    pdf = doc.pdf
    total = losses.planned_seconds
    if total <= 0:
        _empty(doc, box, "planned time")
        _done(doc, box)
        return
    row = box.h / (len(steps) + 2)

    def bar(n: int, label: str, start: float, seconds: float, colour: Rgb) -> None:
        y = box.y + n * row
        _text(doc, MARGIN, y + row * 0.7, label)
        pdf.set_fill_color(*colour)
        left = box.x + box.w * min(start, start - seconds if seconds < 0 else start) / total
        pdf.rect(left, y + row * 0.15, box.w * abs(seconds) / total, row * 0.7, style="F")
        _text(doc, box.x + box.w * max(start, start + seconds) / total + 1, y + row * 0.7,
              fmt.hours(seconds))  # fmt: skip

    bar(0, "planned", 0.0, total, _BAR)
    left = total
    for n, (label, seconds) in enumerate(steps, start=1):
        left -= seconds
        bar(n, label, left, seconds, colour(label.removeprefix("stop: ")))
    bar(len(steps) + 1, "fully productive", 0.0, losses.fully_productive_seconds,
        CATEGORY_COLOURS["running"])  # fmt: skip
    _done(doc, box)


def top_downtime(doc: ReportPdf, downtime: Sequence[DowntimeEntry]) -> None:
    """The ten longest downtime reasons, as bars of their seconds with count and hours."""
    entries = list(downtime[:10])
    box = _frame(doc, 12 + 5 * max(len(entries), 2))
    if not entries:
        _empty(doc, box, "downtime")
        _done(doc, box)
        return
    pdf = doc.pdf
    longest = max(e.seconds for e in entries) or 1.0
    row = box.h / len(entries)
    for n, entry in enumerate(entries):
        y = box.y + n * row
        label = entry.category if entry.reason is None else f"{entry.reason}"
        _text(doc, MARGIN, y + row * 0.7, label[:24])
        pdf.set_fill_color(*colour(entry.category))
        width = (box.w - 30) * entry.seconds / longest
        pdf.rect(box.x, y + row * 0.15, width, row * 0.7, style="F")
        _text(doc, box.x + width + 1, y + row * 0.7, f"{fmt.hours(entry.seconds)} ({entry.count}x)")
    _done(doc, box)


def state_timeline(
    doc: ReportPdf,
    machines: Sequence[str],
    spans: Sequence[TimelineSpan],
    start: datetime,
    end: datetime,
    zone: tzinfo,
) -> None:
    """One row per machine across the production day, each span in its category's colour,
    and a legend of the categories shown."""
    box = _frame(doc, 14 + 6 * max(len(machines), 1))
    pdf = doc.pdf
    total = (end - start).total_seconds()
    if not machines or total <= 0:
        _empty(doc, box, "machines")
        _done(doc, box)
        return
    row = box.h / len(machines)
    rows = {machine: n for n, machine in enumerate(machines)}
    for machine, place in rows.items():
        _text(doc, MARGIN, box.y + place * row + row * 0.65, machine[:24])
    for span in spans:
        n = rows.get(span.machine)
        if n is None:
            continue
        left = max((span.start - start).total_seconds(), 0.0)
        right = min((span.end - start).total_seconds(), total)
        if right <= left:
            continue
        pdf.set_fill_color(*colour(span.category))
        pdf.rect(box.x + box.w * left / total, box.y + n * row + row * 0.15,
                 box.w * (right - left) / total, row * 0.7, style="F")  # fmt: skip
    for n in range(0, int(total // 3600) + 1, 3):
        # Local wall-clock labels: a DST day's axis reads 00 01 03 ... or 00 01 02 02 ...
        tick = (start + timedelta(hours=n)).astimezone(zone)
        _text(doc, box.x + box.w * n * 3600 / total - 1, box.y + box.h + 3.2, f"{tick:%H}")
    _legend(doc, box, sorted({span.category for span in spans}))
    _done(doc, box)


def _legend(doc: ReportPdf, box: _Box, categories: Sequence[str]) -> None:
    x = box.x
    for category in categories:
        doc.pdf.set_fill_color(*colour(category))
        doc.pdf.rect(x, box.y + box.h + 4.8, 2.5, 2.5, style="F")
        _text(doc, x + 3.2, box.y + box.h + 7, category)
        x += 6 + 1.3 * len(category)
