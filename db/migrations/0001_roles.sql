-- The role every service switches to (tally.sdk's Database runs SET ROLE tally_app on each
-- pooled connection), so that row-level security applies even when the connection's user is a
-- superuser or owns the tables.
--
-- Roles are cluster-wide, databases are not: a fresh database on a cluster that already has
-- tally_app (another environment, the previous test run) must migrate cleanly, and two databases
-- migrated at once must not trip over each other. Hence the existence check and the handler.
DO $$
DECLARE
    existing pg_roles%ROWTYPE;
BEGIN
    SELECT * INTO existing FROM pg_roles WHERE rolname = 'tally_app';
    IF NOT FOUND THEN
        BEGIN
            CREATE ROLE tally_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    ELSIF existing.rolsuper OR existing.rolbypassrls THEN
        -- Such a role would silently see every tenant's rows.
        RAISE EXCEPTION 'role tally_app exists with SUPERUSER or BYPASSRLS, so row-level security would not apply to it'
            USING HINT = 'Run ALTER ROLE tally_app NOSUPERUSER NOBYPASSRLS, then migrate again.';
    END IF;
END
$$;

-- SET ROLE needs membership in the role (and, from PostgreSQL 16, the SET option on it);
-- superusers need neither.
DO $$
DECLARE
    pg16 boolean := current_setting('server_version_num')::integer >= 160000;
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN;
    END IF;
    -- Nested, not AND-ed: before 16, pg_has_role rejects the privilege name 'SET'.
    IF pg16 THEN
        IF NOT pg_has_role(current_user, 'tally_app', 'SET') THEN
            EXECUTE format('GRANT tally_app TO %I WITH SET TRUE', current_user);
        END IF;
    ELSIF NOT pg_has_role(current_user, 'tally_app', 'MEMBER') THEN
        EXECUTE format('GRANT tally_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO tally_app;

-- Default privileges belong to the role that creates the objects: the migrating user, who
-- creates every table in later migrations.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tally_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO tally_app;
