"""What a stage measures: runs, the series they form, and ratios between two series.

Every speed is reported next to a ceiling or a peer measured in the same run, with runs taken in
turns (A, B, A, B), so the machine's noise falls on both; a ratio is the median of the per-turn
ratios, with their range.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Run:
    """One timed run: how many datapoints in how long, and what the processes spent.

    `cpu_seconds` and `peak_rss_mib` are per process group ("recorder", "nats-server",
    "postgres", a peer); groups that were not measured are absent."""

    datapoints: int
    seconds: float
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.datapoints / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_us_per_datapoint(self) -> float:
        """CPU of every measured process per datapoint; NaN when nothing was measured."""
        if not self.cpu_seconds or self.datapoints <= 0:
            return math.nan
        return sum(self.cpu_seconds.values()) * 1e6 / self.datapoints


@dataclass(frozen=True)
class Spread:
    """Median and range of a few values."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan)
        return cls(float(statistics.median(finite)), min(finite), max(finite))


@dataclass
class Series:
    """The repeated runs of one thing measured (a ceiling, a peer, a tally stage)."""

    key: str
    title: str
    runs: list[Run] = field(default_factory=list)

    @property
    def per_second(self) -> Spread:
        return Spread.of([r.per_second for r in self.runs])

    @property
    def cpu_us_per_datapoint(self) -> Spread:
        return Spread.of([r.cpu_us_per_datapoint for r in self.runs])

    @property
    def peak_rss_mib(self) -> dict[str, float]:
        """Per process group, the highest RSS of any run."""
        peaks: dict[str, float] = {}
        for run in self.runs:
            for group, mib in run.peak_rss_mib.items():
                peaks[group] = max(peaks.get(group, 0.0), mib)
        return peaks


@dataclass(frozen=True)
class Ratio:
    """`measured` over `baseline`, turn by turn (the i-th run of each)."""

    measured: Series
    baseline: Series

    @property
    def throughput(self) -> Spread:
        pairs = zip(self.measured.runs, self.baseline.runs, strict=False)
        return Spread.of([_divide(a.per_second, b.per_second) for a, b in pairs])

    @property
    def cpu(self) -> Spread:
        pairs = zip(self.measured.runs, self.baseline.runs, strict=False)
        return Spread.of(
            [_divide(a.cpu_us_per_datapoint, b.cpu_us_per_datapoint) for a, b in pairs]
        )


def _divide(a: float, b: float) -> float:
    # A run shorter than the kernel's CPU accounting tick can measure no CPU at all.
    return a / b if b > 0 else math.nan


@dataclass
class StageResult:
    """What one stage found: its series, the ratios that matter, figures of its own
    (latencies, memory at start and end), and notes on how it was measured."""

    key: str
    title: str
    series: list[Series] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def find(self, key: str) -> Series:
        return next(s for s in self.series if s.key == key)
