-- Least privilege: each service logs in as a role of its own, every table is private until a
-- migration grants it, and the daily partitions are as closed as their parents.
--
-- Before this, services logged in as the (superuser) owner and switched to tally_app with
-- SET ROLE, which any session could undo (SET ROLE postgres); and 0001's default privileges gave
-- tally_app SELECT, INSERT, UPDATE and DELETE on every table the owner created, so on every
-- daily partition too — which carry no row-level security: `SELECT * FROM alarms_<day>`, with no
-- tenant set, showed every tenant's alarms, and UPDATE and DELETE worked as well.

-- 1. No default privileges for the services' roles: a new table is private until granted.
DO $$
DECLARE
    entry record;
BEGIN
    FOR entry IN
        SELECT DISTINCT d.defaclrole::regrole AS creator, d.defaclobjtype AS kind,
               e.grantee::regrole AS grantee
        FROM pg_default_acl d, aclexplode(d.defaclacl) e
        WHERE d.defaclnamespace = 'public'::regnamespace
          AND e.grantee IN (SELECT oid FROM pg_roles WHERE rolname IN ('tally_app', 'tally_ingest'))
    LOOP
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public REVOKE ALL ON %s FROM %s',
                       entry.creator,
                       CASE entry.kind WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                                       WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' END,
                       entry.grantee);
    END LOOP;
END
$$;
-- PostgreSQL 15 and later already refuse CREATE in public to ordinary roles; older ones do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- 2. One login role per kind of service, none able to become more (checked again by the SDK
-- when a service connects). Passwords are set by `tally migrate` from TALLY_DATABASE_PASSWORD_*;
-- the embedded server trusts local logins.
--   tally_gateway  the gateway: only tally_authenticate (which machine has this token hash)
--   tally_ingest   the recorder: INSERT into the raw tables, BYPASSRLS because PostgreSQL
--                  refuses COPY under row-level security; the partition upkeep functions
--   tally_app      the api and administration: the registry and raw reads, under the policy
-- Roles are cluster-wide: as in 0001, another database's migration may have made them already.
DO $$
DECLARE
    wanted record;
    existing pg_roles%ROWTYPE;
BEGIN
    FOR wanted IN
        SELECT * FROM (VALUES ('tally_app', false), ('tally_ingest', true), ('tally_gateway', false))
            AS w(name, bypassrls)
    LOOP
        SELECT * INTO existing FROM pg_roles WHERE rolname = wanted.name;
        IF NOT FOUND THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                               'NOREPLICATION %s', wanted.name,
                               CASE WHEN wanted.bypassrls THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by a migration of another database
            END;
        ELSIF existing.rolsuper OR existing.rolcreaterole OR existing.rolreplication
              OR existing.rolbypassrls <> wanted.bypassrls THEN
            RAISE EXCEPTION 'role % exists with rights other than its service''s (SUPERUSER, '
                            'CREATEROLE, REPLICATION or BYPASSRLS)', wanted.name
                USING HINT = format('Run ALTER ROLE %I NOSUPERUSER NOCREATEROLE NOREPLICATION %s, '
                                    'then migrate again.', wanted.name,
                                    CASE WHEN wanted.bypassrls THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END);
        ELSIF NOT existing.rolcanlogin THEN
            EXECUTE format('ALTER ROLE %I LOGIN', wanted.name);
        END IF;
    END LOOP;
END
$$;
GRANT USAGE ON SCHEMA public TO tally_app, tally_ingest, tally_gateway;

-- 3. The one declaration of the tables kept in daily partitions. A table declared here (with
-- tally_declare_partitioned) gets its partitions from tally_ensure_partitions, row-level
-- security on each of them, and expiry from tally_expire_datapoints.
CREATE TABLE tally_partitioned_tables (
    parent regclass PRIMARY KEY
);

-- Row-level security on `relation`, enabled and forced, with the tenant policy every tenant table
-- has (see tally.sdk's Database). For migrations: `SELECT tally_tenant_policy('notes')`.
CREATE FUNCTION tally_tenant_policy(relation regclass)
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', relation);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', relation);
    IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = relation AND polname = 'tenant_isolation') THEN
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %s USING (tenant = current_setting(''tally.tenant'', true)) '
            'WITH CHECK (tenant = current_setting(''tally.tenant'', true))', relation);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tally_tenant_policy(regclass) FROM PUBLIC;

-- A partition is reached only through its parent, where PostgreSQL checks the privileges and
-- the policy; queried directly, it would check neither. So each partition refuses everyone
-- but its owner, and carries the tenant policy too, should a grant ever slip through.
CREATE FUNCTION tally_secure_partition(partition regclass)
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    grantee oid;
BEGIN
    PERFORM tally_tenant_policy(partition);
    FOR grantee IN
        SELECT DISTINCT e.grantee FROM pg_class c, aclexplode(c.relacl) e
        WHERE c.oid = partition AND e.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s', partition,
                       CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE grantee::regrole::text END);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tally_secure_partition(regclass) FROM PUBLIC;

