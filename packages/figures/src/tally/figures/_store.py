"""Replacing a machine's buckets, and deriving its periods and its lines' from them.

Every write is a whole bucket: delete the rows, insert them again, in the caller's transaction
(a range's minutes, stops and suspects; then its days' hours, shifts and days as one GROUP BY
of their minutes). Rows go in as arrays through one `unnest` per table: COPY is refused under
row-level security, and a row per statement would cost a round trip per minute.
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
    INSERT INTO rollup_machine_minutes (tenant, machine, minute, line, site, production_day,
        hour_start, hour_end, hour_label, shift_name, shift_start, shift_end, packs_total,
        packs_good, packs_in_ppt, good_in_ppt, suspect_packs, ideal_seconds, planned_seconds,
        excluded_seconds, running_seconds, micro_seconds, micro_stops, no_data_seconds,
        no_data_planned_seconds, state, category, state_seconds, mode_seconds, category_seconds,
        losses)
    SELECT $1, $2, m, l, $3, d, hs, he, hl, sn, ss, se, pt, pg, pp, gp, sp, i, p, x, r, mi, ms,
        n, np, st, c, sts::jsonb, mds::jsonb, cs::jsonb, lo::jsonb
    FROM unnest($4::timestamptz[], $5::text[], $6::date[], $7::timestamptz[],
                $8::timestamptz[], $9::text[], $10::text[], $11::timestamptz[],
                $12::timestamptz[], $13::float8[], $14::float8[], $15::float8[], $16::float8[],
                $17::float8[], $18::float8[], $19::float8[], $20::float8[], $21::float8[],
                $22::float8[], $23::int[], $24::float8[], $25::float8[], $26::text[],
                $27::text[], $28::text[], $29::text[], $30::text[], $31::text[])
        AS u(m, l, d, hs, he, hl, sn, ss, se, pt, pg, pp, gp, sp, i, p, x, r, mi, ms, n, np, st,
             c, sts, mds, cs, lo)
    """
)
def insert_minutes(
    tenant: str,
    machine: str,
    site: str | None,
    minutes: list[datetime],
    lines: list[str | None],
    production_days: list[date],
    hour_starts: list[datetime],
    hour_ends: list[datetime],
    hour_labels: list[str],
    shift_names: list[str | None],
    shift_starts: list[datetime | None],
    shift_ends: list[datetime | None],
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
    states: list[str | None],
    categories: list[str],
    state_seconds: list[str],
    mode_seconds: list[str],
    category_seconds: list[str],
    losses: list[str],
) -> None: ...


# --- machine periods ------------------------------------------------------------------------


@command(
    "DELETE FROM rollup_machine_periods WHERE tenant = $1 AND machine = $2 "
    "AND production_day = $3 AND period_start >= $4 AND period_start < $5"
)
def delete_periods(
    tenant: str, machine: str, production_day: date, start: datetime, end: datetime
) -> None: ...


