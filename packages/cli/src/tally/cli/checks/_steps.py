"""The in-process steps of `tally check` and `tally lock`, on a loaded workspace.

Each takes the workspace and returns an `Outcome`; `_check_cmd` times and prints them. The
committed artefacts live at the workspace root (contracts.lock.json, sql.lock.json) and in
docs/service-graph.md; only `tally lock` writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tally.cli.checks._asyncapi import asyncapi_document
from tally.cli.checks._contracts import (
    CONTRACTS_LOCK,
    check_contracts,
    current_contracts,
    read_contracts_lock,
    write_contracts_lock,
)
from tally.cli.checks._graph import (
    GRAPH_DOC,
    ServiceNode,
    check_graph,
    graph_document,
    mermaid,
    service_node,
)
from tally.cli.checks._handlers import handler_faults
from tally.cli.checks._imports import check_imports
from tally.cli.checks._outcome import Outcome
from tally.cli.checks._sql import Mode, SchemaOutcomes, lock_sql, schema_steps
from tally.cli.checks._workspace import Workspace


def nodes(workspace: Workspace) -> list[ServiceNode]:
    return [service_node(declared) for declared in workspace.services]


def graph(workspace: Workspace) -> Outcome:
    """Topics have producers that agree with their consumers; docs/service-graph.md is current."""
    found = nodes(workspace)
    outcome = check_graph(found)
    document = workspace.root / GRAPH_DOC
    if not document.is_file() or document.read_text() != graph_document(found):
        outcome.errors.append(
            f"{GRAPH_DOC} does not show the current graph [rule: the committed graph is "
            "current]; run `tally lock` and commit it"
        )
    return outcome


def imports(workspace: Workspace) -> Outcome:
    """No member imports another's private modules or names."""
    return check_imports(workspace.root)


def endpoints(workspace: Workspace) -> Outcome:
    """Every handler takes and answers the types its endpoint declares."""
    found = [d for d in workspace.services if d.service.endpoints]
    faults = [fault for declared in found for fault in handler_faults(declared)]
    count = sum(len(d.service.endpoints) for d in found)
    return Outcome(errors=faults, summary=f"{count} endpoints of {len(found)} services")


def contracts(workspace: Workspace) -> Outcome:
    current = current_contracts(workspace.topics)
    return check_contracts(current, read_contracts_lock(workspace.root / CONTRACTS_LOCK))


def schema(workspace: Workspace, mode: Mode, migrations: Path, state_dir: Path) -> SchemaOutcomes:
    """SQL statements and the schema's security, from the lock or one scratch database."""
    return schema_steps(workspace.root, workspace.statements, mode, migrations, state_dir)


def graph_text(workspace: Workspace) -> str:
    return mermaid(nodes(workspace))


def write_asyncapi(workspace: Workspace, path: Path) -> None:
    document = asyncapi_document(nodes(workspace), workspace.topics)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def lock(
    workspace: Workspace, migrations: Path, state_dir: Path, *, contracts: bool = True
) -> list[tuple[str, Outcome]]:
    """Write the committed artefacts from the code; report what changed against the old ones.

    `contracts=False` leaves contracts.lock.json alone (`tally new` adds no contract, and must
    not record somebody's pending contract change on the side).
    """
    root = workspace.root
    results = [("contracts", _lock_contracts(root, workspace))] if contracts else []
    document = root / GRAPH_DOC
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(graph_document(nodes(workspace)))
    graph_outcome = workspace.import_outcome()
    graph_outcome.summary = f"wrote {GRAPH_DOC}"
    sql_outcome = lock_sql(root, workspace.statements, migrations, state_dir)
    return [*results, ("graph", graph_outcome), ("sql", sql_outcome)]


def _lock_contracts(root: Path, workspace: Workspace) -> Outcome:
    current = current_contracts(workspace.topics)
    old = read_contracts_lock(root / CONTRACTS_LOCK)
    accepted = check_contracts(current, old) if old is not None else Outcome()
    # Deliberate: breaking changes are recorded, and shown so that nobody records one unseen.
    outcome = Outcome(notes=accepted.errors + accepted.notes)
    outcome.summary = f"{len(current.topics)} topics in {CONTRACTS_LOCK}"
    write_contracts_lock(root / CONTRACTS_LOCK, current)
    return outcome
