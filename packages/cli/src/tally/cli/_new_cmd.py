"""`tally new service NAME`: scaffold a service that passes `tally check` and its tests at once.

Writes services/NAME, registers it in the root pyproject.toml, then records its SQL in
sql.lock.json and the new docs/service-graph.md (the SQL part of `tally lock`, against the
embedded PostgreSQL or TALLY_OWNER_DATABASE_URL). Then: `uv sync`, and `uv run tally check`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tally.cli._paths import migrations_dir, state_dir, workspace_root
from tally.cli.checks import _steps
from tally.cli.checks._scaffold import NewService, create_service
from tally.cli.checks._workspace import load_workspace, relative_to
from tally.sdk import TallyError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser("new", help="scaffold a new service")
    kinds = new.add_subparsers(title="what", required=True)
    service = kinds.add_parser("service", help="settings, one consumer, queries, tests, README")
    service.add_argument("name", help="lower-case letters, digits and '-', e.g. shift-report")
    service.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    root = workspace_root()
    service = NewService(args.name)
    for path in create_service(root, service):
        print(f"wrote {relative_to(root, str(path))}")
    # Not installed until `uv sync`; its source on the path is enough to record it now.
    sys.path.insert(0, str(root / "services" / service.name / "src"))
    importlib.invalidate_caches()
    workspace = load_workspace(root)
    try:
        results = _steps.lock(workspace, migrations_dir(), state_dir() / "check", contracts=False)
    except (TallyError, OSError) as error:
        print(f"could not record its SQL ({error}); run `uv run tally lock` with a database")
        return 1
    failed = False
    for name, outcome in results:
        print(f"{'✓' if outcome.ok else '✗'} {name}: {outcome.summary}")
        for problem in outcome.errors:
            print(f"  ✗ {problem}")
        failed = failed or not outcome.ok
    print(f"next: uv sync && uv run tally check && uv run pytest services/{service.name}")
    return 1 if failed else 0
