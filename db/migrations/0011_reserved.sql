-- Reserved: 0011 belongs to the accounts migration of a parallel branch (i9-rollup's
-- migration is 0012 and the runner refuses gaps). Dropped at merge in favour of that 0011.
SELECT 1;
