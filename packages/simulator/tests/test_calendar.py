"""Production days and planned windows follow local time, daylight saving included."""

from __future__ import annotations

import itertools
from datetime import date, time

from tally.simulator import ShiftModel, SiteSpec
from tally.simulator._calendar import ProductionDays, WindowKind, day_windows
from tally.simulator._shifts import THREE_SHIFTS, TWO_SHIFTS_AND_CLEANING


def site(model: ShiftModel = TWO_SHIFTS_AND_CLEANING, zone: str = "Europe/Berlin") -> SiteSpec:
    return SiteSpec("kempten", "Kempten", zone, time(6), model, ())


def test_production_days_last_23_or_25_hours_across_dst() -> None:
    days = ProductionDays(site())
    assert days.span(date(2025, 3, 29)).end - days.span(date(2025, 3, 29)).start == 23 * 3600
    assert days.span(date(2025, 10, 25)).end - days.span(date(2025, 10, 25)).start == 25 * 3600
    assert days.span(date(2025, 6, 1)).end - days.span(date(2025, 6, 1)).start == 24 * 3600


def test_an_instant_before_six_belongs_to_the_previous_day() -> None:
    days = ProductionDays(site())
    span = days.span(date(2025, 6, 2))
    assert days.of(span.start).day == date(2025, 6, 2)
    assert days.of(span.start - 1).day == date(2025, 6, 1)


def test_windows_cover_the_day_exactly() -> None:
    for model in (THREE_SHIFTS, TWO_SHIFTS_AND_CLEANING):
        spec = site(model)
        days = ProductionDays(spec)
        for day in (date(2025, 3, 29), date(2025, 6, 1)):
            windows = day_windows(spec, days, day)
            span = days.span(day)
            assert windows[0].start == span.start
            assert windows[-1].end == span.end
            assert all(a.end == b.start for a, b in itertools.pairwise(windows))


def test_two_shifts_then_cleaning_then_nothing() -> None:
    spec = site(TWO_SHIFTS_AND_CLEANING)
    days = ProductionDays(spec)
    windows = day_windows(spec, days, date(2025, 6, 1))
    kinds = [(w.kind, w.shift, w.opens_shift) for w in windows]
    assert kinds == [
        (WindowKind.SHIFT, "early", True),
        (WindowKind.BREAK, "early", False),
        (WindowKind.SHIFT, "early", False),
        (WindowKind.SHIFT, "late", True),
        (WindowKind.BREAK, "late", False),
        (WindowKind.SHIFT, "late", False),
        (WindowKind.CLEANING, None, False),
        (WindowKind.OFF, None, False),
    ]
    cleaning = windows[6]
    assert cleaning.start == days.at(date(2025, 6, 1), time(22))
    assert cleaning.end - cleaning.start == 3 * 3600


def test_three_shifts_clean_inside_the_night_shift() -> None:
    spec = site(THREE_SHIFTS, "America/Chicago")
    days = ProductionDays(spec)
    windows = day_windows(spec, days, date(2025, 6, 1))
    assert [w.kind for w in windows].count(WindowKind.OFF) == 0
    night = [w for w in windows if w.shift == "night"]
    assert night[0].opens_shift
    assert any(w.kind is WindowKind.CLEANING for w in windows)
