"""Where tally keeps its state and finds its migrations."""

from __future__ import annotations

import os
from pathlib import Path

from tally.sdk import SettingsError


def state_dir() -> Path:
    """Embedded servers' data, logs and reports: TALLY_STATE_DIR, or ./.tally."""
    path = Path(os.environ.get("TALLY_STATE_DIR") or ".tally").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def migrations_dir() -> Path:
    """db/migrations of the workspace: TALLY_MIGRATIONS, else found from here or the cwd."""
    given = os.environ.get("TALLY_MIGRATIONS")
    if given:
        return Path(given)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "db" / "migrations"
            if (candidate / "0001_roles.sql").is_file():
                return candidate
    raise SettingsError(
        "cannot find db/migrations: run tally from the workspace or set TALLY_MIGRATIONS"
    )


def workspace_root() -> Path:
    return migrations_dir().parents[1]
