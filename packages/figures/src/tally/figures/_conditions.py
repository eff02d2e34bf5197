"""A machine's state timeline as pieces of one condition, and its stops (docs/FIGURES.md, "What a
machine is doing, second by second").

A piece is [start, end) in one state (with its category under the tenant's rules) or in no
data: before the first known state, and strictly between two consecutive messages further apart
than the gap threshold. Maximal runs of pieces that are not running are stops. Pure functions.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tally.figures._raw import StateRow

RUNNING = "running"
NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Piece:
    start: float
    end: float
    category: str
    state: StateRow | None


def gaps(message_times: Sequence[float], gap_seconds: float) -> list[tuple[float, float]]:
    """Intervals strictly between consecutive messages further apart than the threshold."""
    return [(a, b) for a, b in itertools.pairwise(message_times) if b - a > gap_seconds]


def pieces(
    states: Sequence[StateRow],
    found_gaps: Sequence[tuple[float, float]],
    start: float,
    end: float,
    category: Callable[[StateRow], str],
) -> list[Piece]:
    """The conditions of [start, end), cut at every state change and gap bound."""
    times = [s.t for s in states]
    gap_starts = [a for a, _ in found_gaps]
    bounds = {start, end, *times, *gap_starts, *(b for _, b in found_gaps)}
    cuts = sorted(t for t in bounds if start <= t <= end)
    found: list[Piece] = []
    for a, b in itertools.pairwise(cuts):
        gap = bisect_right(gap_starts, a) - 1
        if gap >= 0 and found_gaps[gap][1] >= b:
            found.append(Piece(a, b, NO_DATA, None))
            continue
        index = bisect_right(times, a) - 1
        if index < 0:
            found.append(Piece(a, b, NO_DATA, None))
            continue
        state = states[index]
        found.append(Piece(a, b, category(state), state))
    return found


def stretches(found: Sequence[Piece]) -> Iterator[list[Piece]]:
    """Maximal runs of running pieces and of not-running pieces (the stops), in order."""
    run: list[Piece] = []
    for piece in found:
        if run and (run[-1].category == RUNNING) != (piece.category == RUNNING):
            yield run
            run = []
        run.append(piece)
    if run:
        yield run
