"""Counter samples into increases (docs/FIGURES.md, "Counters into quantities").

Each increase belongs to the interval [previous sample, sample]; the caller spreads it over
that interval in proportion to time. Pure functions: tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from tally.figures._raw import CounterRow


@dataclass(frozen=True, slots=True)
class Increase:
    """`amount` counted over [start, end]; `suspect` when faster than the machine can run."""

    start: float
    end: float
    amount: int
    suspect: bool


def increases(
    samples: Sequence[CounterRow], rollover: int, max_rate_ppm: float | None
) -> Iterator[Increase]:
    """Consecutive samples as increases: a drop in the same boot is a rollover when the wrap
    is plausible (not faster than the maximum rate over the elapsed time, plus one), else a
    reset; after a new boot a drop is a reset, never a rollover."""
    for prev, cur in _pairs(samples):
        elapsed = max(cur.t - prev.t, 0.0)
        limit = None if max_rate_ppm is None else max_rate_ppm / 60.0 * elapsed + 1
        if cur.value >= prev.value:
            amount = cur.value - prev.value
        elif cur.boot_id != prev.boot_id:
            amount = cur.value
        else:
            wrap = rollover + 1 - prev.value + cur.value
            amount = wrap if limit is None or wrap <= limit else cur.value
        if amount:
            yield Increase(prev.t, cur.t, amount, limit is not None and amount > limit)


def _pairs(samples: Iterable[CounterRow]) -> Iterator[tuple[CounterRow, CounterRow]]:
    previous: CounterRow | None = None
    for sample in samples:
        if previous is not None:
            yield previous, sample
        previous = sample


def spread(start: float, end: float, amount: float, lo: float, hi: float) -> float:
    """The part of `amount`, spread evenly over [start, end], that falls in [lo, hi); an
    increase at one instant falls where that instant does."""
    if end <= start:
        return amount if lo <= end < hi else 0.0
    overlap = min(end, hi) - max(start, lo)
    return amount * overlap / (end - start) if overlap > 0 else 0.0
