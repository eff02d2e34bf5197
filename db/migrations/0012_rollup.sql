-- The rollup: production figures (docs/FIGURES.md) kept as buckets recomputed from the raw rows.
--
-- The rollup service learns from the recorder's STORED topic which machine and time range a
-- commit touched, and recomputes every bucket that range can change (the minutes it reaches,
-- widened to whole stops and to the neighbouring samples and messages, and the periods of
-- their days): it deletes the buckets and inserts them again from the raw rows, in one
-- transaction. A bucket is
-- therefore a function of the raw rows alone: duplicates, redeliveries and any order of arrival
-- give the same rows, and `tally rollup rebuild` gives them again.
--
-- The base is machine × UTC minute (hours, shifts and production days of every zone are exact
-- unions of minutes), recomputed for the touched minutes only; machine × hour / shift /
-- production day are GROUP BYs of the touched days' minutes, and
-- line × period are taken from their machines' periods (A and P at the constraint machine, Q
-- and good packs at the end-of-line machine). A site's figures are a few lines' rows, summed
-- when read. Every table is partitioned by UTC day on its bucket's start through
-- tally_declare_partitioned, so it gets partitions, row-level security on each, and expiry with
-- the raw data; and each has one btree led by (tenant, machine|line, start): a line's month is
-- ~30 day rows, a site's today a few line rows, never raw rows.

