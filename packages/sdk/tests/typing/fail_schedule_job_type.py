"""A job written for other slots than its schedule yields is a type error."""

from __future__ import annotations

from datetime import timedelta

from tally.sdk import Schedule, ScheduledRun, every


async def report(deps: object, run: ScheduledRun[str]) -> None:
    return None


Schedule("report", report, every(timedelta(hours=1)))  # E: misc Cannot infer
