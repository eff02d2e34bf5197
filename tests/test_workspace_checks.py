"""`uv run pytest` is the one command that runs everything: this test runs `tally check`
(format, lint, mypy --strict, service graph, contract lock, SQL lock) over the workspace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_tally_check_passes_on_the_workspace() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tally.cli", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tally check passed" in result.stdout
