"""tally.cli: the `tally` command — demo, migrate, admin, run, check."""
