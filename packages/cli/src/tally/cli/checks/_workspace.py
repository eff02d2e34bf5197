"""The workspace as `tally check` sees it: members, their code, and what that code declares.

Every member lives under packages/* or services/* with its code in `src/tally/<name>/`. All of
that code is imported (importing opens no connection: the style guide forbids it), which fills
the SDK's statement registry; the services are the `Service` objects of `tally.<name>.service`
for members under services/. Nothing is listed by hand, so nothing can be forgotten.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tally.cli.checks._outcome import Outcome
from tally.sdk import Command, Copy, Query, Service, Topic, registered_statements

Statement = Query[Any, Any] | Command[Any] | Copy[Any]


@dataclass(frozen=True)
class DeclaredService:
    """A `Service` and the file that declares it (relative to the workspace root)."""

    service: Service[Any, Any]
    source: str


@dataclass(frozen=True)
class Workspace:
    root: Path
    services: tuple[DeclaredService, ...]
    # Topics declared anywhere in the contracts package, used or not: each one is a promise.
    contract_topics: tuple[Topic[Any], ...]
    statements: tuple[Statement, ...]
    # Modules that failed to import: nothing else about them can be proven.
    import_errors: tuple[str, ...]
    modules: int

    @property
    def topics(self) -> tuple[Topic[Any], ...]:
        """Every topic of the contracts and the services, once per `Topic.name`."""
        found: dict[str, Topic[Any]] = {}
        for topic in self.contract_topics:
            found.setdefault(topic.name, topic)
        for declared in self.services:
            for topic in (
                *declared.service.publishes,
                *(c.topic for c in declared.service.consumers),
            ):
                found.setdefault(topic.name, topic)
        return tuple(found[name] for name in sorted(found))

    def import_outcome(self) -> Outcome:
        summary = f"{self.modules} modules, {len(self.statements)} SQL statements"
        return Outcome(errors=list(self.import_errors), summary=summary)


def relative_to(root: Path, file: str) -> str:
    """`file` relative to `root` when it is inside it, for short and machine-independent names."""
    path = Path(file)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file


def load_workspace(root: Path) -> Workspace:
    """Import every member's code under `root` and collect what it declares."""
    errors: list[str] = []
    modules: dict[str, ModuleType] = {}
    for name, file in _module_names(root):
        try:
            modules[name] = importlib.import_module(name)
        except Exception as error:
            errors.append(f"{relative_to(root, str(file))}: cannot import {name}: {error!r}")
    services = [
        DeclaredService(value, relative_to(root, str(module.__file__)))
        for name, module in modules.items()
        if _is_service_module(root, name, module)
        for value in vars(module).values()
        if isinstance(value, Service)
    ]
    for member in sorted((root / "services").glob("*/src/tally/*")):
        if f"tally.{member.name}.service" not in modules:
            errors.append(f"{relative_to(root, str(member))}: a service needs a service.py module")
    topics = [
        value
        for name, module in modules.items()
        if name.startswith("tally.contracts")
        for value in vars(module).values()
        if isinstance(value, Topic)
    ]
    statements = tuple(s for s in registered_statements() if _in_member_code(root, s.file))
    return Workspace(root, tuple(services), tuple(topics), statements, tuple(errors), len(modules))


def _module_names(root: Path) -> Iterator[tuple[str, Path]]:
    for package in sorted(
        [*root.glob("packages/*/src/tally/*"), *root.glob("services/*/src/tally/*")]
    ):
        if not (package / "__init__.py").is_file():
            continue
        for file in sorted(package.rglob("*.py")):
            parts = file.relative_to(package.parent.parent).with_suffix("").parts
            # __main__ runs a program; a pytest plugin only loads under pytest (and imports it).
            if parts[-1] in ("__main__", "pytest_plugin"):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), file


def _is_service_module(root: Path, name: str, module: ModuleType) -> bool:
    file = Path(str(module.__file__)).resolve()
    return name.endswith(".service") and file.is_relative_to((root / "services").resolve())


def _in_member_code(root: Path, file: str) -> bool:
    # Tests declare statements too (the SDK's own, planted faults): only members' src/ counts.
    parts = Path(relative_to(root, file)).parts
    return len(parts) > 3 and parts[0] in ("packages", "services") and parts[2] == "src"
