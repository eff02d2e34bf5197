"""Internal modules stay internal: planted imports of another member's private parts fail."""

from __future__ import annotations

from pathlib import Path

from tally.cli.checks._imports import check_imports

ROOT = Path(__file__).resolve().parents[3]
RULE = "[rule: other members import only public names]"


def workspace(root: Path, files: dict[str, str]) -> Path:
    """A workspace of two members (sdk, cli) and the given files."""
    for member in ("packages/sdk/src/tally/sdk", "packages/cli/src/tally/cli"):
        (root / member).mkdir(parents=True)
        (root / member / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_workspace_imports_only_public_names_of_other_members() -> None:
    assert check_imports(ROOT).errors == []


def test_private_modules_and_names_of_another_member_fail_with_file_line_and_rule(
    tmp_path: Path,
) -> None:
    root = workspace(
        tmp_path,
        {
            "packages/cli/src/tally/cli/_run.py": (
                "from tally.sdk import Database\n"
                "from tally.sdk._processes import parent_death_hook\n"
                "import tally.sdk._server_process as servers\n"
                "from tally.sdk import _embedded_nats\n"
                "from tally.sdk.testing._outcomes import eventually\n"
                "from tally.sdk import _hidden_name\n"
            ),
            "tests/test_pipeline.py": "from tally.cli._scrape import scrape\n",
            "benchmarks/run.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from tally.cli._paths import state_dir\n"
            ),
        },
    )
    errors = check_imports(root).errors
    assert [e.split(", private to")[0] for e in errors] == [
        "benchmarks/run.py:3: imports tally.cli._paths.state_dir",
        "packages/cli/src/tally/cli/_run.py:2: imports tally.sdk._processes.parent_death_hook",
        "packages/cli/src/tally/cli/_run.py:3: imports tally.sdk._server_process",
        "packages/cli/src/tally/cli/_run.py:4: imports tally.sdk._embedded_nats",
        "packages/cli/src/tally/cli/_run.py:5: imports tally.sdk.testing._outcomes.eventually",
        "packages/cli/src/tally/cli/_run.py:6: imports tally.sdk._hidden_name",
        "tests/test_pipeline.py:1: imports tally.cli._scrape.scrape",
    ]
    assert errors[1] == (
        "packages/cli/src/tally/cli/_run.py:2: imports tally.sdk._processes.parent_death_hook, "
        f"private to packages/sdk {RULE}; use what tally.sdk exports, or export it there"
    )


def test_a_member_and_its_tests_may_use_its_own_private_parts(tmp_path: Path) -> None:
    root = workspace(
        tmp_path,
        {
            "packages/sdk/src/tally/sdk/_database.py": "from tally.sdk._errors import TallyError\n",
            "packages/sdk/tests/test_database.py": "from tally.sdk._database import Database\n",
            "packages/cli/tests/test_main.py": (
                "from tally.cli.__main__ import main\n"  # a dunder module is public
                "from tally.sdk.testing import eventually\n"
                "from .conftest import ROOT\n"  # relative: within the tests' own folder
            ),
        },
    )
    assert check_imports(root).errors == []
