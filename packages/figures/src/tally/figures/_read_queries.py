"""The SQL of the figures' reads: rollup tables only, never raw rows. Each reads one index
range: (tenant, machine|line, grain, period_start) or (tenant, site, grain, period_start)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from tally.sdk import query


class MachinePeriodRow(msgspec.Struct, frozen=True):
    machine: str
    grain: str
    period_start: datetime
    period_end: datetime
    production_day: date
    label: str
    line: str | None
    packs_total: float
    packs_good: float
    packs_in_ppt: float
    good_in_ppt: float
    suspect_packs: float
    ideal_seconds: float
    planned_seconds: float
    excluded_seconds: float
    running_seconds: float
    micro_seconds: float
    micro_stops: int
    no_data_seconds: float
    no_data_planned_seconds: float
    state_seconds: str
    mode_seconds: str
    category_seconds: str
    losses: str


_MACHINE_COLUMNS = """
    machine, grain, period_start, period_end, production_day, label, line, packs_total,
    packs_good, packs_in_ppt, good_in_ppt, suspect_packs, ideal_seconds, planned_seconds,
    excluded_seconds, running_seconds, micro_seconds, micro_stops, no_data_seconds,
    no_data_planned_seconds, state_seconds::text AS state_seconds,
    mode_seconds::text AS mode_seconds, category_seconds::text AS category_seconds,
    losses::text AS losses
"""


@query(
    MachinePeriodRow,
    f"""
    SELECT {_MACHINE_COLUMNS} FROM rollup_machine_periods
    WHERE tenant = $1 AND machine = $2 AND grain = $3 AND period_start >= $4 AND period_start < $5
    ORDER BY period_start
    """,
)
def machine_periods(
    tenant: str, machine: str, grain: str, start: datetime, end: datetime
) -> None: ...


@query(
    MachinePeriodRow,
    f"""
    SELECT {_MACHINE_COLUMNS} FROM rollup_machine_periods
    WHERE tenant = $1 AND line = $2 AND grain = 'day' AND production_day = $3
    ORDER BY machine
    """,
)
def machine_days_of_line(tenant: str, line: str, production_day: date) -> None: ...


class LinePeriodRow(msgspec.Struct, frozen=True):
    line: str
    site: str
    grain: str
    period_start: datetime
    period_end: datetime
    production_day: date
    label: str
    constraint_machine: str | None
    end_of_line_machine: str | None
    packs_total: float
    packs_good: float
    ppt_seconds: float
    run_seconds: float
    micro_seconds: float
    ideal_seconds: float
    planned_seconds: float
    no_data_planned_seconds: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    losses: str


_LINE_COLUMNS = """
    line, site, grain, period_start, period_end, production_day, label, constraint_machine,
    end_of_line_machine, packs_total, packs_good, ppt_seconds, run_seconds, micro_seconds,
    ideal_seconds, planned_seconds, no_data_planned_seconds, availability, performance,
    quality, oee, losses::text AS losses
"""


@query(
    LinePeriodRow,
    f"""
    SELECT {_LINE_COLUMNS} FROM rollup_line_periods
    WHERE tenant = $1 AND line = $2 AND grain = $3 AND period_start >= $4 AND period_start < $5
    ORDER BY period_start
    """,
)
def line_periods(tenant: str, line: str, grain: str, start: datetime, end: datetime) -> None: ...


@query(
    LinePeriodRow,
    f"""
    SELECT {_LINE_COLUMNS} FROM rollup_line_periods
    WHERE tenant = $1 AND line = $2 AND production_day = $3
    ORDER BY grain, period_start
    """,
)
def line_day_periods(tenant: str, line: str, production_day: date) -> None: ...


@query(
    LinePeriodRow,
    f"""
    SELECT {_LINE_COLUMNS} FROM rollup_line_periods
    WHERE tenant = $1 AND site = $2 AND grain = $3 AND period_start >= $4 AND period_start < $5
    ORDER BY period_start, line
    """,
)
def site_line_periods(
    tenant: str, site: str, grain: str, start: datetime, end: datetime
) -> None: ...


# Every line's latest production day with figures: "today so far" of the live view.
@query(
    LinePeriodRow,
    f"""
    SELECT DISTINCT ON (line) {_LINE_COLUMNS} FROM rollup_line_periods
    WHERE tenant = $1 AND grain = 'day' AND period_start >= $2
    ORDER BY line, period_start DESC
    """,
)
def latest_line_days(tenant: str, since: datetime) -> None: ...


class MinuteRow(msgspec.Struct, frozen=True):
    machine: str
    minute: datetime
    packs_total: float
    packs_good: float
    planned_seconds: float
    running_seconds: float
    no_data_seconds: float
    state: str | None
    category: str
    state_seconds: str


_MINUTE_COLUMNS = """
    machine, minute, packs_total, packs_good, planned_seconds, running_seconds,
    no_data_seconds, state, category, state_seconds::text AS state_seconds
"""


@query(
    MinuteRow,
    f"""
    SELECT {_MINUTE_COLUMNS} FROM rollup_machine_minutes
    WHERE tenant = $1 AND machine = $2 AND minute >= $3 AND minute < $4
    ORDER BY minute
    """,
)
def machine_minutes(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


# The latest minute of each machine with data since `since`: what each machine is doing now.
@query(
    MinuteRow,
    f"""
    SELECT DISTINCT ON (machine) {_MINUTE_COLUMNS} FROM rollup_machine_minutes
    WHERE tenant = $1 AND minute >= $2 AND category <> 'no_data'
    ORDER BY machine, minute DESC
    """,
)
def latest_minutes(tenant: str, since: datetime) -> None: ...


class StopRow(msgspec.Struct, frozen=True):
    machine: str
    start: datetime
    end: datetime
    seconds: float
    planned_seconds: float
    category: str
    reason_code: str | None
    reason_text: str | None


@query(
    StopRow,
    """
    SELECT machine, start, "end", seconds, planned_seconds, category, reason_code, reason_text
    FROM rollup_stops WHERE tenant = $1 AND line = $2 AND production_day = $3
    ORDER BY machine, start
    """,
)
def stops_of_line_day(tenant: str, line: str, production_day: date) -> None: ...
