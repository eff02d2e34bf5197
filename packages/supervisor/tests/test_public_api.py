"""The supervisor's front door, pinned."""

from __future__ import annotations

import tally.supervisor


def test_the_supervisor_exports_exactly_its_public_names() -> None:
    assert tally.supervisor.__all__ == [
        "Samples",
        "ServiceProcess",
        "ServiceProcesses",
        "database_role",
        "scrape",
        "service_environment",
        "total",
    ]
