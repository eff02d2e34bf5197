"""One culprit stops a buffer-less line: upstream is blocked, downstream starved."""

from __future__ import annotations

from tally.contracts import AlarmCategory, Mode
from tally.simulator import ArticleSpec
from tally.simulator._alarms import AlarmSpec
from tally.simulator._states import (
    ABORTED,
    BLOCKED,
    CLEANING,
    EXECUTE,
    HELD_EQUIPMENT,
    HELD_EXTERNAL,
    STARVED,
    line_states,
)
from tally.simulator._timeline import Job, Segment, SegmentKind

JOB = Job(ArticleSpec("ham-200", "Ham", 200.0, 12.5, 110.0), "b1", "o1")
VACUUM = AlarmSpec("TF-355", AlarmCategory.EQUIPMENT, "Vacuum pump fault")
FILM = AlarmSpec("TF-410", AlarmCategory.MATERIAL, "Bottom film reel empty")


def segment(
    kind: SegmentKind, culprit: int = -1, *, alarm: AlarmSpec | None = None, severe: bool = False
) -> Segment:
    return Segment(0, 60, kind, JOB, culprit=culprit, alarm=alarm, severe=severe)


def test_thermoformer_fault_blocks_slicer_and_starves_the_rest() -> None:
    states = line_states(segment(SegmentKind.FAULT, 1, alarm=VACUUM), 4)
    assert states == (BLOCKED, HELD_EQUIPMENT, STARVED, STARVED)
    assert (BLOCKED.name, BLOCKED.sub_state) == ("Suspended", "tailback")
    assert (STARVED.name, STARVED.sub_state) == ("Suspended", "lack")


def test_reel_change_is_held_external() -> None:
    assert line_states(segment(SegmentKind.REEL, 1, alarm=FILM), 4)[1] == HELD_EXTERNAL


def test_severe_fault_aborts_in_maintenance() -> None:
    states = line_states(segment(SegmentKind.FAULT, 3, alarm=VACUUM, severe=True), 4)
    assert states == (BLOCKED, BLOCKED, BLOCKED, ABORTED)
    assert ABORTED.mode is Mode.MAINTENANCE


def test_planned_states_are_the_same_on_every_machine() -> None:
    assert line_states(segment(SegmentKind.RUN), 4) == (EXECUTE,) * 4
    assert line_states(segment(SegmentKind.CLEANING), 4) == (CLEANING,) * 4
    assert CLEANING.mode is Mode.CLEANING
