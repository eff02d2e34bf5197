"""`tally new service NAME`: a service that passes `tally check` and its tests as it is.

It writes services/NAME (settings, service with one consumer, queries, tests, README, pyproject)
and makes it a workspace member in the root pyproject.toml: a dependency of the workspace, a uv
source, and a mypy path. The command then records its SQL and the new graph (`_new_cmd`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tally.cli.checks import _scaffold_files as files
from tally.sdk import SettingsError

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")  # what `Service` accepts
_PORT = re.compile(r"default_port=(\d+)")


@dataclass(frozen=True)
class NewService:
    name: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or self.name.endswith("-"):
            raise SettingsError(
                f"service name {self.name!r}: use 1-32 lower-case letters, digits or '-', "
                "starting with a letter"
            )

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def distribution(self) -> str:
        return f"tally-{self.name}"

    def render(self, port: int) -> dict[str, str]:
        """Every file of the service, by path relative to services/NAME."""
        source = f"src/tally/{self.package}"
        templates = {
            "pyproject.toml": files.PYPROJECT,
            "README.md": files.README,
            f"{source}/__init__.py": files.INIT,
            f"{source}/__main__.py": files.MAIN,
            f"{source}/py.typed": "",
            f"{source}/settings.py": files.SETTINGS,
            f"{source}/queries.py": files.QUERIES,
            f"{source}/service.py": files.SERVICE,
            "tests/test_service.py": files.TESTS,
        }
        values = {
            "{{name}}": self.name,
            "{{pkg}}": self.package,
            "{{Class}}": self.class_prefix,
            "{{ENV}}": self.package.upper(),
            "{{port}}": str(port),
            # The SDK's default operations port: the service's port + 1000.
            "{{ops_port}}": str(port + 1000),
        }
        rendered = {}
        for path, text in templates.items():
            for key, value in values.items():
                text = text.replace(key, value)
            rendered[path] = text
        return rendered


def create_service(root: Path, service: NewService) -> list[Path]:
    """Write services/NAME and register it in the root pyproject.toml; the paths written."""
    taken = [
        *root.glob(f"packages/*/src/tally/{service.package}"),
        root / "services" / service.name,
    ]
    if any(path.exists() for path in taken):
        raise SettingsError(f"{service.name!r} exists already in the workspace; pick another name")
    pyproject = root / "pyproject.toml"
    registered = add_member(pyproject.read_text(), service)
    directory = root / "services" / service.name
    written = []
    for relative, text in service.render(next_port(root)).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    pyproject.write_text(registered)
    _settle_style(root, directory)
    return [*written, pyproject]


def _settle_style(root: Path, directory: Path) -> None:
    """Sort imports and wrap lines with the workspace's ruff: both depend on the name."""
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, str(directory)],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SettingsError(f"ruff {command[0]} of {directory} failed: {done.stderr.strip()}")


def next_port(root: Path) -> int:
    """One above the highest default port of the existing services (from 8080)."""
    ports = [
        int(match)
        for path in root.glob("services/*/src/tally/*/service.py")
        for match in _PORT.findall(path.read_text())
    ]
    return max([8079, *ports]) + 1


def add_member(pyproject: str, service: NewService) -> str:
    """The root pyproject.toml with the service as dependency, uv source and mypy path."""
    dist = service.distribution
    source_dir = f"$MYPY_CONFIG_FILE_DIR/services/{service.name}/src"
    edits = [
        (r"(?ms)(^\[project\].*?^dependencies = \[\n.*?)(^\])", rf'\g<1>    "{dist}",\n\g<2>'),
        (
            r"(?ms)(^\[tool\.uv\.sources\]\n(?:[^\[\n][^\n]*\n)*?)(\n*(?=^\[)|\Z)",
            rf"\g<1>{dist} = {{ workspace = true }}\n\g<2>",
        ),
        (r'(?m)^(mypy_path = ".*?)"$', rf'\g<1>:{source_dir}"'),
    ]
    for pattern, replacement in edits:
        pyproject, count = re.subn(pattern, replacement, pyproject, count=1)
        if count != 1:
            raise SettingsError(
                f"cannot find where to add {dist} in pyproject.toml ({pattern}); add it to "
                "[project] dependencies, [tool.uv.sources] and [tool.mypy] mypy_path by hand"
            )
    parsed = tomllib.loads(pyproject)
    assert dist in parsed["project"]["dependencies"], "the edit must have added the dependency"
    assert dist in parsed["tool"]["uv"]["sources"], "the edit must have added the source"
    return pyproject
