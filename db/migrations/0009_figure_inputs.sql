-- What the production figures need from the registry (docs/FIGURES.md):
--
-- - each site's shift plan (tally.calendar's ShiftPlan as JSON), by the production day from
--   which it holds;
-- - per tenant the figure settings (thresholds, what counts as a loss, state → category rules,
--   which counter counts packs); no row means the defaults of tally.registry.FigureSettings;
-- - per line its constraint and end-of-line machine (NULL: its thermoformer and checkweigher),
--   per machine its maximum rate (NULL: the default of FIGURES.md);
-- - history: a machine's line from a time on (a machine moved to another line keeps its past on
--   the old one), and an article's Qn, T1, T2, ideal rate and price from a time on. '-infinity'
--   means since always. `machines.line` and the `articles` values stay the current ones;
-- - a version number per tenant, raised by every registry write, so that a process that caches
--   a tenant's registry (the rollup, once per batch) learns with one tiny query that it changed.
--
-- Every new table has row-level security on `tally.tenant` like every tenant table, and
-- explicit grants to tally_app: no reliance on default privileges.

ALTER TABLE machines ADD COLUMN max_rate_ppm numeric(8, 2) CHECK (max_rate_ppm > 0);

ALTER TABLE lines
    ADD COLUMN constraint_machine text,
    ADD COLUMN end_of_line_machine text,
    -- Deleting the machine clears only the role, never the line's tenant.
    ADD CONSTRAINT lines_constraint_machine FOREIGN KEY (tenant, constraint_machine)
        REFERENCES machines (tenant, machine) ON DELETE SET NULL (constraint_machine),
    ADD CONSTRAINT lines_end_of_line_machine FOREIGN KEY (tenant, end_of_line_machine)
        REFERENCES machines (tenant, machine) ON DELETE SET NULL (end_of_line_machine);

CREATE TABLE site_plans (
    tenant      text NOT NULL,
    site        text NOT NULL,
    -- The production day (named by its local start date) from which the plan holds.
    valid_from  date NOT NULL,
    plan        jsonb NOT NULL CHECK (jsonb_typeof(plan) = 'object'),
    PRIMARY KEY (tenant, site, valid_from),
    FOREIGN KEY (tenant, site) REFERENCES sites ON DELETE CASCADE
);

CREATE TABLE figure_settings (
    tenant              text PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
    micro_stop_seconds  integer NOT NULL DEFAULT 120 CHECK (micro_stop_seconds BETWEEN 1 AND 3600),
    gap_seconds         integer NOT NULL DEFAULT 60 CHECK (gap_seconds BETWEEN 1 AND 86400),
    changeover_is_loss  boolean NOT NULL DEFAULT true,
    cleaning_is_loss    boolean NOT NULL DEFAULT true,
    -- tally.registry.StateRule list, first match wins; validated by the registry on write.
    state_rules         jsonb NOT NULL CHECK (jsonb_typeof(state_rules) = 'array'),
    -- machine kind → the counter that counts its packs.
    pack_counters       jsonb NOT NULL CHECK (jsonb_typeof(pack_counters) = 'object'),
    good_counter        text NOT NULL DEFAULT 'packs_good'
);

CREATE TABLE machine_lines (
    tenant      text NOT NULL,
    machine     text NOT NULL,
    valid_from  timestamptz NOT NULL,
    line        text NOT NULL,
    PRIMARY KEY (tenant, machine, valid_from),
    FOREIGN KEY (tenant, machine) REFERENCES machines ON DELETE CASCADE,
    FOREIGN KEY (tenant, line) REFERENCES lines ON DELETE CASCADE
);

CREATE TABLE article_versions (
    tenant          text NOT NULL,
    article         text NOT NULL,
    valid_from      timestamptz NOT NULL,
    nominal_g       numeric(10, 1) CHECK (nominal_g > 0),
    t1_g            numeric(10, 1),
    t2_g            numeric(10, 1),
    ideal_rate_ppm  numeric(8, 2) NOT NULL CHECK (ideal_rate_ppm > 0),
    price_per_kg    numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price_per_kg >= 0),
    PRIMARY KEY (tenant, article, valid_from),
    FOREIGN KEY (tenant, article) REFERENCES articles ON DELETE CASCADE,
    CHECK ((nominal_g IS NULL) = (t1_g IS NULL) AND (nominal_g IS NULL) = (t2_g IS NULL)),
    CHECK (t2_g IS NULL OR (t2_g < t1_g AND t1_g < nominal_g))
);

-- What exists already has held since always.
INSERT INTO machine_lines (tenant, machine, valid_from, line)
SELECT tenant, machine, '-infinity', line FROM machines;
INSERT INTO article_versions
    (tenant, article, valid_from, nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg)
SELECT tenant, article, '-infinity', nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg
FROM articles;

CREATE TABLE registry_versions (
    tenant   text PRIMARY KEY,
    version  bigint NOT NULL
);

-- Runs as the writing role (tally_app), inside the writer's tenant-scoped transaction.
CREATE FUNCTION tally_registry_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO registry_versions AS v (tenant, version)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant ELSE NEW.tenant END, 1)
    ON CONFLICT (tenant) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;

-- Row-level security as on every tenant table (0007's tally_tenant_policy), and explicit grants:
-- 0007 made every table private until a migration grants it.
SELECT tally_tenant_policy(name::regclass)
FROM unnest(ARRAY['site_plans', 'figure_settings', 'machine_lines', 'article_versions',
                  'registry_versions']) AS name;
REVOKE ALL ON site_plans, figure_settings, machine_lines, article_versions, registry_versions
    FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON site_plans, figure_settings, machine_lines, article_versions, registry_versions
    TO tally_app;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['sites', 'lines', 'machines', 'articles', 'site_plans',
                                'figure_settings', 'machine_lines', 'article_versions'] LOOP
        EXECUTE format(
            'CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE ON %I '
            'FOR EACH ROW EXECUTE FUNCTION tally_registry_changed()', name);
    END LOOP;
END
$$;
