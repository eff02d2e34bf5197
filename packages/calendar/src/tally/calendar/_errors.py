"""The calendar's errors. `CalendarError` is the root of a shallow tree:

- `PlanError` (also a `ValueError`): a shift plan is invalid. The message names the field, the
  value and what to do; msgspec turns it into a `ValidationError` with the path (`$.shifts[1]`)
  when a plan is decoded from JSON, which an HTTP API answers with a 422.
"""

from __future__ import annotations


class CalendarError(Exception):
    """Root of the calendar's errors."""


class PlanError(CalendarError, ValueError):
    """A shift plan is invalid (names the field, the value and what to do)."""
