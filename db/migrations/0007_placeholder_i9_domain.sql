-- Placeholder on branch i9-domain only: issue 7's lanes own migration 0007. Delete this file when
-- merging (the real 0007 takes its number); 0009 does not depend on what it holds.
SELECT 1;
