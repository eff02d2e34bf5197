"""tally.bench: `tally bench` — tally against the hardware's ceilings and its peers, in one run.

    run_bench(options, command)   the whole run; writes <results_dir>/<timestamp>.md and .json
    BenchOptions                  what to run, on which servers, how often
    STAGES, Stage                 the stages in order (a typed registry: add new ones there)
    peers                         the recorder's peers, each run as a process of its own
    scratch_database, postgres_facts, cpu_model   shared with the scripts in benchmarks/

Every speed is a ratio to a ceiling or peer measured in the same run, in turns; CPU is summed
over every process involved (service, nats-server, every PostgreSQL backend). See
benchmarks/RESULTS.md for the latest full run and where the time goes.
"""

from tally.bench.context import BenchOptions
from tally.bench.machine import cpu_model
from tally.bench.runner import BenchFailed, run_bench
from tally.bench.servers import postgres_facts, scratch_database
from tally.bench.stages import STAGES, Stage

__all__ = [
    "STAGES",
    "BenchFailed",
    "BenchOptions",
    "Stage",
    "cpu_model",
    "postgres_facts",
    "run_bench",
    "scratch_database",
]