CREATE TABLE rollup_machine_minutes (
    tenant                  text NOT NULL,
    machine                 text NOT NULL,
    minute                  timestamptz NOT NULL,
    line                    text,
    site                    text,
    production_day          date NOT NULL,
    -- The periods the minute belongs to (its local hour clipped to the day, its shift): hours,
    -- shifts and days are GROUP BYs of a day's minutes.
    hour_start              timestamptz NOT NULL,
    hour_end                timestamptz NOT NULL,
    hour_label              text NOT NULL,
    shift_name              text,
    shift_start             timestamptz,
    shift_end               timestamptz,
    -- Counter increases spread over time (fractional where an increase spans minutes).
    packs_total             double precision NOT NULL,
    packs_good              double precision NOT NULL,
    packs_in_ppt            double precision NOT NULL,
    good_in_ppt             double precision NOT NULL,
    suspect_packs           double precision NOT NULL,
    -- Σ packs ÷ their article's ideal rate, in seconds.
    ideal_seconds           double precision NOT NULL,
    planned_seconds         double precision NOT NULL,
    excluded_seconds        double precision NOT NULL,
    running_seconds         double precision NOT NULL,
    micro_seconds           double precision NOT NULL,
    micro_stops             integer NOT NULL,
    no_data_seconds         double precision NOT NULL,
    no_data_planned_seconds double precision NOT NULL,
    -- The state and category holding longest in the minute (the live views' colour).
    state                   text,
    category                text NOT NULL,
    state_seconds           jsonb NOT NULL,
    mode_seconds            jsonb NOT NULL,
    category_seconds        jsonb NOT NULL,
    losses                  jsonb NOT NULL,
    PRIMARY KEY (tenant, machine, minute)
) PARTITION BY RANGE (minute);
CREATE INDEX rollup_machine_minutes_day ON rollup_machine_minutes (tenant, machine, production_day);

-- Σ of JSON objects of numbers, key by key: the seconds by state, mode, category and loss of a
-- period from those of its minutes.
CREATE FUNCTION tally_jsonb_add(total jsonb, more jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
    SELECT coalesce(jsonb_object_agg(key, seconds), '{}'::jsonb)
    FROM (
        SELECT key, sum(value::text::float8) AS seconds
        FROM (SELECT * FROM jsonb_each(total) UNION ALL SELECT * FROM jsonb_each(more)) AS both_
        GROUP BY key
    ) AS summed
$$;
CREATE AGGREGATE tally_jsonb_sum(jsonb) (
    SFUNC = tally_jsonb_add, STYPE = jsonb, INITCOND = '{}'
);
REVOKE ALL ON FUNCTION tally_jsonb_add(jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tally_jsonb_sum(jsonb) FROM PUBLIC;

-- grain: 'hour' (a local clock hour, `label` its ISO start with offset), 'shift' (`label` the
-- shift's name), 'day' (the production day, `label` its date).
CREATE TABLE rollup_machine_periods (
    tenant                  text NOT NULL,
    machine                 text NOT NULL,
    grain                   text NOT NULL CHECK (grain IN ('hour', 'shift', 'day')),
    period_start            timestamptz NOT NULL,
    period_end              timestamptz NOT NULL,
    production_day          date NOT NULL,
    label                   text NOT NULL,
    line                    text,
    site                    text,
    packs_total             double precision NOT NULL,
    packs_good              double precision NOT NULL,
    packs_in_ppt            double precision NOT NULL,
    good_in_ppt             double precision NOT NULL,
    suspect_packs           double precision NOT NULL,
    ideal_seconds           double precision NOT NULL,
    planned_seconds         double precision NOT NULL,
    excluded_seconds        double precision NOT NULL,
    running_seconds         double precision NOT NULL,
    micro_seconds           double precision NOT NULL,
    micro_stops             integer NOT NULL,
    no_data_seconds         double precision NOT NULL,
    no_data_planned_seconds double precision NOT NULL,
    state_seconds           jsonb NOT NULL,
    mode_seconds            jsonb NOT NULL,
    category_seconds        jsonb NOT NULL,
    -- Availability losses: seconds of non-micro stops inside PPT, by category.
    losses                  jsonb NOT NULL,
    PRIMARY KEY (tenant, machine, grain, period_start)
) PARTITION BY RANGE (period_start);
-- A line's machines on a day (the line-day view), one index range.
CREATE INDEX rollup_machine_periods_line ON rollup_machine_periods (tenant, line, production_day)
    WHERE grain = 'day';

CREATE TABLE rollup_line_periods (
    tenant              text NOT NULL,
    line                text NOT NULL,
    grain               text NOT NULL CHECK (grain IN ('hour', 'shift', 'day')),
    period_start        timestamptz NOT NULL,
    period_end          timestamptz NOT NULL,
    production_day      date NOT NULL,
    label               text NOT NULL,
    site                text NOT NULL,
    constraint_machine  text,
    end_of_line_machine text,
    packs_total         double precision NOT NULL,
    packs_good          double precision NOT NULL,
    ppt_seconds         double precision NOT NULL,
    run_seconds         double precision NOT NULL,
    micro_seconds       double precision NOT NULL,
    ideal_seconds       double precision NOT NULL,
    planned_seconds     double precision NOT NULL,
    no_data_planned_seconds double precision NOT NULL,
    availability        double precision,
    performance         double precision,
    quality             double precision,
    oee                 double precision,
    losses              jsonb NOT NULL,
    PRIMARY KEY (tenant, line, grain, period_start)
) PARTITION BY RANGE (period_start);
CREATE INDEX rollup_line_periods_site ON rollup_line_periods (tenant, site, grain, period_start);

-- Stops that are not micro-stops and have planned time, on the production day of their first
-- planned second; `reason_*` the first-out alarm raised in it or within 5 s before it.
CREATE TABLE rollup_stops (
    tenant          text NOT NULL,
    machine         text NOT NULL,
    start           timestamptz NOT NULL,
    "end"           timestamptz NOT NULL,
    production_day  date NOT NULL,
    line            text,
    seconds         double precision NOT NULL,
    planned_seconds double precision NOT NULL,
    category        text NOT NULL,
    reason_code     text,
    reason_text     text,
    PRIMARY KEY (tenant, machine, start)
) PARTITION BY RANGE (start);
CREATE INDEX rollup_stops_line ON rollup_stops (tenant, line, production_day);

-- Counter increases held out as implausible (faster than the machine can run): never counted,
-- reported here.
CREATE TABLE rollup_suspects (
    tenant   text NOT NULL,
    machine  text NOT NULL,
    counter  text NOT NULL,
    ts       timestamptz NOT NULL,
    previous_ts timestamptz NOT NULL,
    amount   bigint NOT NULL,
    PRIMARY KEY (tenant, machine, counter, ts)
) PARTITION BY RANGE (ts);

SELECT tally_declare_partitioned(name::regclass)
FROM unnest(ARRAY['rollup_machine_minutes', 'rollup_machine_periods', 'rollup_line_periods',
                  'rollup_stops', 'rollup_suspects']) AS name;

-- The rollup service's login: reads the raw rows and the registry, replaces its buckets, makes
-- the partitions of the days it writes. Subject to row-level security like tally_app: it works
-- as one tenant at a time.
DO $$
DECLARE
    existing pg_roles%ROWTYPE;
BEGIN
    SELECT * INTO existing FROM pg_roles WHERE rolname = 'tally_rollup';
    IF NOT FOUND THEN
        BEGIN
            CREATE ROLE tally_rollup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
                NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    ELSIF existing.rolsuper OR existing.rolcreaterole OR existing.rolreplication
          OR existing.rolbypassrls THEN
        RAISE EXCEPTION 'role tally_rollup exists with rights other than its service''s'
            USING HINT = 'Run ALTER ROLE tally_rollup NOSUPERUSER NOCREATEROLE NOREPLICATION '
                         'NOBYPASSRLS, then migrate again.';
    ELSIF NOT existing.rolcanlogin THEN
        ALTER ROLE tally_rollup LOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tally_rollup;

REVOKE ALL ON rollup_machine_minutes, rollup_machine_periods, rollup_line_periods, rollup_stops,
    rollup_suspects FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON rollup_machine_minutes, rollup_machine_periods,
    rollup_line_periods, rollup_stops, rollup_suspects TO tally_rollup;
GRANT SELECT ON rollup_machine_minutes, rollup_machine_periods, rollup_line_periods,
    rollup_stops, rollup_suspects TO tally_app;
GRANT SELECT ON telemetry_messages, counter_samples, state_changes, alarms, context_events,
    weighings TO tally_rollup;
GRANT SELECT ON tenants, sites, lines, machines, articles, site_plans, figure_settings,
    machine_lines, article_versions, registry_versions TO tally_rollup;
GRANT SELECT, INSERT, UPDATE, DELETE ON tally_schedule_runs, tally_schedule_horizons
    TO tally_rollup;
GRANT EXECUTE ON FUNCTION tally_ensure_partitions(date, date) TO tally_rollup;
GRANT EXECUTE ON FUNCTION tally_tenants() TO tally_rollup;
GRANT EXECUTE ON FUNCTION tally_jsonb_add(jsonb, jsonb), tally_jsonb_sum(jsonb) TO tally_rollup;
