-- Expiry that reads only the days that just expired.
--
-- 0003's tally_expire_datapoints trimmed the tenants with a shorter retention by one DELETE per
-- raw table joined to tenants. Each row's cutoff depends on its tenant, so no partition can be
-- pruned, and no index leads with tenant: every run (hourly) read every row kept, hundreds of
-- millions of them. After a DROP it did so holding that parent's ACCESS EXCLUSIVE lock, which
-- stalled the recorder for the whole scan.
--
-- Now each tenant has a mark: the day before which its rows are gone. A run deletes only in the
-- day partitions between a tenant's mark and its cutoff — none most runs, one a day — with all
-- tenants due for a day in one pass over that partition, and before any DROP takes its lock.
-- A tenant's first run starts at the horizon, so it reads the kept days once.
--
-- Trade-off: rows that arrive for a day after it was trimmed (a history upload older than a
-- retention shorter than the gateway's maximum age) stay until the day is dropped.
CREATE TABLE tally_expiry_marks (
    tenant         text PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
    trimmed_before date NOT NULL
);
-- Only the function below (running with its owner's rights) reads or writes the marks.
REVOKE ALL ON tally_expiry_marks FROM tally_app;

CREATE OR REPLACE FUNCTION tally_expire_datapoints(today date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parents text[] := ARRAY['telemetry_messages', 'counter_samples', 'gauge_samples',
                            'state_changes', 'weighings', 'alarms', 'context_events'];
    horizon date;
    first_due date;
    last_due date;
    day date;
    due text[];
    parent text;
    partition text;
    child record;
    dropped integer := 0;
BEGIN
    SELECT today - coalesce(max(retention_days), 400) INTO horizon FROM tenants;
    PERFORM pg_advisory_xact_lock(7261001);

    INSERT INTO tally_expiry_marks (tenant, trimmed_before)
    SELECT tenant, horizon FROM tenants
    ON CONFLICT (tenant) DO NOTHING;
    SELECT greatest(min(m.trimmed_before), horizon), max(today - t.retention_days) - 1
    INTO first_due, last_due
    FROM tally_expiry_marks m JOIN tenants t USING (tenant)
    WHERE m.trimmed_before < today - t.retention_days;

    -- Straight to the day's partition: the parents' row-level security does not apply there.
    day := first_due;
    WHILE day <= last_due LOOP
        SELECT array_agg(m.tenant) INTO due
        FROM tally_expiry_marks m JOIN tenants t USING (tenant)
        WHERE m.trimmed_before <= day AND day < today - t.retention_days;
        IF due IS NOT NULL THEN
            FOREACH parent IN ARRAY parents LOOP
                partition := format('%s_%s', parent, to_char(day, 'YYYYMMDD'));
                IF to_regclass(partition) IS NOT NULL THEN
                    EXECUTE format('DELETE FROM %I WHERE tenant = ANY($1)', partition) USING due;
                END IF;
            END LOOP;
        END IF;
        day := day + 1;
    END LOOP;
    -- A longer retention does not bring trimmed days back, so a mark never moves earlier.
    UPDATE tally_expiry_marks m SET trimmed_before = today - t.retention_days
    FROM tenants t
    WHERE t.tenant = m.tenant AND m.trimmed_before < today - t.retention_days;

    FOREACH parent IN ARRAY parents LOOP
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
    END LOOP;
    RETURN dropped;
END
$$;
