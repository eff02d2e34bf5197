"""Weighings summed exactly: decigrams and cents are integers, so nothing is rounded until a
figure is shown. One `WeighingTally` per ℮ lot (machine × article × local hour) and one per
machine × article × production day.

FIGURES.md, "Weights": every weighing counts in `packs` and, when rejected, in `rejects` by
reason; only accepted packs count in the weights — Σ net, Σ net², min, max, below T1, below T2,
and (fixed-weight articles) Σ Qn and giveaway Σ (net − Qn), negative terms included, valued at
the price valid at each pack's time. A lot complies when its mean is at least Qn, at most 2.5 %
of its packs lie strictly below T1, and none strictly below T2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Giveaway value: decigrams (1e-4 kg) × cents per kg (1e-2) = 1e-6 of a currency unit.
MICROS_PER_UNIT = 1_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """An article's terms for a pack, in decigrams and cents (Qn None: catch-weight)."""

    nominal_dg: int | None
    t1_dg: int | None
    t2_dg: int | None
    price_cents: int


@dataclass(slots=True)
class WeighingTally:
    """The weighings of one article on one checkweigher over a lot or a day."""

    nominal_dg: int | None
    packs: int = 0
    accepted: int = 0
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    net_dg: int = 0
    net_sq_dg: int = 0
    min_dg: int | None = None
    max_dg: int | None = None
    below_t1: int = 0
    below_t2: int = 0
    declared_dg: int = 0
    giveaway_dg: int = 0
    giveaway_micros: int = 0

    def add(self, net_dg: int, reject_reason: str | None, limits: Limits) -> None:
        """Count one weighing."""
        self.packs += 1
        if reject_reason is not None:
            reasons = self.rejects_by_reason
            reasons[reject_reason] = reasons.get(reject_reason, 0) + 1
            return
        self.accepted += 1
        self.net_dg += net_dg
        self.net_sq_dg += net_dg * net_dg
        self.min_dg = net_dg if self.min_dg is None else min(self.min_dg, net_dg)
        self.max_dg = net_dg if self.max_dg is None else max(self.max_dg, net_dg)
        nominal = limits.nominal_dg
        if nominal is None or limits.t1_dg is None or limits.t2_dg is None:
            return
        self.below_t1 += net_dg < limits.t1_dg
        self.below_t2 += net_dg < limits.t2_dg
        self.declared_dg += nominal
        self.giveaway_dg += net_dg - nominal
        self.giveaway_micros += (net_dg - nominal) * limits.price_cents

    @property
    def rejects(self) -> int:
        """Rejected packs."""
        return self.packs - self.accepted

    @property
    def mean_g(self) -> float | None:
        """Mean net weight of accepted packs in grams."""
        return self.net_dg / self.accepted / 10 if self.accepted else None

    @property
    def sigma_g(self) -> float | None:
        """Population standard deviation of accepted packs' net weight in grams."""
        n = self.accepted
        if not n:
            return None
        # n²·variance in decigrams², exact as an integer.
        scaled = n * self.net_sq_dg - self.net_dg * self.net_dg
        return math.sqrt(scaled) / n / 10

    @property
    def compliant(self) -> bool | None:
        """The ℮ verdict; None for catch-weight or when no pack was accepted."""
        nominal, n = self.nominal_dg, self.accepted
        if nominal is None or not n:
            return None
        mean_ok = self.net_dg >= nominal * n
        # At most 2.5 % below T1, inclusive: 40 × below ≤ n.
        return mean_ok and 40 * self.below_t1 <= n and self.below_t2 == 0
