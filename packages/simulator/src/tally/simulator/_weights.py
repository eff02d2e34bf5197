"""Portion weights on the checkweigher and its verdict on each pack.

Fixed-weight articles are filled to a target slightly above Qn (operators aim high to stay legal,
which is where giveaway comes from): N(target, σ) with a slow drift and rare outliers. Now and
then the slicer is mis-set for a while (an underfill episode: the target falls below Qn), which
is what makes an hour's ℮ lot fail. Packs below T1 are rejected as underweight — or, on a
checkweigher set loosely, only those below T2 — and metal and foreign bodies are rare rejects of
any weight. Catch-weight packs have no Qn, so only foreign matter rejects them.

Weights are whole decigrams (0.1 g) from the start: a scale shows no more, and the ground truth
sums them as integers.
"""

from __future__ import annotations

import random
from typing import Literal

from tally.contracts import RejectReason
from tally.registry import limits
from tally.simulator._fleet import ArticleSpec

P_METAL = 0.000_1
P_FOREIGN_BODY = 0.000_05
P_OUTLIER = 0.003
# The drift is an AR(1) walk on the target, stepped every DRIFT_EVERY packs: its stationary
# spread is about 0.5 % of Qn, wandering over tens of minutes.
DRIFT_EVERY = 100
DRIFT_KEEP = 0.98
DRIFT_STEP = 0.001
# An underfill episode starts at a drift step with this chance (about one per 60,000 packs)
# and lasts UNDERFILL_PACKS packs with the target at (1 - UNDERFILL) × Qn.
P_UNDERFILL = 1 / 600
UNDERFILL_PACKS = 4000
UNDERFILL = (0.015, 0.03)
CATCH_WEIGHT_MEAN_G = 260.0
CATCH_WEIGHT_SIGMA_G = 35.0
LIGHTEST_DG = 10


class Portions:
    """Draws the net weight of successive packs of one article and classifies each."""

    __slots__ = (
        "_drift",
        "_left",
        "_limit",
        "_nominal",
        "_rng",
        "_sigma",
        "_t1",
        "_t2",
        "_target",
        "_underfill",
        "_underfill_left",
        "article",
    )

    def __init__(
        self,
        article: ArticleSpec,
        rng: random.Random,
        rejects_below: Literal["t1", "t2"] = "t1",
    ) -> None:
        self.article = article
        self._rng = rng
        self._nominal = article.nominal_g
        if article.nominal_g is None:
            self._target, self._sigma = CATCH_WEIGHT_MEAN_G, CATCH_WEIGHT_SIGMA_G
            self._t1 = self._t2 = 0
        else:
            qn = article.nominal_g
            self._target = qn * (1 + rng.uniform(0.015, 0.03))
            self._sigma = qn * rng.uniform(0.01, 0.015)
            law = limits(qn)
            self._t1, self._t2 = round(law.t1_g * 10), round(law.t2_g * 10)
        self._limit = self._t1 if rejects_below == "t1" else self._t2
        self._drift = 0.0
        self._left = DRIFT_EVERY
        self._underfill = 0.0
        self._underfill_left = 0

    @property
    def t1_dg(self) -> int:
        """T1 in decigrams (0 for catch-weight)."""
        return self._t1

    @property
    def t2_dg(self) -> int:
        """T2 in decigrams: no pack may be below it (0 for catch-weight)."""
        return self._t2

    def next(self) -> tuple[int, RejectReason | None]:
        """The next pack's net weight in decigrams and its reject reason, if any."""
        rng = self._rng
        self._left -= 1
        if not self._left:
            self._step()
        target = self._target * (1.0 - self._underfill) + self._drift
        chance = rng.random()
        if chance < P_OUTLIER:
            # A mis-cut or double portion: well off the target, either way.
            net = target * rng.uniform(0.85, 1.15)
        else:
            net = rng.gauss(target, self._sigma)
        net_dg = max(round(net * 10), LIGHTEST_DG)
        if chance >= 1.0 - P_METAL:
            return net_dg, RejectReason.METAL
        if chance >= 1.0 - P_METAL - P_FOREIGN_BODY:
            return net_dg, RejectReason.FOREIGN_BODY
        if net_dg < self._limit:
            return net_dg, RejectReason.UNDERWEIGHT
        return net_dg, None

    def _step(self) -> None:
        rng = self._rng
        self._left = DRIFT_EVERY
        scale = self._nominal or CATCH_WEIGHT_MEAN_G
        self._drift = self._drift * DRIFT_KEEP + rng.gauss(0.0, scale * DRIFT_STEP)
        if self._underfill_left > 0:
            self._underfill_left -= DRIFT_EVERY
            if self._underfill_left <= 0:
                self._underfill = 0.0
        elif self._nominal is not None and rng.random() < P_UNDERFILL:
            # Relative to the target, so the target sinks to (1 - UNDERFILL) × Qn or so.
            low, high = UNDERFILL
            self._underfill = 1.0 - self._nominal * (1 - rng.uniform(low, high)) / self._target
            self._underfill_left = UNDERFILL_PACKS
