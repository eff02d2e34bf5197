"""Internal modules stay internal: another member imports only a package's public names.

A package's private parts are its modules and names that start with an underscore
(`tally.sdk._database`, `from tally.sdk.testing import _outcomes`, `from tally.sdk import
_x`); dunder modules such as `__main__` are public. The code and the tests of a member may use
its own private parts; every other file — another member, the end-to-end tests/, benchmarks/ —
imports what the package exports. ruff has no rule for this (TID251 bans listed modules, not a
pattern relative to the importing file), so this reads each file's imports with `ast`,
`TYPE_CHECKING` blocks included; imports by string (`importlib.import_module`) are not seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tally.cli.checks._outcome import Outcome

_FOLDERS = ("packages", "services", "tests", "benchmarks")
_MEMBER_FOLDERS = ("packages", "services")


def check_imports(root: Path) -> Outcome:
    """Every import of a private module or name of another member, with its file and line."""
    owners = _owners(root)
    files = sorted(f for folder in _FOLDERS for f in (root / folder).rglob("*.py"))
    outcome = Outcome(summary=f"{len(files)} files")
    for file in files:
        relative = file.relative_to(root)
        own = _own_package(relative, owners)
        try:
            tree = ast.parse(file.read_bytes(), filename=str(relative))
        except SyntaxError:
            continue  # the typing tests' planted failures, and ruff's to report
        for line, imported in _imports(tree):
            package = _package(imported)
            if package is None or package == own or not _private(imported):
                continue
            where = owners.get(package, "its member")
            outcome.errors.append(
                f"{relative.as_posix()}:{line}: imports {imported}, private to {where} [rule: "
                f"other members import only public names]; use what {package} exports, or "
                "export it there"
            )
    return outcome


def _owners(root: Path) -> dict[str, str]:
    """Import package (`tally.sdk`) → its member's folder (`packages/sdk`)."""
    return {
        f"tally.{package.name}": package.parents[2].relative_to(root).as_posix()
        for folder in _MEMBER_FOLDERS
        for package in sorted((root / folder).glob("*/src/tally/*"))
        if (package / "__init__.py").is_file()
    }


def _own_package(relative: Path, owners: dict[str, str]) -> str | None:
    parts = relative.parts
    if len(parts) < 2 or parts[0] not in _MEMBER_FOLDERS:
        return None
    member = f"{parts[0]}/{parts[1]}"
    return next((package for package, folder in owners.items() if folder == member), None)


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every absolute import; `from a import b` yields `a.b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _package(dotted: str) -> str | None:
    parts = dotted.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[0] == "tally" else None


def _private(dotted: str) -> bool:
    return any(p.startswith("_") and not p.endswith("__") for p in dotted.split(".")[2:])
