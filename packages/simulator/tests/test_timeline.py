"""A line's segments: contiguous, planned downtime where the calendar says, stops as specified."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime

from tally.simulator import build_fleet
from tally.simulator._timeline import Segment, SegmentKind, Timeline

START = int(datetime(2025, 6, 2, 4, tzinfo=UTC).timestamp())
WEEK = 7 * 86_400


def week(seed: int = 1) -> list[Segment]:
    tenant = build_fleet(seed).tenants[0]
    site = tenant.sites[0]
    line = site.lines[0]
    articles = tuple(tenant.article(a) for a in line.articles)
    segments: list[Segment] = []
    for segment in Timeline(site, line, articles, random.Random(seed), START):
        if segment.start >= START + WEEK:
            return segments
        segments.append(segment)
    raise AssertionError("the timeline is endless")


def test_contiguous_from_start() -> None:
    segments = week()
    assert segments[0].start == START
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))
    assert all(s.start < s.end for s in segments)


def test_stops_look_like_a_plant() -> None:
    segments = week()
    kinds = Counter(s.kind for s in segments)
    hours_run = sum(s.end - s.start for s in segments if s.kind is SegmentKind.RUN) / 3600
    assert all(s.end - s.start < 120 for s in segments if s.kind is SegmentKind.MICROSTOP)
    assert 2 <= kinds[SegmentKind.MICROSTOP] / hours_run <= 8
    assert 0.5 <= kinds[SegmentKind.FAULT] / 7 <= 12  # a few per shift, two or three shifts
    assert kinds[SegmentKind.REEL] > 0
    assert kinds[SegmentKind.CHANGEOVER] > 0
    assert kinds[SegmentKind.CLEANING] == 7
    faults = [s for s in segments if s.kind is SegmentKind.FAULT]
    assert all(s.alarm is not None and s.culprit >= 0 for s in faults)
    assert any(s.severe for s in faults)


def test_changeover_switches_article() -> None:
    segments = week()
    for before, changeover in itertools.pairwise(segments):
        if changeover.kind is SegmentKind.CHANGEOVER:
            assert changeover.job.article != before.job.article


def test_same_seed_same_timeline() -> None:
    assert week(4) == week(4)
