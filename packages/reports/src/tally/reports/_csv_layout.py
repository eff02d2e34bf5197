"""The report as CSV: every figure of the day at the API's full precision, for spreadsheets
and ERPs. UTF-8, comma-separated, RFC 4180 quoting, `\\r\\n` line ends.

Layout: a sequence of sections. Each section is one row holding only its name, then a header
row, then its data rows, then an empty row. Sections, in this order (site reports: `site` and
`lines` first, then the line sections with the rows of every line):

    site            tenant, site, name, day, timezone, start, end, version, produced_at
    lines           one row per line of the site (the fields of LineSummary)
    report          tenant, site, line, name, day, timezone, start, end, version, produced_at
    headline        line + the line day's figures (good_packs ... run_seconds, plan_packs)
    completeness    line, fraction, gap_seconds
    silent_machines line, machine
    rejects         line, reason, packs
    articles        line + ArticleDay's fields but rejects
    article_rejects line, article, batch, reason, packs
    shifts, hours, downtime, timeline
                    line + the fields of ShiftFigures, HourFigures, DowntimeEntry, TimelineSpan
    machines        line + MachineDay's fields but state_seconds
    machine_states  line, machine, state, seconds
    losses          line + OeeLosses' fields but stop_seconds
    loss_stops      line, category, seconds
    weights         line, article, qn_g, t1_g, t2_g, first_bin_g, bin_g
    weight_bins     line, article, bin, packs (bin n: [first_bin_g + n × bin_g, + bin_g))

Cells: column names are the API's field names; an empty cell is null; booleans are `true` /
`false`; numbers as the API has them (floats in their shortest exact form, never rounded);
dates and instants in ISO 8601, instants with the site's UTC offset.
"""

from __future__ import annotations

import csv
import io
import types
import typing
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from tally.contracts.figures import (
    ArticleDay,
    DowntimeEntry,
    HourFigures,
    LineDay,
    LineSummary,
    MachineDay,
    OeeLosses,
    ShiftFigures,
    SiteDay,
    TimelineSpan,
)

Row = list[object]


def cell(value: object) -> str:
    """One value as a CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _scalar(kind: Any) -> bool:
    parts = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    return all(
        typing.get_origin(part) is None
        and not (isinstance(part, type) and issubclass(part, msgspec.Struct))
        for part in parts
    )


def scalar_fields(kind: type[msgspec.Struct]) -> list[str]:
    """A contract's fields that fit in one cell (its dicts and lists get sections of their own)."""
    return [f.name for f in msgspec.structs.fields(kind) if _scalar(f.type)]


class _Sections:
    def __init__(self) -> None:
        self.order: list[str] = []
        self.headers: dict[str, list[str]] = {}
        self.rows: dict[str, list[Row]] = {}

    def declare(self, name: str, header: list[str]) -> None:
        if name not in self.headers:
            self.order.append(name)
            self.headers[name] = header
            self.rows[name] = []

    def add(self, name: str, header: list[str], rows: list[Row]) -> None:
        self.declare(name, header)
        self.rows[name].extend(rows)

    def structs(
        self, name: str, kind: type[msgspec.Struct], line: str, items: Sequence[Any]
    ) -> None:
        names = scalar_fields(kind)
        self.add(name, ["line", *names], [[line, *(getattr(i, n) for n in names)] for i in items])

    def text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for name in self.order:
            writer.writerow([name])
            writer.writerow(self.headers[name])
            writer.writerows([cell(value) for value in row] for row in self.rows[name])
            writer.writerow([])
        return out.getvalue()


_HEADLINE = [
    "good_packs", "total_packs", "kg", "kg_declared", "giveaway_g", "giveaway_pct",
    "giveaway_value", "oee", "availability", "performance", "quality", "planned_seconds",
    "run_seconds", "plan_packs",
]  # fmt: skip
_REPORT = ["tenant", "site", "line", "name", "day", "timezone", "start", "end", "version",
           "produced_at"]  # fmt: skip


def _line_sections(sections: _Sections, day: LineDay) -> None:
    line = day.line
    sections.add("headline", ["line", *_HEADLINE], [[line, *(getattr(day, n) for n in _HEADLINE)]])
    c = day.completeness
    sections.add("completeness", ["line", "fraction", "gap_seconds"],
                 [[line, c.fraction, c.gap_seconds]])  # fmt: skip
    sections.add("silent_machines", ["line", "machine"], [[line, m] for m in c.silent_machines])
    sections.add("rejects", ["line", "reason", "packs"],
                 [[line, r, n] for r, n in sorted(day.rejects.items())])  # fmt: skip
    sections.structs("articles", ArticleDay, line, day.articles)
    sections.add("article_rejects", ["line", "article", "batch", "reason", "packs"], [
        [line, a.article, a.batch, r, n] for a in day.articles for r, n in sorted(a.rejects.items())
    ])  # fmt: skip
    sections.structs("shifts", ShiftFigures, line, day.shifts)
    sections.structs("hours", HourFigures, line, day.hours)
    sections.structs("machines", MachineDay, line, day.machines)
    sections.add("machine_states", ["line", "machine", "state", "seconds"], [
        [line, m.machine, s, v] for m in day.machines for s, v in sorted(m.state_seconds.items())
    ])  # fmt: skip
    sections.structs("downtime", DowntimeEntry, line, day.downtime)
    sections.structs("timeline", TimelineSpan, line, day.timeline)
    sections.structs("losses", OeeLosses, line, [day.losses])
    sections.add("loss_stops", ["line", "category", "seconds"],
                 [[line, k, v] for k, v in sorted(day.losses.stop_seconds.items())])  # fmt: skip
    weights = ["article", "qn_g", "t1_g", "t2_g", "first_bin_g", "bin_g"]
    sections.add("weights", ["line", *weights],
                 [[line, *(getattr(w, n) for n in weights)] for w in day.weights])  # fmt: skip
    sections.add("weight_bins", ["line", "article", "bin", "packs"], [
        [line, w.article, n, packs] for w in day.weights for n, packs in enumerate(w.counts)
    ])  # fmt: skip


def line_csv(
    day: LineDay, *, tenant: str, produced_at: datetime, version: int | None = None
) -> str:
    """The CSV report of one line's production day."""
    sections = _Sections()
    sections.add("report", _REPORT, [[
        tenant, day.site, day.line, day.name, day.day, day.timezone, day.start, day.end, version,
        produced_at,
    ]])  # fmt: skip
    _line_sections(sections, day)
    return sections.text()


def site_csv(
    site: SiteDay,
    lines: Sequence[LineDay],
    *,
    tenant: str,
    produced_at: datetime,
    version: int | None = None,
) -> str:
    """The CSV report of a site's production day: the site, its lines' summaries, and every
    line's sections (rows of all lines together, told apart by `line`)."""
    sections = _Sections()
    sections.add("site", [h for h in _REPORT if h != "line"], [[
        tenant, site.site, site.name, site.day, site.timezone, site.start, site.end, version,
        produced_at,
    ]])  # fmt: skip
    names = scalar_fields(LineSummary)
    sections.add("lines", names, [[getattr(s, n) for n in names] for s in site.lines])
    for day in lines:
        _line_sections(sections, day)
    return sections.text()
