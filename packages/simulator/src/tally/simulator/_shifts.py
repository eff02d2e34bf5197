"""Shift models: when a site plans to produce, pause and clean, in local wall-clock time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True, slots=True)
class BreakSpec:
    """A planned break, counted from the start of its shift."""

    after_minutes: int
    minutes: int


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """One shift of a shift model; `start` is local wall-clock time."""

    name: str
    start: time
    hours: float
    breaks: tuple[BreakSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class ShiftModel:
    """The daily plan of a site: its shifts and the cleaning window, which wins over a shift
    it overlaps (cleaning is planned, production in that window is not)."""

    name: str
    shifts: tuple[ShiftSpec, ...]
    cleaning_start: time
    cleaning_minutes: int


_HALF_TIME = (BreakSpec(after_minutes=240, minutes=30),)

THREE_SHIFTS = ShiftModel(
    name="3x8",
    shifts=(
        ShiftSpec("early", time(6), 8, _HALF_TIME),
        ShiftSpec("late", time(14), 8, _HALF_TIME),
        # The night shift's break is taken by the cleaning window at 03:30.
        ShiftSpec("night", time(22), 8),
    ),
    cleaning_start=time(3, 30),
    cleaning_minutes=90,
)

TWO_SHIFTS_AND_CLEANING = ShiftModel(
    name="2x8+cleaning",
    shifts=(
        ShiftSpec("early", time(6), 8, _HALF_TIME),
        ShiftSpec("late", time(14), 8, _HALF_TIME),
    ),
    cleaning_start=time(22),
    cleaning_minutes=180,
)
