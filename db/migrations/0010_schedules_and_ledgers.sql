-- Scheduled jobs run once across every process of a service (tally.sdk's scheduler), and any
-- consumer may keep a ledger of the messages it has handled (tally.sdk's Ledger).

-- One row per slot of a scheduled job that some process claimed: who holds it (`claim`, a
-- token per attempt) until when (`lease_until`, renewed while the job runs), and whether it
-- finished. A slot is claimed when it has no row, or its row is unfinished and its lease ran
-- out (the process died, or the job failed and let go). Platform bookkeeping, no tenant data:
-- no row-level security, only the services' roles may touch it.
CREATE TABLE tally_schedule_runs (
    service     text NOT NULL,
    schedule    text NOT NULL,
    slot        text NOT NULL,
    due         timestamptz NOT NULL,
    claim       text NOT NULL,
    lease_until timestamptz NOT NULL,
    attempts    integer NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- The last attempt's error, for an operator; cleared by the next claim.
    failure     text,
    PRIMARY KEY (service, schedule, slot)
);

-- Runs due before `settled_before` are forgotten (their rows pruned) and never run again, so
-- raising a schedule's look-back cannot bring back slots whose record is gone.
CREATE TABLE tally_schedule_horizons (
    service        text NOT NULL,
    schedule       text NOT NULL,
    settled_before timestamptz NOT NULL,
    PRIMARY KEY (service, schedule)
);

REVOKE ALL ON tally_schedule_runs, tally_schedule_horizons FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON tally_schedule_runs, tally_schedule_horizons
    TO tally_app, tally_ingest;

-- A consumer's ledger is a table declared with tally_declare_partitioned (partitioned by day,
-- expired with the data it protects by tally_expire_datapoints). Its partitions must exist
-- before the consumer writes a day that is not yet there (late data): consumers logging in as
-- tally_app create them on demand as the recorder does (bounded: 400 days a call, of declared
-- tables only, each secured as it is made).
GRANT EXECUTE ON FUNCTION tally_ensure_partitions(date, date) TO tally_app;
