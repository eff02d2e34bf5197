-- PLACEHOLDER for i9-rollup's 0012 (dropped at merge), which creates the rollup service's role.
-- Only what tally.figures.recompute_weighings needs of it, so branch i9-weighings can test the
-- hook as the role it will run as: tally_rollup logs in, reads the raw weighings and the
-- registry under the tenant policy, and makes the days of late data (0010).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_rollup') THEN
        BEGIN
            CREATE ROLE tally_rollup LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
                NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by a migration of another database
        END;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tally_rollup;
GRANT SELECT ON weighings, article_versions, machine_lines, machines, lines, sites
    TO tally_rollup;
GRANT EXECUTE ON FUNCTION tally_ensure_partitions(date, date) TO tally_rollup;
