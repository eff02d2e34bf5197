-- The daily production reports tally produced (tally.reports): per line, and per site (line
-- NULL), per production day, in versions. Version 1 is made when the site's production day
-- closes; when late data changes the day's figures (their digest differs from the latest
-- version's) a new version is added. Versions are never changed or removed while their site
-- and line exist: tally_app may only read and add them.
CREATE TABLE reports (
    tenant          text NOT NULL,
    site            text NOT NULL,
    line            text,
    day             date NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    produced_at     timestamptz NOT NULL,
    -- SHA-256 of the figures the report was made from (their canonical JSON): a day is produced
    -- again only when this changes.
    figures_digest  bytea NOT NULL CHECK (octet_length(figures_digest) = 32),
    -- The data completeness the report states: fraction of planned time covered (for a site,
    -- its least complete line's).
    completeness    double precision NOT NULL CHECK (completeness BETWEEN 0 AND 1),
    pdf             bytea NOT NULL,
    csv             text NOT NULL,
    FOREIGN KEY (tenant, site) REFERENCES sites ON DELETE CASCADE,
    FOREIGN KEY (tenant, line) REFERENCES lines ON DELETE CASCADE
);

-- One row per version; NULLS NOT DISTINCT: the site's report (line NULL) is one series too.
CREATE UNIQUE INDEX reports_versions ON reports (tenant, site, line, day, version)
    NULLS NOT DISTINCT;

SELECT tally_tenant_policy('reports'::regclass);
REVOKE ALL ON reports FROM PUBLIC;
GRANT SELECT, INSERT ON reports TO tally_app;