-- Declare `parent` (range-partitioned on one timestamptz, with a `tenant` column) as kept in
-- daily partitions: its own row-level security, and that of the partitions it has already.
-- Privileges on the parent stay explicit GRANTs of the migration that creates it.
CREATE FUNCTION tally_declare_partitioned(parent regclass)
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    child regclass;
BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_partitioned_table p
        JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = parent AND p.partstrat = 'r' AND p.partnatts = 1
          AND a.atttypid = 'timestamptz'::regtype
    ) THEN
        RAISE EXCEPTION '% is not partitioned by range of one timestamptz column', parent;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = parent AND attname = 'tenant') THEN
        RAISE EXCEPTION '% has no tenant column for the row-level security policy', parent;
    END IF;
    -- Partitions are named <parent>_YYYYMMDD within PostgreSQL's 63 characters.
    IF length((SELECT relname FROM pg_class WHERE oid = parent)) > 54 THEN
        RAISE EXCEPTION 'the name of % is too long for its partitions: 54 characters at most', parent;
    END IF;
    INSERT INTO tally_partitioned_tables VALUES (parent) ON CONFLICT DO NOTHING;
    PERFORM tally_tenant_policy(parent);
    FOR child IN SELECT inhrelid FROM pg_inherits WHERE inhparent = parent LOOP
        PERFORM tally_secure_partition(child);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tally_declare_partitioned(regclass) FROM PUBLIC;

SELECT tally_declare_partitioned(name::regclass)
FROM unnest(ARRAY['telemetry_messages', 'counter_samples', 'gauge_samples', 'state_changes',
                  'weighings', 'alarms', 'context_events']) AS name;

-- Daily partitions of every declared table for the days [first, last], each secured as it is
-- made. Safe to call concurrently (an advisory lock serialises creators) and repeatedly. Runs
-- with its owner's rights: the ingest role may write rows but not create tables.
CREATE OR REPLACE FUNCTION tally_ensure_partitions(first date, last date)
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
    FOR parent IN
        SELECT c.relname FROM tally_partitioned_tables t JOIN pg_class c ON c.oid = t.parent
        ORDER BY c.relname
    LOOP
        day := first;
        WHILE day <= last LOOP
            partition := format('%s_%s', parent, to_char(day, 'YYYYMMDD'));
            IF to_regclass(partition) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                    partition, parent, day::timestamp AT TIME ZONE 'UTC',
                    (day + 1)::timestamp AT TIME ZONE 'UTC');
                PERFORM tally_secure_partition(partition::regclass);
                created := created + 1;
            END IF;
            day := day + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- 0006's expiry, over the declared tables instead of a list of its own.
CREATE OR REPLACE FUNCTION tally_expire_datapoints(today date)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parents text[];
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
    SELECT array_agg(c.relname ORDER BY c.relname) INTO parents
    FROM tally_partitioned_tables t JOIN pg_class c ON c.oid = t.parent;
    SELECT today - coalesce(max(retention_days), 400) INTO horizon FROM tenants;
    PERFORM pg_advisory_xact_lock(7261001);

    INSERT INTO tally_expiry_marks (tenant, trimmed_before)
    SELECT tenant, horizon FROM tenants
    ON CONFLICT (tenant) DO NOTHING;
    SELECT greatest(min(m.trimmed_before), horizon), max(today - t.retention_days) - 1
    INTO first_due, last_due
    FROM tally_expiry_marks m JOIN tenants t USING (tenant)
    WHERE m.trimmed_before < today - t.retention_days;

    -- Straight to the day's partition, as its owner (who bypasses row-level security).
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

-- 4. Explicit grants, table by table and function by function.
-- The expiry marks carry a tenant, so the policy too; only tally_expire_datapoints reads them.
SELECT tally_tenant_policy('tally_expiry_marks');
REVOKE ALL ON tally_expiry_marks, tally_partitioned_tables FROM PUBLIC, tally_app, tally_ingest;

-- Raw data: read by tally_app under the policy; written only by tally_ingest, which reads back
-- only the identities its ledger insert returns (it bypasses the policy, so no more than that).
REVOKE ALL ON telemetry_messages, counter_samples, gauge_samples, state_changes, weighings,
    alarms, context_events FROM PUBLIC, tally_app, tally_ingest;
GRANT SELECT ON telemetry_messages, counter_samples, gauge_samples, state_changes, weighings,
    alarms, context_events TO tally_app;
GRANT INSERT ON telemetry_messages, counter_samples, gauge_samples, state_changes, weighings,
    alarms, context_events TO tally_ingest;
GRANT SELECT (machine, boot_id, seq) ON telemetry_messages TO tally_ingest;

-- The registry: tally_app under the policy (0002's grants); the others not at all.
REVOKE ALL ON tenants FROM tally_ingest;

-- Functions: each to the one role that calls it.
REVOKE EXECUTE ON FUNCTION tally_authenticate(bytea) FROM tally_app;
GRANT EXECUTE ON FUNCTION tally_authenticate(bytea) TO tally_gateway;
REVOKE EXECUTE ON FUNCTION tally_ensure_partitions(date, date) FROM tally_app;
REVOKE EXECUTE ON FUNCTION tally_expire_datapoints(date) FROM tally_app;
