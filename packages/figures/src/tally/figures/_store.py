"""Replacing a machine's buckets of one production day, and deriving its lines' from them.

Every write is a whole bucket: delete the day's rows, insert them again, in the caller's
transaction. Rows go in as arrays through one `unnest` per table (COPY is refused under
row-level security, and a row per statement would cost a round trip per minute).
"""

from __future__ import annotations

from datetime import date, datetime

from tally.sdk import command

# --- machine minutes ------------------------------------------------------------------------


@command(
    "DELETE FROM rollup_machine_minutes WHERE tenant = $1 AND machine = $2 "
    "AND minute >= $3 AND minute < $4"
)
def delete_minutes(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


@command(
    """
    INSERT INTO rollup_machine_minutes (tenant, machine, minute, line, production_day,
        packs_total, packs_good, ideal_seconds, planned_seconds, running_seconds,
        no_data_seconds, state, category, state_seconds)
    SELECT $1, $2, m, $3, $4, pt, pg, i, p, r, n, s, c, ss::jsonb
    FROM unnest($5::timestamptz[], $6::float8[], $7::float8[], $8::float8[], $9::float8[],
                $10::float8[], $11::float8[], $12::text[], $13::text[], $14::text[])
        AS u(m, pt, pg, i, p, r, n, s, c, ss)
    """
)
def insert_minutes(
    tenant: str,
    machine: str,
    line: str | None,
    production_day: date,
    minutes: list[datetime],
    packs_total: list[float],
    packs_good: list[float],
    ideal_seconds: list[float],
    planned_seconds: list[float],
    running_seconds: list[float],
    no_data_seconds: list[float],
    states: list[str | None],
    categories: list[str],
    state_seconds: list[str],
) -> None: ...


# --- machine periods ------------------------------------------------------------------------


@command(
    "DELETE FROM rollup_machine_periods WHERE tenant = $1 AND machine = $2 "
    "AND production_day = $3 AND period_start >= $4 AND period_start < $5"
)
def delete_periods(
    tenant: str, machine: str, production_day: date, start: datetime, end: datetime
) -> None: ...


@command(
    """
    INSERT INTO rollup_machine_periods (tenant, machine, grain, period_start, period_end,
        production_day, label, line, site, packs_total, packs_good, packs_in_ppt, good_in_ppt,
        suspect_packs, ideal_seconds, planned_seconds, excluded_seconds, running_seconds,
        micro_seconds, micro_stops, no_data_seconds, no_data_planned_seconds, state_seconds,
        mode_seconds, category_seconds, losses)
    SELECT $1, $2, g, ps, pe, $3, l, $4, $5, pt, pg, pp, gp, sp, i, p, x, r, mi, ms, n, np,
        ss::jsonb, md::jsonb, cs::jsonb, lo::jsonb
    FROM unnest($6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::float8[],
                $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[],
                $16::float8[], $17::float8[], $18::float8[], $19::float8[], $20::int[],
                $21::float8[], $22::float8[], $23::text[], $24::text[], $25::text[], $26::text[])
        AS u(g, ps, pe, l, pt, pg, pp, gp, sp, i, p, x, r, mi, ms, n, np, ss, md, cs, lo)
    """
)
def insert_periods(
    tenant: str,
    machine: str,
    production_day: date,
    line: str | None,
    site: str | None,
    grains: list[str],
    starts: list[datetime],
    ends: list[datetime],
    labels: list[str],
    packs_total: list[float],
    packs_good: list[float],
    packs_in_ppt: list[float],
    good_in_ppt: list[float],
    suspect_packs: list[float],
    ideal_seconds: list[float],
    planned_seconds: list[float],
    excluded_seconds: list[float],
    running_seconds: list[float],
    micro_seconds: list[float],
    micro_stops: list[int],
    no_data_seconds: list[float],
    no_data_planned_seconds: list[float],
    state_seconds: list[str],
    mode_seconds: list[str],
    category_seconds: list[str],
    losses: list[str],
) -> None: ...


# --- stops and suspects ---------------------------------------------------------------------


@command(
    "DELETE FROM rollup_stops WHERE tenant = $1 AND machine = $2 AND production_day = $3 "
    "AND start >= $4 AND start < $5"
)
def delete_stops(
    tenant: str, machine: str, production_day: date, start: datetime, end: datetime
) -> None: ...


@command(
    """
    INSERT INTO rollup_stops (tenant, machine, start, "end", production_day, line, seconds,
        planned_seconds, category, reason_code, reason_text)
    SELECT $1, $2, s, e, $3, $4, extract(epoch FROM e - s), p, c, rc, rt
    FROM unnest($5::timestamptz[], $6::timestamptz[], $7::float8[], $8::text[], $9::text[],
                $10::text[]) AS u(s, e, p, c, rc, rt)
    """
)
def insert_stops(
    tenant: str,
    machine: str,
    production_day: date,
    line: str | None,
    starts: list[datetime],
    ends: list[datetime],
    planned_seconds: list[float],
    categories: list[str],
    reason_codes: list[str | None],
    reason_texts: list[str | None],
) -> None: ...


@command("DELETE FROM rollup_suspects WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts < $4")
def delete_suspects(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


@command(
    """
    INSERT INTO rollup_suspects (tenant, machine, counter, ts, previous_ts, amount)
    SELECT $1, $2, c, t, p, a
    FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[]) AS u(c, t, p, a)
    ON CONFLICT DO NOTHING
    """
)
def insert_suspects(
    tenant: str,
    machine: str,
    counters: list[str],
    times: list[datetime],
    previous: list[datetime],
    amounts: list[int],
) -> None: ...


# --- lines ----------------------------------------------------------------------------------


@command("DELETE FROM rollup_line_periods WHERE tenant = $1 AND line = $2 AND production_day = $3")
def delete_line_day(tenant: str, line: str, production_day: date) -> None: ...


# A line's periods from its machines' periods of the same day, set-based: availability and
# performance at the constraint machine, good packs and quality at the end-of-line machine
# (docs/FIGURES.md, "OEE"). A period either machine has no row for has no line row.
@command(
    """
    INSERT INTO rollup_line_periods (tenant, line, grain, period_start, period_end,
        production_day, label, site, constraint_machine, end_of_line_machine, packs_total,
        packs_good, ppt_seconds, run_seconds, micro_seconds, ideal_seconds, planned_seconds,
        no_data_planned_seconds, availability, performance, quality, oee, losses)
    SELECT $1, $2, c.grain, c.period_start, c.period_end, c.production_day, c.label, $5,
        c.machine, e.machine, e.packs_total, e.packs_good, f.ppt, f.run, c.micro_seconds,
        c.ideal_seconds, c.planned_seconds, c.no_data_planned_seconds,
        CASE WHEN f.ppt > 0 THEN f.run / f.ppt END,
        CASE WHEN f.run > 0 THEN c.ideal_seconds / f.run END,
        f.quality,
        CASE WHEN f.ppt = 0 THEN NULL
             WHEN c.ideal_seconds = 0 THEN 0
             ELSE c.ideal_seconds * f.quality / f.ppt END,
        c.losses
    FROM rollup_machine_periods c
    JOIN rollup_machine_periods e
      ON e.tenant = c.tenant AND e.machine = $4 AND e.grain = c.grain
     AND e.period_start = c.period_start AND e.production_day = c.production_day
    CROSS JOIN LATERAL (SELECT
        c.planned_seconds - c.excluded_seconds AS ppt,
        c.running_seconds + c.micro_seconds AS run,
        CASE WHEN e.packs_in_ppt > 0 THEN e.good_in_ppt / e.packs_in_ppt END AS quality) f
    WHERE c.tenant = $1 AND c.machine = $3 AND c.production_day = $6
    """
)
def insert_line_day(
    tenant: str,
    line: str,
    constraint_machine: str,
    end_of_line_machine: str,
    site: str,
    production_day: date,
) -> None: ...
