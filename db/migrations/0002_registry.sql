-- The tenant registry: tenant → site → line → machine, plus articles and machine tokens.
-- Every tenant table carries `tenant` and row-level security keyed on the transaction's
-- `tally.tenant` setting (see tally.sdk's Database), in addition to the filters in the SQL.

CREATE TABLE tenants (
    tenant          text PRIMARY KEY CHECK (tenant ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Ingest budget per second (datapoints) at the gateway; 429 beyond it.
    rate_per_second integer NOT NULL DEFAULT 20000 CHECK (rate_per_second > 0),
    retention_days  integer NOT NULL DEFAULT 400 CHECK (retention_days BETWEEN 1 AND 3650),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
    tenant      text NOT NULL REFERENCES tenants ON DELETE CASCADE,
    site        text NOT NULL CHECK (site ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL,
    -- IANA zone; checked by the admin path against the zone database before it gets here.
    timezone    text NOT NULL,
    -- The production day starts at this local time (DST-aware through the zone).
    day_start   time NOT NULL DEFAULT '06:00',
    PRIMARY KEY (tenant, site)
);

CREATE TABLE lines (
    tenant  text NOT NULL,
    line    text NOT NULL CHECK (line ~ '^[A-Za-z0-9_-]{1,64}$'),
    site    text NOT NULL,
    name    text NOT NULL,
    PRIMARY KEY (tenant, line),
    FOREIGN KEY (tenant, site) REFERENCES sites ON DELETE CASCADE
);

CREATE TABLE machines (
    tenant           text NOT NULL,
    machine          text NOT NULL CHECK (machine ~ '^[A-Za-z0-9_-]{1,64}$'),
    line             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('slicer', 'thermoformer', 'checkweigher', 'labeller', 'other')),
    position         smallint NOT NULL DEFAULT 0,
    state_model      text NOT NULL DEFAULT 'packml' CHECK (state_model IN ('packml', 'weihenstephan', 'vendor')),
    counter_rollover bigint NOT NULL DEFAULT 2147483647 CHECK (counter_rollover > 0),
    PRIMARY KEY (tenant, machine),
    FOREIGN KEY (tenant, line) REFERENCES lines ON DELETE CASCADE
);

CREATE TABLE articles (
    tenant          text NOT NULL REFERENCES tenants ON DELETE CASCADE,
    article         text NOT NULL CHECK (article ~ '^[A-Za-z0-9_.:/-]{1,64}$'),
    name            text NOT NULL,
    -- NULL for catch-weight articles: priced by actual weight, no Qn, no giveaway.
    nominal_g       numeric(10, 1) CHECK (nominal_g > 0),
    t1_g            numeric(10, 1),
    t2_g            numeric(10, 1),
    ideal_rate_ppm  numeric(8, 2) NOT NULL CHECK (ideal_rate_ppm > 0),
    price_per_kg    numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price_per_kg >= 0),
    PRIMARY KEY (tenant, article),
    CHECK ((nominal_g IS NULL) = (t1_g IS NULL) AND (nominal_g IS NULL) = (t2_g IS NULL)),
    CHECK (t2_g IS NULL OR (t2_g < t1_g AND t1_g < nominal_g))
);

-- Machine tokens are stored only as SHA-256 hashes; a token maps to exactly one machine.
CREATE TABLE machine_tokens (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    tenant       text NOT NULL,
    machine      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    FOREIGN KEY (tenant, machine) REFERENCES machines ON DELETE CASCADE
);
CREATE INDEX machine_tokens_machine ON machine_tokens (tenant, machine);

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['tenants', 'sites', 'lines', 'machines', 'articles', 'machine_tokens'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant = current_setting(''tally.tenant'', true)) '
            'WITH CHECK (tenant = current_setting(''tally.tenant'', true))', name);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO tally_app', name);
    END LOOP;
END
$$;

-- The gateway learns the tenant from the token, so it must look a token up before it knows
-- the tenant. This function (running with its owner's rights) answers exactly that question
-- and nothing else; the app role cannot list tokens.
CREATE FUNCTION tally_authenticate(token_hash bytea)
RETURNS TABLE (tenant text, machine text, rate_per_second integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.tenant, t.machine, n.rate_per_second
    FROM machine_tokens t JOIN tenants n USING (tenant)
    WHERE t.token_sha256 = token_hash AND t.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION tally_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tally_authenticate(bytea) TO tally_app;
