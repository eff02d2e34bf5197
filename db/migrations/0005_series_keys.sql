-- Narrow index keys for the raw tables, chosen by measuring (benchmarks/raw_table_indexes.py).
--
-- 0003 indexed (tenant, machine, name, ts). Its comment hoped btree deduplication would keep
-- that compact; it cannot — deduplication merges only entries whose whole key is equal, and ts
-- differs in every one. Worse, every series inserts into the middle of the index, so pages
-- split in half and stay half empty: the index grew larger than the table (125 MB per million
-- rows against 116 MB of heap) and held COPY to 0.36 of the unindexed ceiling.
--
-- A 64-bit hash of the series (or machine) followed by ts is a third of the size and lets COPY
-- run at 0.56 of the ceiling, with the same hot read ("one machine, one signal, one hour").
-- Readers filter on the key AND on the plain columns, so a hash collision only costs a row
-- that the plain filter drops; row-level security is unchanged.
CREATE FUNCTION tally_series_key(tenant text, machine text, name text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN hashtextextended(tenant || '/' || machine || '/' || name, 0);

CREATE FUNCTION tally_machine_key(tenant text, machine text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN hashtextextended(tenant || '/' || machine, 0);

GRANT EXECUTE ON FUNCTION tally_series_key(text, text, text) TO tally_app, tally_ingest;
GRANT EXECUTE ON FUNCTION tally_machine_key(text, text) TO tally_app, tally_ingest;

DROP INDEX counter_samples_lookup;
CREATE INDEX counter_samples_series ON counter_samples (tally_series_key(tenant, machine, name), ts);

DROP INDEX gauge_samples_lookup;
CREATE INDEX gauge_samples_series ON gauge_samples (tally_series_key(tenant, machine, name), ts);

-- One weighing per pack makes this the largest table; it is read per machine and time range.
DROP INDEX weighings_lookup;
CREATE INDEX weighings_machine ON weighings (tally_machine_key(tenant, machine), ts);
