"""Portion weights: filled above Qn, underweight rejected below T1, catch-weight has no limit."""

from __future__ import annotations

import random
import statistics

from tally.contracts import RejectReason
from tally.registry import limits
from tally.simulator import ArticleSpec
from tally.simulator._weights import Portions

SALAMI = ArticleSpec("salami-100", "Salami 100 g", 100.0, 18.9, 140.0)
WEDGE = ArticleSpec("wedge-cw", "Cheese wedge", None, 16.4, 70.0)


def draw(article: ArticleSpec, n: int, seed: int = 3) -> list[tuple[float, RejectReason | None]]:
    portions = Portions(article, random.Random(seed))
    return [portions.next() for _ in range(n)]


def test_fill_is_slightly_above_nominal() -> None:
    weights = [net for net, _ in draw(SALAMI, 20_000)]
    mean = statistics.fmean(weights)
    assert 100.5 < mean < 104.0
    assert 0.5 < statistics.pstdev(weights) < 3.0


def test_underweight_is_exactly_below_t1() -> None:
    t1 = limits(100.0).t1_g
    for net, reason in draw(SALAMI, 50_000):
        if reason in (None, RejectReason.UNDERWEIGHT):
            assert (reason is RejectReason.UNDERWEIGHT) == (net < t1)


def test_rare_foreign_matter_rejects() -> None:
    reasons = [reason for _, reason in draw(SALAMI, 100_000)]
    assert 0 < reasons.count(RejectReason.METAL) < 40
    assert 0 < reasons.count(RejectReason.FOREIGN_BODY) < 25


def test_catch_weight_is_never_underweight() -> None:
    drawn = draw(WEDGE, 20_000)
    assert all(reason is not RejectReason.UNDERWEIGHT for _, reason in drawn)
    assert 200 < statistics.fmean(net for net, _ in drawn) < 320


def test_same_seed_same_weights() -> None:
    assert draw(SALAMI, 500, seed=9) == draw(SALAMI, 500, seed=9)
