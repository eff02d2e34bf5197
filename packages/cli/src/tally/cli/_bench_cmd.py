"""`tally bench`: the argument parsing; the run itself is tally.bench (the optional part
tally-cli[bench], which the workspace installs)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys

from tally.cli._paths import migrations_dir, workspace_root

QUICK_DAYS = 0.01
FULL_DAYS = 0.05


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "bench",
        help="tally against the hardware's ceilings and its peers, in one run",
        description="Measures COPY and JetStream ceilings, the recorder's peers (hand-written "
        "nats-py + msgspec + asyncpg, FastStream + pydantic), the gateway, the recorder, the "
        "whole path end to end and a soak, on embedded servers (or TALLY_NATS_URL and "
        "TALLY_OWNER_DATABASE_URL), and writes benchmarks/results/<timestamp>.md and .json.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run, under two minutes")
    parser.add_argument(
        "--repeats", type=_at_least_one, default=None, help="turns per comparison (3; quick 2)"
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=None,
        metavar="SECONDS",
        help="soak length (600; quick 10; 0 skips it)",
    )
    parser.add_argument(
        "--workers", type=_at_least_one, default=1, help="processes per service (default 1)"
    )
    parser.add_argument(
        "--days",
        type=float,
        default=None,
        help=f"simulated days of the fleet in the corpus ({FULL_DAYS}; quick {QUICK_DAYS})",
    )
    parser.add_argument(
        "--only", default=None, help="comma-separated stage keys to run (default: all)"
    )
    parser.add_argument(
        "--results", default=None, help="output folder (default benchmarks/results)"
    )
    parser.add_argument(
        "--profile",
        default=None,
        metavar="DIR",
        help="py-spy the services and peers in each comparison's first turn into DIR "
        "(a run of its own: profiling shares the cores)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from tally.bench.context import BenchOptions
        from tally.bench.runner import BenchFailed, run_bench
    except ImportError as error:
        print(
            f"tally bench needs tally-cli[bench] (the benchmark member): {error}", file=sys.stderr
        )
        return 2
    from pathlib import Path

    soak = args.soak if args.soak is not None else (10.0 if args.quick else 600.0)
    only = tuple(k.strip() for k in args.only.split(",")) if args.only else None
    if soak <= 0:
        only = tuple(k for k in (only or _all_stages()) if k != "soak")
    options = BenchOptions(
        quick=args.quick,
        repeats=args.repeats or (2 if args.quick else 3),
        soak_seconds=soak,
        workers=args.workers,
        corpus_days=args.days or (QUICK_DAYS if args.quick else FULL_DAYS),
        nats_url=os.environ.get("TALLY_NATS_URL") or None,
        postgres_url=os.environ.get("TALLY_OWNER_DATABASE_URL") or None,
        results_dir=Path(args.results)
        if args.results
        else workspace_root() / "benchmarks" / "results",
        migrations=migrations_dir(),
        only=only,
        profile_dir=Path(args.profile).resolve() if args.profile else None,
    )
    command = "uv run tally " + shlex.join(
        sys.argv[1:] if sys.argv[1:2] == ["bench"] else ["bench"]
    )
    try:
        markdown, data = asyncio.run(run_bench(options, command))
    except BenchFailed as error:
        print(f"tally bench: {error}", file=sys.stderr)
        return 1
    print(markdown.read_text())
    print(f"written: {markdown} and {data}")
    return 0


def _all_stages() -> tuple[str, ...]:
    from tally.bench.stages import STAGES

    return tuple(stage.key for stage in STAGES)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
