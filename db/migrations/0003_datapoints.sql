-- The raw datapoint store: every signal a machine sent, kept so any figure can be recomputed.
--
-- One table per signal kind (typed columns, narrow rows), each range-partitioned by day on the
-- signal's own time, so late data lands in the day it describes and expiry is a DROP, not a
-- DELETE. Partitions are created ahead and on demand by tally_ensure_partitions().
--
-- Indexing decides the ingest ceiling (COPY into a table with one 4-column btree ran at about a
-- third of the unindexed speed here), so each table has exactly one btree, shaped for its one
-- hot question: "one machine, one signal, a time range". Machine and signal names are short
-- text; the btree deduplicates repeated leading keys (PostgreSQL 13+), which keeps it compact.

-- The idempotency ledger: one row per message identity. A redelivered or re-sent message
-- conflicts here and its signals are not stored again. Partitioned on the message's device
-- time: a true duplicate has the same time, so it meets its original in the same partition.
CREATE TABLE telemetry_messages (
    tenant      text NOT NULL,
    machine     text NOT NULL,
    boot_id     text NOT NULL,
    seq         bigint NOT NULL,
    ts          timestamptz NOT NULL,
    historical  boolean NOT NULL,
    signals     integer NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, machine, boot_id, seq, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE counter_samples (
    tenant  text NOT NULL,
    machine text NOT NULL,
    name    text NOT NULL,
    ts      timestamptz NOT NULL,
    value   bigint NOT NULL,
    boot_id text NOT NULL,
    seq     bigint NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX counter_samples_lookup ON counter_samples (tenant, machine, name, ts);

CREATE TABLE gauge_samples (
    tenant  text NOT NULL,
    machine text NOT NULL,
    name    text NOT NULL,
    ts      timestamptz NOT NULL,
    value   double precision NOT NULL,
    unit    text
) PARTITION BY RANGE (ts);
CREATE INDEX gauge_samples_lookup ON gauge_samples (tenant, machine, name, ts);

CREATE TABLE state_changes (
    tenant    text NOT NULL,
    machine   text NOT NULL,
    ts        timestamptz NOT NULL,
    name      text NOT NULL,
    model     text NOT NULL,
    mode      text NOT NULL,
    sub_state text,
    code      integer
) PARTITION BY RANGE (ts);
CREATE INDEX state_changes_lookup ON state_changes (tenant, machine, ts);

CREATE TABLE weighings (
    tenant        text NOT NULL,
    machine       text NOT NULL,
    ts            timestamptz NOT NULL,
    article       text NOT NULL,
    net_g         real NOT NULL,
    accepted      boolean NOT NULL,
    zone          smallint NOT NULL,
    reject_reason text
) PARTITION BY RANGE (ts);
CREATE INDEX weighings_lookup ON weighings (tenant, machine, ts);

CREATE TABLE alarms (
    tenant    text NOT NULL,
    machine   text NOT NULL,
    ts        timestamptz NOT NULL,
    code      text NOT NULL,
    raised    boolean NOT NULL,
    category  text NOT NULL,
    first_out boolean NOT NULL,
    text      text
) PARTITION BY RANGE (ts);
CREATE INDEX alarms_lookup ON alarms (tenant, machine, ts);

CREATE TABLE context_events (
    tenant    text NOT NULL,
    machine   text NOT NULL,
    ts        timestamptz NOT NULL,
    event     text NOT NULL,
    article   text,
    batch     text,
    order_id  text,
    shift     text
) PARTITION BY RANGE (ts);
CREATE INDEX context_events_lookup ON context_events (tenant, machine, ts);

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['telemetry_messages', 'counter_samples', 'gauge_samples',
                                'state_changes', 'weighings', 'alarms', 'context_events'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant = current_setting(''tally.tenant'', true)) '
            'WITH CHECK (tenant = current_setting(''tally.tenant'', true))', name);
        -- Raw data is immutable: readers read, only the recorder adds, only expiry removes.
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM tally_app', name);
        EXECUTE format('GRANT SELECT ON %I TO tally_app', name);
    END LOOP;
END
$$;

-- Daily partitions for every raw table, for the days [first, last]. Safe to call
-- concurrently (an advisory lock serialises creators) and repeatedly. Runs with its owner's
-- rights: the services' role may write rows but not create tables.
CREATE FUNCTION tally_ensure_partitions(first date, last date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parent text;
    day date;
    partition text;
    created integer := 0;
BEGIN
    IF last - first > 400 THEN
        RAISE EXCEPTION 'refusing to create % days of partitions at once', last - first + 1;
    END IF;
    PERFORM pg_advisory_xact_lock(7261001);
    FOREACH parent IN ARRAY ARRAY['telemetry_messages', 'counter_samples', 'gauge_samples',
                                  'state_changes', 'weighings', 'alarms', 'context_events'] LOOP
        day := first;
        WHILE day <= last LOOP
            partition := format('%s_%s', parent, to_char(day, 'YYYYMMDD'));
            IF to_regclass(partition) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                    partition, parent, day::timestamp AT TIME ZONE 'UTC',
                    (day + 1)::timestamp AT TIME ZONE 'UTC');
                created := created + 1;
            END IF;
            day := day + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;
REVOKE ALL ON FUNCTION tally_ensure_partitions(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_ensure_partitions(date, date) TO tally_app;

-- Drop whole days older than the longest retention of any tenant, and delete the rows of
-- tenants with a shorter retention in the days still kept. Returns partitions dropped.
CREATE FUNCTION tally_expire_datapoints(today date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    horizon date;
    parent text;
    child record;
    dropped integer := 0;
BEGIN
    SELECT today - coalesce(max(retention_days), 400) INTO horizon FROM tenants;
    PERFORM pg_advisory_xact_lock(7261001);
    FOREACH parent IN ARRAY ARRAY['telemetry_messages', 'counter_samples', 'gauge_samples',
                                  'state_changes', 'weighings', 'alarms', 'context_events'] LOOP
        FOR child IN
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = parent
              AND to_date(right(c.relname, 8), 'YYYYMMDD') < horizon
        LOOP
            EXECUTE format('DROP TABLE %I', child.relname);
            dropped := dropped + 1;
        END LOOP;
        EXECUTE format(
            'DELETE FROM %I d USING tenants t WHERE d.tenant = t.tenant '
            'AND d.ts < (%L::date - t.retention_days)::timestamp AT TIME ZONE ''UTC''',
            parent, today);
    END LOOP;
    RETURN dropped;
END
$$;
REVOKE ALL ON FUNCTION tally_expire_datapoints(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_expire_datapoints(date) TO tally_app;

-- The recorder stores every tenant's datapoints with COPY, which PostgreSQL does not allow on
-- tables under row-level security. It is the one trusted multi-tenant writer (the tenant comes
-- from the authenticated subject), so it writes as tally_ingest, which bypasses RLS but may
-- only INSERT into the raw tables and read them back for idempotency; readers stay tally_app.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_ingest') THEN
        BEGIN
            CREATE ROLE tally_ingest NOLOGIN NOSUPERUSER BYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    END IF;
    -- As in 0001: SET ROLE needs membership, and from PostgreSQL 16 the SET option too.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        IF current_setting('server_version_num')::integer >= 160000 THEN
            IF NOT pg_has_role(current_user, 'tally_ingest', 'SET') THEN
                EXECUTE format('GRANT tally_ingest TO %I WITH SET TRUE', current_user);
            END IF;
        ELSIF NOT pg_has_role(current_user, 'tally_ingest', 'MEMBER') THEN
            EXECUTE format('GRANT tally_ingest TO %I', current_user);
        END IF;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tally_ingest;
GRANT SELECT, INSERT ON telemetry_messages, counter_samples, gauge_samples, state_changes,
    weighings, alarms, context_events TO tally_ingest;
GRANT SELECT ON tenants TO tally_ingest;
GRANT EXECUTE ON FUNCTION tally_ensure_partitions(date, date) TO tally_ingest;
GRANT EXECUTE ON FUNCTION tally_expire_datapoints(date) TO tally_ingest;
