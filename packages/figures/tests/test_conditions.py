"""The state timeline: no data before the first state and inside gaps, stops as maximal
non-running stretches."""

from __future__ import annotations

from tally.figures._conditions import NO_DATA, RUNNING, gaps, pieces, stretches
from tally.figures._raw import StateRow


def state(t: float, name: str) -> StateRow:
    return StateRow(t, name, "packml", "production", None)


def category(row: StateRow) -> str:
    return RUNNING if row.name == "Execute" else "equipment_failure"


def test_gaps_are_silences_longer_than_the_threshold() -> None:
    assert gaps([0, 30, 100, 160, 161], 60) == [(30, 100)]


def test_no_data_before_the_first_state_and_inside_a_gap() -> None:
    found = pieces([state(10, "Execute"), state(50, "Held")], [(60, 200)], 0, 300, category)
    assert [(p.start, p.end, p.category) for p in found] == [
        (0, 10, NO_DATA),
        (10, 50, RUNNING),
        (50, 60, "equipment_failure"),
        (60, 200, NO_DATA),
        (200, 300, "equipment_failure"),
    ]


def test_a_stop_runs_from_the_first_non_running_piece_to_the_next_running_one() -> None:
    found = pieces(
        [state(0, "Execute"), state(10, "Held"), state(20, "Execute")], [(12, 18)], 0, 30, category
    )
    runs = [[(p.start, p.end) for p in run] for run in stretches(found)]
    assert runs == [[(0, 10)], [(10, 12), (12, 18), (18, 20)], [(20, 30)]]
