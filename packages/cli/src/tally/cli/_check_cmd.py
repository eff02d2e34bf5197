"""`tally check`: everything that can be proven before anything runs; `tally lock` records it.

    tally check              format, lint, types, imports, the service graph, endpoints,
                             contracts, SQL, security
    tally check --graph      print the service graph as Mermaid text
    tally check --asyncapi FILE    write an AsyncAPI 3 document of every topic
    tally check --offline    never start a database: SQL is checked against sql.lock.json only
    tally check --db         prepare every statement against a database, even with a fresh lock
    tally lock               record contracts.lock.json, sql.lock.json, docs/service-graph.md

The tools (ruff, mypy --strict) run as subprocesses in parallel with the in-process steps, so a
run with warm caches takes about as long as mypy's incremental run. Each failure names the file
and line, or the topic and field, and the rule; the command fails if any step does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tally.cli._paths import migrations_dir, state_dir, workspace_root
from tally.cli.checks import _steps
from tally.cli.checks._outcome import Outcome
from tally.cli.checks._sql import Mode
from tally.cli.checks._workspace import Workspace, load_workspace

_TOOLS: list[tuple[str, list[str]]] = [
    ("format", ["ruff", "format", "--check", "."]),
    ("lint", ["ruff", "check", "."]),
    ("types", ["mypy", "packages", "services", "tests", "benchmarks"]),
]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser("check", help="prove the workspace fits together")
    check.add_argument("--graph", action="store_true", help="print the service graph (Mermaid)")
    check.add_argument("--asyncapi", metavar="FILE", type=Path, help="write an AsyncAPI 3 file")
    database = check.add_mutually_exclusive_group()
    database.add_argument("--offline", action="store_true", help="SQL from sql.lock.json only")
    database.add_argument("--db", action="store_true", help="SQL against a database, always")
    check.set_defaults(run=run)
    lock = commands.add_parser("lock", help="record contracts, SQL and the service graph")
    lock.set_defaults(run=run_lock)


def run(args: argparse.Namespace) -> int:
    root = workspace_root()
    if args.graph or args.asyncapi:
        return _outputs(load_workspace(root), args)
    mode: Mode = "offline" if args.offline else "db" if args.db else "auto"
    with ThreadPoolExecutor(len(_TOOLS)) as pool:
        tools = [(name, pool.submit(_tool, command, root)) for name, command in _TOOLS]
        started = time.monotonic()
        workspace = load_workspace(root)
        loaded = time.monotonic() - started
        failed = [] if _report("code", workspace.import_outcome(), loaded) else ["code"]
        steps: list[tuple[str, Callable[[Workspace], Outcome]]] = [
            ("graph", _steps.graph),
            ("endpoints", _steps.endpoints),
            ("contracts", _steps.contracts),
            ("imports", _steps.imports),
        ]
        failed += [name for name, step in steps if not _report(name, *_timed(step, workspace))]
        started = time.monotonic()
        schema = _steps.schema(workspace, mode, migrations_dir(), state_dir() / "check")
        took = time.monotonic() - started
        # One scratch database serves both: its time is the SQL step's.
        failed += [] if _report("sql", schema.sql, took) else ["sql"]
        failed += [] if _report("security", schema.security) else ["security"]
        failed += [name for name, future in tools if not _report(name, *future.result())]
    if failed:
        print(f"tally check failed: {', '.join(failed)}")
        return 1
    print("tally check passed")
    return 0


def run_lock(args: argparse.Namespace) -> int:
    started = time.monotonic()
    workspace = load_workspace(workspace_root())
    results = _steps.lock(workspace, migrations_dir(), state_dir() / "check")
    failed = [name for name, outcome in results if not _report(name, outcome)]
    seconds = time.monotonic() - started
    if failed:
        print(f"tally lock ({seconds:.1f} s): {', '.join(failed)} need fixing (see above)")
        return 1
    print(f"tally lock done ({seconds:.1f} s); review and commit the changed files")
    return 0


def _outputs(workspace: Workspace, args: argparse.Namespace) -> int:
    if args.asyncapi:
        _steps.write_asyncapi(workspace, args.asyncapi)
        print(f"wrote {args.asyncapi}", file=sys.stderr)
    if args.graph:
        print(_steps.graph_text(workspace), end="")
    outcome = _steps.graph(workspace)
    for error in outcome.errors:
        print(f"✗ {error}", file=sys.stderr)
    return 0 if outcome.ok else 1


def _timed(step: Callable[[Workspace], Outcome], workspace: Workspace) -> tuple[Outcome, float]:
    started = time.monotonic()
    outcome = step(workspace)
    return outcome, time.monotonic() - started


def _tool(command: list[str], root: Path) -> tuple[Outcome, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=root, capture_output=True, text=True, check=False
    )
    output = f"{result.stdout}{result.stderr}".rstrip()
    outcome = Outcome(errors=[output] if result.returncode else [])
    return outcome, time.monotonic() - started


def _report(name: str, outcome: Outcome, seconds: float | None = None) -> bool:
    mark = "✓" if outcome.ok else "✗"
    took = "" if seconds is None else f" ({seconds:.1f} s)"
    summary = f": {outcome.summary}" if outcome.summary else ""
    print(f"{mark} {name}{took}{summary}")
    for error in outcome.errors:
        print(f"  ✗ {error}")
    for note in outcome.notes:
        print(f"  · {note}")
    return outcome.ok
