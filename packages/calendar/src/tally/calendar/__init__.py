"""tally.calendar: production days, local hours and shift plans of a site.

    ShiftPlan       shifts (with breaks), cleaning windows, days off: a Struct stored as JSON
    SiteCalendar    a site's zone + day start + plan(s): days, planned windows, planned seconds,
                    shifts, local hours (the ℮ lot), all DST aware, cached per production day
    ProductionDay   one day [start, end) in epoch seconds, named by the local date it starts on
    Window          a planned stretch (shift, break, cleaning, off) of a day
    LocalHour       a local clock hour, told apart by its UTC offset

Errors: CalendarError is the root; PlanError (also a ValueError) names the field of an invalid
plan, and becomes msgspec's ValidationError (with the path) when a plan is decoded.

Two shifts and a cleaning window in Kempten, on the night the clocks go back::

    half_time = (Break(after_minutes=240, minutes=30),)
    plan = ShiftPlan(
        shifts=(
            Shift(name="early", start="06:00", hours=8, breaks=half_time),
            Shift(name="late", start="14:00", hours=8),
        ),
        cleaning=(Cleaning(start="22:00", minutes=180),),
        days_off=(Weekday.SUNDAY,),
    )
    calendar = SiteCalendar("Europe/Berlin", time(6), plan)
    day = calendar.day(date(2025, 10, 25))  # 25 hours long
    calendar.planned_seconds(day.start, day.end)  # 15.5 h of planned time, in seconds
    calendar.local_hour(t).label  # "2025-10-26T02:00+01:00" for the second 02:00 hour
"""

from tally.calendar._days import ProductionDay
from tally.calendar._errors import CalendarError, PlanError
from tally.calendar._local_clock import LocalHour
from tally.calendar._plan import Break, Cleaning, Shift, ShiftPlan, Weekday
from tally.calendar._site_calendar import SiteCalendar
from tally.calendar._windows import DayPlan, ShiftSpan, Window, WindowKind

__all__ = [
    "Break",
    "CalendarError",
    "Cleaning",
    "DayPlan",
    "LocalHour",
    "PlanError",
    "ProductionDay",
    "Shift",
    "ShiftPlan",
    "ShiftSpan",
    "SiteCalendar",
    "Weekday",
    "Window",
    "WindowKind",
]
