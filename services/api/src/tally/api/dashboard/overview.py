"""The site overview: one card per line with its state right now (coloured, and named in
words: colour is never the only sign), good packs against plan, OEE, giveaway % and reject %.

Drawn from the same contract structs the API answers (`LiveLine` for today, `LineSummary` of
`SiteDay` for an earlier day); each figure carries `data-field` so a test can read it back and
compare it with the API's JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from urllib.parse import quote

from tally.api.dashboard.formats import NONE, count, kilograms, ratio, text
from tally.contracts.figures import LineSummary, LiveLine


def _state(line: LiveLine | None) -> str:
    if line is None:
        return ""
    category = line.category.replace(" ", "_")
    words = line.category.replace("_", " ")
    since = f" since {line.since:%H:%M}" if line.since is not None else ""
    # The state in words beside its colour (colour alone tells nothing to some readers).
    named = "" if line.state == line.category else f"{text(line.state)} "
    return (
        f'<p class="state cat-{text(category)}" data-field="state">'
        f'<span class="dot" aria-hidden="true"></span>{named}'
        f'<span class="category">{text(words)}{since}</span></p>'
    )


def _figure(name: str, field: str, value: str) -> str:
    return f'<div><dt>{name}</dt><dd data-field="{field}">{value}</dd></div>'


def line_card(summary: LineSummary, day: date, live: LiveLine | None) -> str:
    href = f"/dashboard/lines/{quote(summary.line, safe='')}?day={day.isoformat()}"
    plan = NONE if summary.plan_packs is None else count(summary.plan_packs)
    share = ""
    if summary.plan_packs:
        done = min(summary.good_packs / summary.plan_packs, 1.0)
        share = (
            f'<meter min="0" max="1" value="{done:.3f}" '
            f'aria-label="good packs against plan">{done:.0%}</meter>'
        )
    figures = "".join(
        (
            _figure("Good packs", "good_packs", count(summary.good_packs)),
            _figure("Plan", "plan_packs", plan),
            _figure("OEE", "oee", ratio(summary.oee)),
            _figure("Giveaway", "giveaway_pct", ratio(summary.giveaway_pct)),
            _figure("Rejects", "reject_pct", ratio(summary.reject_pct)),
            _figure("Produced", "kg", kilograms(summary.kg)),
            _figure("Data complete", "completeness", ratio(summary.completeness)),
        )
    )
    return (
        f'<article class="line-card" data-line="{text(summary.line)}">'
        f'<h2><a href="{text(href)}">{text(summary.name)}</a></h2>'
        f"{_state(live)}{share}<dl>{figures}</dl></article>"
    )


def overview(
    summaries: Sequence[LineSummary], day: date, live: Sequence[LiveLine] | None = None
) -> str:
    """The cards of a site's lines; `live` gives each line's state when the day is today."""
    if not summaries:
        return '<p class="empty">This site has no lines yet.</p>'
    states = {line.line: line for line in live or ()}
    cards = "".join(line_card(s, day, states.get(s.line)) for s in summaries)
    return f'<section class="lines" aria-label="Lines">{cards}</section>'
