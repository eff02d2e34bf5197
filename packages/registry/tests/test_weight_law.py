"""The ℮ table, checked against the examples in DOMAIN.md and the table's bands."""

from __future__ import annotations

import pytest

from tally.registry import limits, tne_g


@pytest.mark.parametrize(
    ("nominal", "t1", "t2"),
    [(100.0, 95.5, 91.0), (200.0, 191.0, 182.0)],
)
def test_domain_examples(nominal: float, t1: float, t2: float) -> None:
    law = limits(nominal)
    assert (law.t1_g, law.t2_g) == (t1, t2)


def test_percentages_round_up_to_a_tenth_of_a_gram() -> None:
    assert tne_g(150.0) == 6.8  # 4.5 % of 150 g is 6.75 g


@pytest.mark.parametrize(
    ("nominal", "tne"),
    [
        (5.0, 0.5),
        (40.0, 3.6),
        (75.0, 4.5),
        (250.0, 9.0),
        (400.0, 12.0),
        (750.0, 15.0),
        (2000.0, 30.0),
    ],
)
def test_every_band(nominal: float, tne: float) -> None:
    assert tne_g(nominal) == tne


def test_float_noise_does_not_round_up() -> None:
    assert tne_g(200.0) == 9.0  # 200 × 0.045 is 9.000000000000002 in floats


@pytest.mark.parametrize("nominal", [4.9, 10_001.0])
def test_outside_the_table_is_refused(nominal: float) -> None:
    with pytest.raises(ValueError, match="outside"):
        tne_g(nominal)
