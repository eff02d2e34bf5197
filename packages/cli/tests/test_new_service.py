"""`tally new service`: what it writes imports, type-checks, lints and fits the service graph."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tally.cli.checks._graph import check_graph, service_node
from tally.cli.checks._scaffold import (
    TELEMETRY_TOPICS,
    NewService,
    add_member,
    create_service,
    declare_consumer,
)
from tally.cli.checks._sql import describe_on, verify
from tally.cli.checks._sql_describe import Description
from tally.cli.checks._workspace import DeclaredService
from tally.gateway.service import service as gateway
from tally.sdk import Endpoints, Query, SettingsError

ROOT = Path(__file__).resolve().parents[3]
NAME = "shift-report"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace root with the real pyproject.toml and one new service in it."""
    root = tmp_path_factory.mktemp("workspace")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / TELEMETRY_TOPICS).parent.mkdir(parents=True)
    shutil.copy(ROOT / TELEMETRY_TOPICS, root / TELEMETRY_TOPICS)
    create_service(root, NewService(NAME))
    return root


@pytest.fixture
def generated(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The new service module, imported from its source (it is not installed)."""
    monkeypatch.syspath_prepend(str(workspace / "services" / NAME / "src"))
    for name in [m for m in sys.modules if m.startswith("tally.shift_report")]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("tally.shift_report.service")


def test_the_service_is_made_a_workspace_member(workspace: Path) -> None:
    project = tomllib.loads((workspace / "pyproject.toml").read_text())
    assert "tally-shift-report" in project["project"]["dependencies"]
    assert project["tool"]["uv"]["sources"]["tally-shift-report"] == {"workspace": True}
    assert project["tool"]["mypy"]["mypy_path"].endswith(
        ":$MYPY_CONFIG_FILE_DIR/services/shift-report/src"
    )
    files = {
        p.relative_to(workspace / "services" / NAME).as_posix()
        for p in (workspace / "services" / NAME).rglob("*")
        if p.is_file()
    }
    assert {"README.md", "pyproject.toml", "tests/test_service.py"} <= files
    for module in ("__init__", "__main__", "settings", "service", "queries"):
        assert f"src/tally/shift_report/{module}.py" in files


def test_its_consumer_is_declared_by_the_telemetry_stream(workspace: Path) -> None:
    # The broker creates the declared consumers with the stream, so the new service's backlog
    # is kept from the start (and the SDK refuses to run an undeclared consumer).
    topics = (workspace / TELEMETRY_TOPICS).read_text()
    assert 'consumers=("recorder", "shift-report"),' in topics
    assert 'consumers=("a", "b"),' in declare_consumer(
        'TELEMETRY_STREAM = Stream(\n    consumers=("a",),\n)', "b"
    )
    assert 'consumers=("b",),' in declare_consumer("TELEMETRY_STREAM = Stream(consumers=(),)", "b")
    with pytest.raises(SettingsError, match="by hand"):
        declare_consumer("TELEMETRY_STREAM = Stream(name='T')", "b")


def test_its_service_consumes_a_topic_the_gateway_publishes(generated: ModuleType) -> None:
    nodes = [
        service_node(DeclaredService(gateway, "gateway")),
        service_node(DeclaredService(generated.service, "shift-report")),
    ]
    assert check_graph(nodes).errors == []


@pytest.mark.integration
async def test_its_sql_prepares_and_fits_its_declaration(
    generated: ModuleType, tally_endpoints: Endpoints
) -> None:
    queries = importlib.import_module("tally.shift_report.queries")
    statement = queries.line_of_machine
    assert isinstance(statement, Query)
    found = await describe_on(tally_endpoints.database_url, [statement], ROOT / "db" / "migrations")
    [description] = found.values()
    assert isinstance(description, Description), description
    assert verify(ROOT, statement, description) == []


def test_its_files_pass_ruff(workspace: Path) -> None:
    directory = workspace / "services" / NAME
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(directory)],
            cwd=workspace,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_its_files_pass_mypy_strict(workspace: Path) -> None:
    directory = workspace / "services" / NAME
    # The workspace's cache: only the new modules are checked afresh.
    options = [
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(ROOT / ".mypy_cache"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *options, "src/tally/shift_report", "tests"],
        cwd=directory,
        env={**os.environ, "MYPYPATH": str(directory / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_existing_name_or_a_bad_one_is_refused(workspace: Path) -> None:
    with pytest.raises(SettingsError, match="exists already"):
        create_service(workspace, NewService(NAME))
    with pytest.raises(SettingsError, match="lower-case"):
        NewService("Shift_Report")


def test_a_pyproject_without_the_expected_tables_is_refused() -> None:
    with pytest.raises(SettingsError, match="by hand"):
        add_member("[project]\nname = 'x'\n", NewService(NAME))
