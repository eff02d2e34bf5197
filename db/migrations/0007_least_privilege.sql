-- Placeholder on branch i7-gateway only, so that 0008 follows without a gap: lane "db" writes
-- the real 0007_least_privilege.sql, which replaces this file when the branches are merged.
SELECT 1;
