"""tally.bench: `tally bench` — tally against the hardware's ceilings and its peers, in one run.

    tally.bench.runner    run_bench(options, command): the whole run; writes
                          <results_dir>/<timestamp>.md and .json (BenchFailed: a stage failed)
    tally.bench.context   BenchOptions (what to run, on which servers, how often), Bench
    tally.bench.stages    STAGES, Stage: the stages in order (a typed registry: add new ones there)
    tally.bench.peers     the recorder's peers, each run as a process of its own
    tally.bench.servers   scratch_database, postgres_facts (shared with benchmarks/)
    tally.bench.machine   machine_facts, cpu_model

Every speed is a ratio to a ceiling or peer measured in the same run, in turns; CPU is summed
over every process involved (service, nats-server, every PostgreSQL backend). See
benchmarks/RESULTS.md for the latest full run and where the time goes.

This module imports nothing: a peer process (`python -m tally.bench.peers.…`) loads only what
it uses, so its memory is its own.
"""
