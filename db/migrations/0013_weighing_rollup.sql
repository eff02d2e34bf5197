-- The weighings rolled up per ℮ lot: one row per machine × article × local clock hour of the
-- machine's site (docs/FIGURES.md, "Weights"). Every figure of weights, giveaway and the ℮
-- verdict over an hour, a shift, a day or a month is a sum of these rows, so no view of the
-- figures reads the raw weighings (one row per pack, the largest raw table).
--
-- Written only by tally.figures' recompute_weighings (delete + insert of every lot a stored
-- range touched, from the raw rows), so a row is always a pure function of the raw weighings
-- and the registry: late, replayed or reordered data and rebuilds give the same rows.
--
-- Weights are whole decigrams (0.1 g, exact integers: a scale shows no more, and T1/T2 are
-- compared exactly); money is decigrams × cents per kg = millionths of the currency unit.
CREATE TABLE weighing_lots (
    tenant             text NOT NULL,
    machine            text NOT NULL,
    article            text NOT NULL,
    -- The lot: its local clock hour, told apart by its UTC offset (the autumn night has two
    -- 01:00 hours). [hour_start, hour_end) is the same hour as instants.
    hour_start         timestamptz NOT NULL,
    hour_end           timestamptz NOT NULL,
    local_hour         timestamp NOT NULL,
    utc_offset_minutes smallint NOT NULL,
    -- The article's terms (valid at the lot's last pack; each pack counts with its own):
    -- Qn, T1, T2 NULL for a catch-weight article (or one the registry does not know).
    catch_weight       boolean NOT NULL,
    nominal_dg         integer,
    t1_dg              integer,
    t2_dg              integer,
    -- Every weighed pack counts in packs; rejected ones only there and by reason.
    packs              integer NOT NULL CHECK (packs > 0),
    accepted           integer NOT NULL CHECK (accepted >= 0),
    rejected           integer NOT NULL CHECK (rejected >= 0),
    rejects_by_reason  jsonb NOT NULL CHECK (jsonb_typeof(rejects_by_reason) = 'object'),
    -- Accepted packs: Σ net, Σ net², min, max.
    net_dg             bigint NOT NULL,
    net_sq_dg          bigint NOT NULL,
    min_dg             integer,
    max_dg             integer,
    -- Accepted fixed-weight packs: how many, strictly below T1 and T2, Σ Qn, Σ (net − Qn)
    -- with negative terms, and that giveaway at each pack's price.
    fixed_accepted     integer NOT NULL,
    below_t1           integer NOT NULL,
    below_t2           integer NOT NULL,
    declared_dg        bigint NOT NULL,
    giveaway_dg        bigint NOT NULL,
    giveaway_micros    bigint NOT NULL,
    -- The ℮ verdict: mean ≥ Qn (Σ (net − Qn) ≥ 0), at most 2.5 % of the packs strictly below
    -- T1 (inclusive: 40 × below ≤ packs), none strictly below T2. NULL: no verdict (no
    -- accepted fixed-weight pack).
    compliant          boolean GENERATED ALWAYS AS (
        CASE WHEN fixed_accepted = 0 THEN NULL
             ELSE giveaway_dg >= 0 AND 40 * below_t1 <= fixed_accepted AND below_t2 = 0 END
    ) STORED,
    -- The weight distribution of every weighed pack, sparse: bins of hist_bin_dg decigrams
    -- whose lower edges are hist_bins (ascending), with the accepted and rejected packs in
    -- each. Enough to draw the hour (or a day, summed) against Qn, T1 and T2.
    hist_bin_dg        smallint NOT NULL CHECK (hist_bin_dg > 0),
    hist_bins          integer[] NOT NULL,
    hist_accepted      integer[] NOT NULL,
    hist_rejected      integer[] NOT NULL,
    CHECK (hour_end > hour_start AND hour_end <= hour_start + interval '1 hour'),
    CHECK (packs = accepted + rejected),
    CHECK (cardinality(hist_bins) = cardinality(hist_accepted)
           AND cardinality(hist_bins) = cardinality(hist_rejected)),
    -- "A line's day": each of its machines, a range of hours.
    PRIMARY KEY (tenant, machine, hour_start, article)
) PARTITION BY RANGE (hour_start);

-- "An article for a month" (the ℮ compliance of an article across machines).
CREATE INDEX weighing_lots_article ON weighing_lots (tenant, article, hour_start);

-- Daily partitions (by the lot's start in UTC), row-level security on the table and on every
-- partition, expiry with the raw data: 0007's one declaration of the partitioned tables.
SELECT tally_declare_partitioned('weighing_lots');

REVOKE ALL ON weighing_lots FROM PUBLIC;
-- The api reads the figures under the tenant policy.
GRANT SELECT ON weighing_lots TO tally_app;
-- The rollup (its role comes with the rollup service's migration) rewrites the lots a stored
-- range touched: it reads them, deletes them and inserts them again, never updates.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tally_rollup') THEN
        GRANT SELECT, INSERT, DELETE ON weighing_lots TO tally_rollup;
    END IF;
END
$$;
