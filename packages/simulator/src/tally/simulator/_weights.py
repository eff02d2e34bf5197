"""Portion weights on the checkweigher and its verdict on each pack.

Fixed-weight articles are filled to a target slightly above Qn (operators aim high to stay legal,
which is where giveaway comes from): N(target, σ) with a slow drift and rare outliers. Packs below
T1 are rejected as underweight; metal and foreign bodies are rare rejects of any weight.
Catch-weight packs have no Qn, so only foreign matter rejects them.
"""

from __future__ import annotations

import random

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
CATCH_WEIGHT_MEAN_G = 260.0
CATCH_WEIGHT_SIGMA_G = 35.0
LIGHTEST_G = 1.0


class Portions:
    """Draws the net weight of successive packs of one article and classifies each."""

    __slots__ = (
        "_drift",
        "_left",
        "_nominal",
        "_rng",
        "_sigma",
        "_t1",
        "_t2",
        "_target",
        "article",
    )

    def __init__(self, article: ArticleSpec, rng: random.Random) -> None:
        self.article = article
        self._rng = rng
        self._nominal = article.nominal_g
        if article.nominal_g is None:
            self._target, self._sigma = CATCH_WEIGHT_MEAN_G, CATCH_WEIGHT_SIGMA_G
            self._t1 = self._t2 = 0.0
        else:
            qn = article.nominal_g
            self._target = qn * (1 + rng.uniform(0.015, 0.03))
            self._sigma = qn * rng.uniform(0.01, 0.015)
            law = limits(qn)
            self._t1, self._t2 = law.t1_g, law.t2_g
        self._drift = 0.0
        self._left = DRIFT_EVERY

    @property
    def t1_g(self) -> float:
        """The underweight reject limit (0 for catch-weight)."""
        return self._t1

    @property
    def t2_g(self) -> float:
        """No pack may be below this (0 for catch-weight)."""
        return self._t2

    def next(self) -> tuple[float, RejectReason | None]:
        """The next pack's net weight in g (0.1 g resolution) and its reject reason, if any."""
        rng = self._rng
        self._left -= 1
        if not self._left:
            self._left = DRIFT_EVERY
            scale = self._nominal or CATCH_WEIGHT_MEAN_G
            self._drift = self._drift * DRIFT_KEEP + rng.gauss(0.0, scale * DRIFT_STEP)
        chance = rng.random()
        if chance < P_OUTLIER:
            # A mis-cut or double portion: well off the target, either way.
            net = (self._target + self._drift) * rng.uniform(0.85, 1.15)
        else:
            net = rng.gauss(self._target + self._drift, self._sigma)
        net = round(max(net, LIGHTEST_G), 1)
        if chance >= 1.0 - P_METAL:
            return net, RejectReason.METAL
        if chance >= 1.0 - P_METAL - P_FOREIGN_BODY:
            return net, RejectReason.FOREIGN_BODY
        if net < self._t1:
            return net, RejectReason.UNDERWEIGHT
        return net, None
