"""`tally demo`: the argument parsing; the run itself is in _demo."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path

from tally.cli._demo import DemoOptions, run_demo
from tally.cli._endpoints import endpoints


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="simulated packing lines of several tenants through gateway, NATS and PostgreSQL",
        description="Runs NATS and PostgreSQL (embedded unless TALLY_NATS_URL and "
        "TALLY_OWNER_DATABASE_URL are set), the gateway, the recorder, the rollup and the api "
        "as separate processes logged in as their own roles, and the simulated fleet; prints "
        "the dashboard's URL and a demo login, live progress, a summary and each line's "
        "production days as the API serves them. Ctrl-C stops cleanly.",
    )
    parser.add_argument(
        "--duration",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="stop after this wall time (default: until Ctrl-C)",
    )
    parser.add_argument(
        "--speed",
        type=_positive,
        default=720.0,
        help="simulated seconds per wall second (default 720: a day in 2 min)",
    )
    parser.add_argument(
        "--tenants", type=_at_least_one, default=3, help="number of tenants (default 3)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the fleet (default 1)")
    parser.add_argument(
        "--workers", type=_at_least_one, default=1, help="processes per service (default 1)"
    )
    parser.add_argument(
        "--backfill",
        type=float,
        default=0.0,
        metavar="DAYS",
        help="first send DAYS of history (flagged historical) as fast as the pipeline takes it",
    )
    parser.add_argument(
        "--report", type=Path, default=None, metavar="FILE", help="write the summary as JSON"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = DemoOptions(
        duration=args.duration,
        speed=args.speed,
        tenants=args.tenants,
        seed=args.seed,
        report=args.report,
        workers=args.workers,
        backfill_days=args.backfill,
    )
    with endpoints() as found:
        try:
            return asyncio.run(run_demo(found, options))
        except asyncio.CancelledError:
            # A second Ctrl-C: the services and servers are stopped on the way out all the same.
            print("tally demo: aborted", file=sys.stderr)
            return 130


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan  # not a number: the message below says what is wanted
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0  # not a whole number: the message below says what is wanted
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value
