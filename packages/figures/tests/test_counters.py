"""Counter samples into increases: rollover, reset, reboot, suspect jumps, proportional split."""

from __future__ import annotations

from tally.figures._counters import Increase, increases, spread
from tally.figures._raw import CounterRow

ROLLOVER_16 = 65_535


def sample(t: float, value: int, boot: str = "b1", seq: int = 0) -> CounterRow:
    return CounterRow(t, value, boot, seq)


def amounts(samples: list[CounterRow], max_rate: float | None = 600.0) -> list[Increase]:
    return list(increases(samples, ROLLOVER_16, max_rate))


def test_a_rising_counter_counts_its_differences() -> None:
    found = amounts([sample(0, 10), sample(1, 12), sample(2, 12), sample(3, 15)])
    assert [(i.start, i.end, i.amount, i.suspect) for i in found] == [
        (0, 1, 2, False),
        (2, 3, 3, False),
    ]


def test_a_plausible_wrap_is_a_rollover() -> None:
    # 65,530 → 4 in 1 s: 65,535 + 1 − 65,530 + 4 = 10 packs, within 600/min × 1 s + 1.
    assert [i.amount for i in amounts([sample(0, 65_530), sample(1, 4)])] == [10]


def test_an_implausible_wrap_is_a_reset() -> None:
    # 30,000 → 4: a wrap would be 35,540 packs in a second; the operator reset: 4 counted.
    assert [i.amount for i in amounts([sample(0, 30_000), sample(1, 4)])] == [4]


def test_after_a_reboot_a_drop_is_a_reset_and_a_rise_counts_on() -> None:
    dropped = amounts([sample(0, 65_530), sample(1, 4, boot="b2")])
    assert [i.amount for i in dropped] == [4]
    retained = amounts([sample(0, 100), sample(1, 103, boot="b2")])
    assert [i.amount for i in retained] == [3]


def test_a_jump_faster_than_the_machine_runs_is_suspect() -> None:
    (jump,) = amounts([sample(0, 0), sample(1, 500)])
    assert jump.suspect
    assert jump.amount == 500
    (fine,) = amounts([sample(0, 0), sample(60, 500)])
    assert not fine.suspect


def test_an_increase_is_split_in_proportion_to_time() -> None:
    assert spread(50, 70, 20, 0, 60) == 10
    assert spread(50, 70, 20, 60, 120) == 10
    assert spread(50, 70, 20, 120, 180) == 0
    # At one instant: wholly where that instant falls.
    assert spread(60, 60, 3, 60, 120) == 3
    assert spread(60, 60, 3, 0, 60) == 0
