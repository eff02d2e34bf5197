"""Fixtures of the reports' tests: the sample days of `tally.reports.testing`."""

from __future__ import annotations

import pytest

from tally.contracts.figures import LineDay
from tally.reports.testing import busy_line_day, empty_line_day


@pytest.fixture
def busy() -> LineDay:
    return busy_line_day()


@pytest.fixture
def empty() -> LineDay:
    return empty_line_day()
