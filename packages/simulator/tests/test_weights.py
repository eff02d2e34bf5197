"""Portion weights: whole decigrams, filled above Qn, underweight rejected below T1 (or T2 on a
loosely set checkweigher), underfill episodes now and then, catch-weight has no limit."""

from __future__ import annotations

import random
import statistics
from typing import Literal

from tally.contracts import RejectReason
from tally.registry import limits
from tally.simulator import ArticleSpec
from tally.simulator._weights import UNDERFILL_PACKS, Portions

SALAMI = ArticleSpec("salami-100", "Salami 100 g", 100.0, 18.9, 140.0)
WEDGE = ArticleSpec("wedge-cw", "Cheese wedge", None, 16.4, 70.0)
T1_DG, T2_DG = round(limits(100.0).t1_g * 10), round(limits(100.0).t2_g * 10)


def draw(
    article: ArticleSpec, n: int, seed: int = 3, rejects_below: Literal["t1", "t2"] = "t1"
) -> list[tuple[int, RejectReason | None]]:
    portions = Portions(article, random.Random(seed), rejects_below)
    return [portions.next() for _ in range(n)]


def test_fill_is_slightly_above_nominal() -> None:
    weights = [net / 10 for net, _ in draw(SALAMI, 20_000)]
    mean = statistics.fmean(weights)
    assert 100.5 < mean < 104.0
    assert 0.5 < statistics.pstdev(weights) < 3.0


def test_underweight_is_exactly_below_t1() -> None:
    for net, reason in draw(SALAMI, 50_000):
        if reason in (None, RejectReason.UNDERWEIGHT):
            assert (reason is RejectReason.UNDERWEIGHT) == (net < T1_DG)


def test_a_loose_checkweigher_passes_packs_between_t2_and_t1() -> None:
    drawn = draw(SALAMI, 300_000, rejects_below="t2")
    for net, reason in drawn:
        if reason in (None, RejectReason.UNDERWEIGHT):
            assert (reason is RejectReason.UNDERWEIGHT) == (net < T2_DG)
    assert any(reason is None and T2_DG <= net < T1_DG for net, reason in drawn)


def test_underfill_episodes_bring_the_mean_below_nominal_for_a_while() -> None:
    weights = [net for net, _ in draw(SALAMI, 300_000, seed=5)]
    means = [
        statistics.fmean(weights[i : i + UNDERFILL_PACKS // 2])
        for i in range(0, len(weights), UNDERFILL_PACKS // 2)
    ]
    assert min(means) < 1000  # some stretch of packs averages below Qn
    assert statistics.median(means) > 1000


def test_rare_foreign_matter_rejects() -> None:
    reasons = [reason for _, reason in draw(SALAMI, 100_000)]
    assert 0 < reasons.count(RejectReason.METAL) < 40
    assert 0 < reasons.count(RejectReason.FOREIGN_BODY) < 25


def test_catch_weight_is_never_underweight() -> None:
    drawn = draw(WEDGE, 20_000)
    assert all(reason is not RejectReason.UNDERWEIGHT for _, reason in drawn)
    assert 2000 < statistics.fmean(net for net, _ in drawn) < 3200


def test_same_seed_same_weights() -> None:
    assert draw(SALAMI, 500, seed=9) == draw(SALAMI, 500, seed=9)
