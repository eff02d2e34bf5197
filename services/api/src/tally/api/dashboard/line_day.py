"""A line's production day: the headline figures, the charts (hourly packs, weights against
Qn/T1/T2, each machine's states, the downtime Pareto, the OEE loss waterfall) and the tables
of articles, machines and shifts — all from one `LineDay`, the API's answer for that day."""

from __future__ import annotations

from tally.api.dashboard import charts
from tally.api.dashboard.formats import (
    NONE,
    count,
    grams,
    hours,
    kilograms,
    money,
    ratio,
    text,
)
from tally.contracts.figures import ArticleDay, LineDay, WeightDistribution


def _headline(day: LineDay) -> str:
    rejects = sum(day.rejects.values())
    items = (
        ("Good packs", "good_packs", count(day.good_packs)),
        ("Total packs", "total_packs", count(day.total_packs)),
        ("Plan", "plan_packs", count(day.plan_packs)),
        ("Rejects", "rejects", count(rejects)),
        ("Produced", "kg", kilograms(day.kg)),
        ("Giveaway", "giveaway_pct", ratio(day.giveaway_pct)),
        ("Giveaway value", "giveaway_value", money(day.giveaway_value)),
        ("OEE", "oee", ratio(day.oee)),
        ("Availability", "availability", ratio(day.availability)),
        ("Performance", "performance", ratio(day.performance)),
        ("Quality", "quality", ratio(day.quality)),
        ("Planned time", "planned_seconds", hours(day.planned_seconds)),
        ("Data complete", "completeness", ratio(day.completeness.fraction)),
    )
    figures = "".join(
        f'<div><dt>{name}</dt><dd data-field="{field}">{value}</dd></div>'
        for name, field, value in items
    )
    silent = ""
    if day.completeness.silent_machines:
        names = ", ".join(text(m) for m in day.completeness.silent_machines)
        silent = f'<p class="warning">No data from: {names}.</p>'
    return f'<dl class="headline">{figures}</dl>{silent}'


def _section(heading: str, anchor: str, body: str) -> str:
    return (
        f'<section class="panel" aria-labelledby="{anchor}">'
        f'<h2 id="{anchor}">{heading}</h2>{body}</section>'
    )


def _verdict(compliant: bool | None) -> str:
    if compliant is None:
        return NONE
    return "complies" if compliant else '<strong class="bad">fails</strong>'


def _article_row(article: ArticleDay) -> str:
    cells = (
        count(article.packs),
        kilograms(article.kg),
        grams(article.qn_g),
        grams(article.mean_g),
        grams(article.sd_g),
        count(article.below_t1),
        count(article.below_t2),
        ratio(article.giveaway_pct),
        _verdict(article.compliant),
    )
    batch = f" <small>batch {text(article.batch)}</small>" if article.batch else ""
    return (
        f'<tr data-article="{text(article.article)}"><th scope="row">{text(article.name)} '
        f"<small>{text(article.article)}</small>{batch}</th>"
        + "".join(f"<td>{cell}</td>" for cell in cells)
        + "</tr>"
    )


def _articles(day: LineDay) -> str:
    if not day.articles:
        return '<p class="empty">No packs weighed in this day.</p>'
    head = "".join(
        f'<th scope="col">{name}</th>'
        for name in (
            "Article", "Packs", "kg", "Qn", "Mean", "σ", "< T1", "< T2", "Giveaway", "℮ verdict",
        )
    )  # fmt: skip
    rows = "".join(_article_row(a) for a in day.articles)
    return (
        '<div class="scroll" tabindex="0" role="region" aria-label="Articles table">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _machines(day: LineDay) -> str:
    head = "".join(
        f'<th scope="col">{n}</th>'
        for n in ("Machine", "Kind", "Packs", "Good", "Run time", "OEE", "Availability")
    )
    rows = "".join(
        f'<tr><th scope="row">{text(m.machine)}</th><td>{text(m.kind)}</td>'
        f"<td>{count(m.packs_total)}</td><td>{count(m.packs_good)}</td>"
        f"<td>{hours(m.run_seconds)}</td><td>{ratio(m.oee)}</td>"
        f"<td>{ratio(m.availability)}</td></tr>"
        for m in day.machines
    )
    return (
        '<div class="scroll" tabindex="0" role="region" aria-label="Machines table">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _hour_table(day: LineDay) -> str:
    """The hourly chart's figures as a table (what the bars show, for keyboards and screen
    readers: nothing is shown only on hover)."""
    if not day.hours:
        return ""
    rows = "".join(
        f'<tr><th scope="row">{h.hour:%H:%M}</th><td>{count(h.good_packs)}</td>'
        f"<td>{count(h.rejects)}</td><td>{kilograms(h.kg)}</td><td>{grams(h.mean_g)}</td></tr>"
        for h in day.hours
    )
    head = "".join(
        f'<th scope="col">{n}</th>' for n in ("Hour", "Good packs", "Rejects", "kg", "Mean")
    )
    return (
        "<details><summary>The hours as a table</summary>"
        '<div class="scroll" tabindex="0" role="region" aria-label="Hours table">'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></details>"
    )


def _legend(day: LineDay) -> str:
    """Each category of the timeline in words beside its colour, with its time in the day."""
    seconds: dict[str, float] = {}
    for span in day.timeline:
        seconds[span.category] = (
            seconds.get(span.category, 0.0) + (span.end - span.start).total_seconds()
        )
    items = "".join(
        f'<li><span class="swatch" style="background:{charts.colour(category)}" '
        f'aria-hidden="true"></span>{text(category.replace("_", " "))} {hours(total)}</li>'
        for category, total in sorted(seconds.items(), key=lambda kv: -kv[1])
    )
    return f'<ul class="legend" aria-label="States">{items}</ul>' if items else ""


def line_day(day: LineDay) -> str:
    """The page's main content."""
    weights = "".join(charts.weights(w) for w in day.weights) or charts.weights(_NO_WEIGHTS)
    sections = (
        _section("Packs per hour", "hourly", charts.hourly_packs(day.hours) + _hour_table(day)),
        _section("Weight distribution", "weights", weights),
        _section(
            "Machine states",
            "timeline",
            charts.timeline(day.timeline, day.start, day.end) + _legend(day),
        ),
        _section("Downtime Pareto", "pareto", charts.pareto(day.downtime)),
        _section("OEE losses", "losses", charts.waterfall(day.losses)),
        _section("Articles", "articles", _articles(day)),
        _section("Machines", "machines", _machines(day)),
    )
    window = (
        f'<p class="period">{day.start:%Y-%m-%d %H:%M} – {day.end:%Y-%m-%d %H:%M} '
        f"({text(day.timezone)})</p>"
    )
    return window + _headline(day) + "".join(sections)


_NO_WEIGHTS = WeightDistribution(
    article="", qn_g=None, t1_g=None, t2_g=None, first_bin_g=0.0, bin_g=1.0, counts=[]
)
