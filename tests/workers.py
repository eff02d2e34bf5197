"""How `uv run pytest` splits the suite over its pytest-xdist workers (`-n auto`).

By file, as `--dist loadfile` does: a file's module fixtures (a simulated run, a service's
processes) are made once, on one worker. Besides, the files that run mypy with the
workspace's cache (`.mypy_cache`, an SQLite database) go to the same worker: two mypy runs
writing it at once can fail with "database is locked" on a cold cache, as in CI.

Files with a slow test are handed out first, the rest after them in collection order (not by
their number of tests, xdist's default): the long units start early and the many short ones
even out the workers' ends, instead of a fault scenario starting last while the other worker
idles.

Each worker has its own session fixtures: embedded NATS and PostgreSQL on free ports, its own
databases and streams, stopped when the worker ends; so no state is shared between workers.
"""

from __future__ import annotations

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadFileScheduling

# Files whose tests run mypy over the workspace with its shared cache.
SHARED_MYPY_CACHE = frozenset(
    {"tests/test_workspace_checks.py", "packages/cli/tests/test_new_service.py"}
)


class ByFile(LoadFileScheduling):
    """A file's tests on one worker; the files that share mypy's cache on the same one."""

    def _split_scope(self, nodeid: str) -> str:
        file = super()._split_scope(nodeid)
        return "mypy-cache" if file in SHARED_MYPY_CACHE else file


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with a test marked `slow` first; a file's tests stay together, in order."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> ByFile | None:
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist given on the command line: that one
    return ByFile(config, log)
