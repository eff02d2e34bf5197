"""Repeated log lines: the first of a kind is written, its repeats counted in one line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tally.sdk import LogLimiter, log_context
from tally.sdk._logs import JsonFormatter
from tally.sdk.testing import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    """Keeps what a logger writes, formatted as the services write it."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("probe"))
        self.entries: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(json.loads(self.format(record)))

    @property
    def messages(self) -> list[object]:
        return [entry["msg"] for entry in self.entries]


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("tally.test.limiter")
    handler = Lines()
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def limiter(clock: Clock, **options: int) -> LogLimiter:
    return LogLimiter(logging.getLogger("tally.test.limiter"), clock=clock, **options)


def test_repeats_within_the_window_are_counted_in_one_line(lines: Lines) -> None:
    clock = Clock()
    log = limiter(clock)
    for n in range(1, 6):
        log.warning("db", "lookup %d failed", n)
        clock.now += 1
    clock.now += 6  # the window (10 s) has closed; a flood going on is counted anew
    log.warning("db", "lookup %d failed", 6)
    log.flush()

    assert lines.messages == [
        "lookup 1 failed",
        "lookup 5 failed (4 more in the last 10 s)",
        "lookup 6 failed (1 more in the last 1 s)",
    ]


def test_counts_are_kept_apart_by_kind_and_flushed(lines: Lines) -> None:
    clock = Clock()
    log = limiter(clock)
    for _ in range(3):
        log.warning(("retry", "ConnectionError"), "handler failed: %s", "database away")
        log.error(("dead letter", "rejected"), "dead-lettering: %s", "bad")
    log.flush()
    log.flush()  # nothing counted since: nothing written

    assert lines.messages == [
        "handler failed: database away",
        "dead-lettering: bad",
        "handler failed: database away (2 more in the last 1 s)",
        "dead-lettering: bad (2 more in the last 1 s)",
    ]
    assert [entry["level"] for entry in lines.entries] == ["warning", "error"] * 2


def test_a_kind_quiet_for_a_window_is_news_again(lines: Lines) -> None:
    clock = Clock()
    log = limiter(clock)
    log.warning("db", "away")
    clock.now += 30
    log.warning("db", "away again")

    assert lines.messages == ["away", "away again"]


def test_disabled_levels_cost_nothing_and_count_nothing(lines: Lines) -> None:
    log = limiter(Clock())
    for _ in range(3):
        log.log(logging.DEBUG, "db", "noise")
    log.flush()

    assert lines.messages == []


def test_the_kinds_remembered_are_bounded(lines: Lines) -> None:
    log = limiter(Clock(), max_kinds=2)
    log.warning("a", "a")
    log.warning("a", "a")
    log.warning("b", "b")
    log.warning("c", "c")  # "a" gives way, its count written first
    log.warning("a", "a")  # remembered no more: written again

    assert lines.messages == ["a", "b", "c", "a (1 more in the last 1 s)", "a"]


async def test_the_count_is_written_when_the_window_closes_without_the_contexts_of_one(
    lines: Lines,
) -> None:
    log = LogLimiter(logging.getLogger("tally.test.limiter"), window=0.2)
    for n in range(3):
        with log_context(msg_id=f"m{n}"):
            log.warning("db", "failed")

    await eventually(lambda: len(lines.entries) == 2, seconds=10)

    first, summary = lines.entries
    assert first["msg_id"] == "m0"
    assert summary["msg"] == "failed (2 more in the last 1 s)"
    assert "msg_id" not in summary
