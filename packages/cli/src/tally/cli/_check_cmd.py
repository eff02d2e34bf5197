"""`tally check`: everything that can be proven before anything runs.

Today: formatting, lint and mypy --strict over every member, tests included (the type tests'
expected failures are checked by the test suite). Each step prints what failed, with file and
line; the command fails if any step does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from tally.cli._paths import workspace_root

_STEPS: list[tuple[str, list[str]]] = [
    ("format", ["ruff", "format", "--check", "."]),
    ("lint", ["ruff", "check", "."]),
    ("types", ["mypy", "packages", "services", "tests"]),
]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("check", help="format, lint and types of the whole workspace")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = workspace_root()
    failed: list[str] = []
    for name, command in _STEPS:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", *command], cwd=root, capture_output=True, text=True
        )
        seconds = time.monotonic() - started
        if result.returncode == 0:
            print(f"✓ {name} ({seconds:.1f} s)")
        else:
            failed.append(name)
            print(f"✗ {name} ({seconds:.1f} s)\n{result.stdout}{result.stderr}".rstrip())
    if failed:
        print(f"tally check failed: {', '.join(failed)}")
        return 1
    print("tally check passed")
    return 0