# A machine's hours, shifts and day of one production day ($4, $5: the day's bounds), in one
# statement from the day's minutes: each minute is counted once per grain (its local hour, its
# shift when it has one, the day), the plain columns summed per period, and the seconds by
# state, mode, category and loss summed key by key set-based (every minute's JSON objects
# unnested into key/value rows, grouped per period and key). A per-row aggregate over the JSON
# objects (tally_jsonb_sum) cost more than all the rest of a recomputation together.
@command(
    """
    WITH per_period AS (
        SELECT m.*, p.grain, p.period_start, p.period_end, p.label
        FROM rollup_machine_minutes m,
        LATERAL (VALUES ('hour', m.hour_start, m.hour_end, m.hour_label),
                        ('shift', m.shift_start, m.shift_end, m.shift_name),
                        ('day', $4::timestamptz, $5::timestamptz, $3::date::text))
            AS p (grain, period_start, period_end, label)
        WHERE m.tenant = $1 AND m.machine = $2 AND m.production_day = $3
          AND m.minute >= $4 AND m.minute < $5 AND p.label IS NOT NULL
    ),
    sums AS (
        SELECT grain, period_start, period_end, label,
            (array_agg(line ORDER BY minute DESC))[1] AS line,
            (array_agg(site ORDER BY minute DESC))[1] AS site,
            sum(packs_total) AS packs_total, sum(packs_good) AS packs_good,
            sum(packs_in_ppt) AS packs_in_ppt, sum(good_in_ppt) AS good_in_ppt,
            sum(suspect_packs) AS suspect_packs, sum(ideal_seconds) AS ideal_seconds,
            sum(planned_seconds) AS planned_seconds, sum(excluded_seconds) AS excluded_seconds,
            sum(running_seconds) AS running_seconds, sum(micro_seconds) AS micro_seconds,
            sum(micro_stops)::int AS micro_stops, sum(no_data_seconds) AS no_data_seconds,
            sum(no_data_planned_seconds) AS no_data_planned_seconds
        FROM per_period
        GROUP BY grain, period_start, period_end, label
    ),
    seconds AS (
        SELECT grain, period_start, kind, jsonb_object_agg(key, total) AS summed
        FROM (
            SELECT grain, period_start, kind, e.key, sum(e.value::float8) AS total
            FROM per_period,
            LATERAL (VALUES ('state', state_seconds), ('mode', mode_seconds),
                            ('category', category_seconds), ('loss', losses)) AS c (kind, doc),
            LATERAL jsonb_each_text(c.doc) AS e
            GROUP BY grain, period_start, kind, e.key
        ) AS by_key
        GROUP BY grain, period_start, kind
    )
    INSERT INTO rollup_machine_periods (tenant, machine, grain, period_start, period_end,
        production_day, label, line, site, packs_total, packs_good, packs_in_ppt, good_in_ppt,
        suspect_packs, ideal_seconds, planned_seconds, excluded_seconds, running_seconds,
        micro_seconds, micro_stops, no_data_seconds, no_data_planned_seconds, state_seconds,
        mode_seconds, category_seconds, losses)
    SELECT $1, $2, s.grain, s.period_start, s.period_end, $3, s.label, s.line, s.site,
        s.packs_total, s.packs_good, s.packs_in_ppt, s.good_in_ppt, s.suspect_packs,
        s.ideal_seconds, s.planned_seconds, s.excluded_seconds, s.running_seconds,
        s.micro_seconds, s.micro_stops, s.no_data_seconds, s.no_data_planned_seconds,
        coalesce(state.summed, '{}'), coalesce(mode.summed, '{}'),
        coalesce(category.summed, '{}'), coalesce(loss.summed, '{}')
    FROM sums s
    LEFT JOIN seconds state ON (state.grain, state.period_start, state.kind)
        = (s.grain, s.period_start, 'state')
    LEFT JOIN seconds mode ON (mode.grain, mode.period_start, mode.kind)
        = (s.grain, s.period_start, 'mode')
    LEFT JOIN seconds category ON (category.grain, category.period_start, category.kind)
        = (s.grain, s.period_start, 'category')
    LEFT JOIN seconds loss ON (loss.grain, loss.period_start, loss.kind)
        = (s.grain, s.period_start, 'loss')
    """
)
def insert_periods(
    tenant: str, machine: str, production_day: date, start: datetime, end: datetime
) -> None: ...


# --- stops and suspects ---------------------------------------------------------------------


@command(
    "DELETE FROM rollup_stops WHERE tenant = $1 AND machine = $2 AND start >= $3 AND start < $4"
)
def delete_stops(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


@command(
    """
    INSERT INTO rollup_stops (tenant, machine, start, "end", production_day, line, seconds,
        planned_seconds, category, reason_code, reason_text)
    SELECT $1, $2, s, e, d, $3, extract(epoch FROM e - s), p, c, rc, rt
    FROM unnest($4::timestamptz[], $5::timestamptz[], $6::float8[], $7::text[], $8::text[],
                $9::text[], $10::date[]) AS u(s, e, p, c, rc, rt, d)
    """
)
def insert_stops(
    tenant: str,
    machine: str,
    line: str | None,
    starts: list[datetime],
    ends: list[datetime],
    planned_seconds: list[float],
    categories: list[str],
    reason_codes: list[str | None],
    reason_texts: list[str | None],
    production_days: list[date],
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
