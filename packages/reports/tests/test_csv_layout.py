"""The CSV parsed back equals the figures it was written from, to the last digit."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from tally.contracts.figures import LineDay, SiteDay
from tally.reports import line_csv, site_csv
from tally.reports.testing import PRODUCED, busy_line_day, empty_line_day, site_day_of

Section = list[dict[str, str]]


def sections(text: str) -> dict[str, Section]:
    """Reads the layout of `_csv_layout`'s docstring: name row, header row, rows, empty row."""
    found: dict[str, Section] = {}
    rows = list(csv.reader(io.StringIO(text, newline="")))
    n = 0
    while n < len(rows):
        name, header = rows[n][0], rows[n + 1]
        n += 2
        found[name] = []
        while rows[n]:
            found[name].append(dict(zip(header, rows[n], strict=True)))
            n += 1
        n += 1
    return found


def _values(row: dict[str, str]) -> dict[str, Any]:
    return {k: None if v == "" else v for k, v in row.items() if k != "line"}


def line_day_from(found: dict[str, Section], line: str) -> LineDay:
    """The LineDay the CSV's sections describe for `line` (rebuilt only from the CSV)."""

    def of(name: str) -> Section:
        return [row for row in found[name] if row["line"] == line]

    report = [r for r in found.get("report", []) if r["line"] == line]
    head = {**_values(report[0]), "line": line}
    completeness = _values(of("completeness")[0])
    completeness["silent_machines"] = [r["machine"] for r in of("silent_machines")]
    articles = []
    for row in of("articles"):
        article = _values(row)
        article["rejects"] = {
            r["reason"]: r["packs"]
            for r in of("article_rejects")
            if r["article"] == row["article"] and r["batch"] == row["batch"]
        }
        articles.append(article)
    machines = []
    for row in of("machines"):
        machine = _values(row)
        states = of("machine_states")
        machine["state_seconds"] = {
            r["state"]: r["seconds"] for r in states if r["machine"] == row["machine"]
        }
        machines.append(machine)
    losses = _values(of("losses")[0])
    losses["stop_seconds"] = {r["category"]: r["seconds"] for r in of("loss_stops")}
    weights = []
    for row in of("weights"):
        weight = _values(row)
        bins = [r for r in of("weight_bins") if r["article"] == row["article"]]
        weight["counts"] = [r["packs"] for r in sorted(bins, key=lambda r: int(r["bin"]))]
        weights.append(weight)
    day = {
        **{k: head[k] for k in ("site", "line", "name", "day", "timezone", "start", "end")},
        **_values(of("headline")[0]),
        "rejects": {r["reason"]: r["packs"] for r in of("rejects")},
        "completeness": completeness,
        "machines": machines,
        "articles": articles,
        "shifts": [_values(r) for r in of("shifts")],
        "hours": [_values(r) for r in of("hours")],
        "downtime": [_values(r) for r in of("downtime")],
        "timeline": [_values(r) for r in of("timeline")],
        "losses": losses,
        "weights": weights,
    }
    # strict=False reads numbers, booleans and ISO dates from their text.
    return msgspec.convert(day, LineDay, strict=False)


def test_a_line_csv_reads_back_as_the_same_line_day() -> None:
    for day in (busy_line_day(), empty_line_day()):
        text = line_csv(day, tenant="alpenwerk", produced_at=PRODUCED, version=2)
        found = sections(text)
        assert line_day_from(found, day.line) == day
        assert found["report"][0]["tenant"] == "alpenwerk"
        assert found["report"][0]["version"] == "2"
        assert found["report"][0]["produced_at"] == "2026-03-03T07:15:00+00:00"


def test_nulls_are_empty_cells_and_booleans_words() -> None:
    found = sections(line_csv(busy_line_day(), tenant="t", produced_at=PRODUCED))
    ham = next(r for r in found["articles"] if r["article"] == "ham-var")
    assert (ham["qn_g"], ham["giveaway_pct"], ham["compliant"]) == ("", "", "")
    assert ham["catch_weight"] == "true"
    assert found["headline"][0]["giveaway_pct"] == "0.0131"


def test_a_site_csv_holds_the_site_its_lines_and_each_line_day() -> None:
    lines = [busy_line_day(), empty_line_day()]
    site = site_day_of(lines)
    found = sections(site_csv(site, lines, tenant="alpenwerk", produced_at=PRODUCED))
    assert found["site"][0]["site"] == "plant-1"
    summaries = msgspec.convert(
        {"lines": [_values(r) | {"line": r["line"]} for r in found["lines"]]}
        | {k: found["site"][0][k] for k in ("site", "name", "day", "timezone", "start", "end")},
        SiteDay,
        strict=False,
    )
    assert summaries == site
    for day in lines:
        found["report"] = [
            {"line": day.line, "site": day.site, "name": day.name, "day": day.day.isoformat(),
             "timezone": day.timezone, "start": day.start.isoformat(), "end": day.end.isoformat()}
        ]  # fmt: skip
        assert line_day_from(found, day.line) == day


def test_the_csv_is_text_with_crlf_rows_and_a_layout_that_does_not_move() -> None:
    text = line_csv(empty_line_day(), tenant="t", produced_at=PRODUCED)
    assert text.startswith("report\r\ntenant,site,line,name,day,timezone,start,end,version,")
    names = [block.split("\r\n", 1)[0] for block in text.split("\r\n\r\n") if block]
    assert names == [
        "report", "headline", "completeness", "silent_machines", "rejects", "articles",
        "article_rejects", "shifts", "hours", "machines", "machine_states", "downtime",
        "timeline", "losses", "loss_stops", "weights", "weight_bins",
    ]  # fmt: skip
