"""A run's results as JSON (every run, every figure) and as a Markdown table."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tally.bench.measure import Ratio, Series, Spread, StageResult


@dataclass(frozen=True)
class Report:
    command: str
    machine: dict[str, object]
    servers: dict[str, object]
    setup: dict[str, object]
    stages: list[StageResult]
    load_average_at_end: list[float]
    wall_seconds: float


def _number(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _spread(spread: Spread) -> dict[str, float | None]:
    return {
        "median": _number(spread.median),
        "low": _number(spread.low),
        "high": _number(spread.high),
    }


def _series(series: Series) -> dict[str, object]:
    return {
        "key": series.key,
        "title": series.title,
        "datapoints_per_s": _spread(series.per_second),
        "cpu_us_per_datapoint": _spread(series.cpu_us_per_datapoint),
        "peak_rss_mib": series.peak_rss_mib,
        "runs": [
            {
                "datapoints": run.datapoints,
                "seconds": round(run.seconds, 4),
                "datapoints_per_s": _number(run.per_second),
                "cpu_seconds": {k: round(v, 4) for k, v in run.cpu_seconds.items()},
                "cpu_us_per_datapoint": _number(run.cpu_us_per_datapoint),
                "peak_rss_mib": run.peak_rss_mib,
            }
            for run in series.runs
        ],
    }


def _ratio(ratio: Ratio) -> dict[str, object]:
    return {
        "measured": ratio.measured.key,
        "baseline": ratio.baseline.key,
        "throughput": _spread(ratio.throughput),
        "cpu_per_datapoint": _spread(ratio.cpu),
    }


def as_json(report: Report) -> dict[str, object]:
    return {
        "command": report.command,
        "machine": {**report.machine, "load_average_at_end": report.load_average_at_end},
        "servers": report.servers,
        "setup": report.setup,
        "wall_seconds": round(report.wall_seconds, 1),
        "stages": [
            {
                "key": stage.key,
                "title": stage.title,
                "series": [_series(s) for s in stage.series],
                "ratios": [_ratio(r) for r in stage.ratios],
                "figures": stage.figures,
                "notes": stage.notes,
            }
            for stage in report.stages
        ],
    }


def _fmt(value: float, digits: int = 0) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"


def _range(spread: Spread, digits: int) -> str:
    if not math.isfinite(spread.median):
        return "–"
    return f"{_fmt(spread.median, digits)} ({_fmt(spread.low, digits)}–{_fmt(spread.high, digits)})"


def as_markdown(report: Report) -> str:
    m = report.machine
    lines = [
        f"# tally bench — {m.get('date')}",
        "",
        f"`{report.command}` — {report.wall_seconds:.0f} s",
        "",
        f"Machine: {m.get('logical_cores')} logical cores ({m.get('physical_cores')} physical), "
        f"{m.get('ram_gib')} GiB RAM, {m.get('cpu')}; load average (1, 5, 15 min) "
        f"{m.get('load_average_at_start')} at start, {report.load_average_at_end} at end; "
        f"Python {m.get('python')}.",
        "",
        f"Servers: {json.dumps(report.servers, default=str)}",
        "",
        f"Setup: {json.dumps(report.setup, default=str)}",
        "",
        "Medians over the turns, range in brackets. Ratios are taken turn by turn (A, B, A, B) "
        "between series measured in the same run.",
    ]
    for stage in report.stages:
        lines += ["", f"## {stage.title}", ""]
        if stage.series:
            lines += [
                "| measured | datapoints/s | CPU-µs/datapoint | peak RSS MiB | turns |",
                "|---|---:|---:|---|---:|",
            ]
            for s in stage.series:
                rss = ", ".join(f"{k} {v:.0f}" for k, v in s.peak_rss_mib.items()) or "–"
                lines.append(
                    f"| {s.title} | {_range(s.per_second, 0)} | "
                    f"{_range(s.cpu_us_per_datapoint, 2)} | {rss} | {len(s.runs)} |"
                )
        if stage.ratios:
            lines += [
                "",
                "| ratio | throughput | CPU per datapoint |",
                "|---|---:|---:|",
            ]
            for r in stage.ratios:
                lines.append(
                    f"| {r.measured.key} ÷ {r.baseline.key} | {_range(r.throughput, 2)} | "
                    f"{_range(r.cpu, 2)} |"
                )
        if stage.figures:
            lines += [""] + [f"- {k}: {v:,}" for k, v in stage.figures.items()]
        if stage.notes:
            lines += [""] + [f"_{note}_" for note in stage.notes]
    return "\n".join(lines) + "\n"


def write(report: Report, folder: Path, stamp: str) -> tuple[Path, Path]:
    """<folder>/<stamp>.md and .json."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, data = folder / f"{stamp}.md", folder / f"{stamp}.json"
    markdown.write_text(as_markdown(report))
    data.write_text(json.dumps(as_json(report), indent=2, default=str) + "\n")
    return markdown, data
