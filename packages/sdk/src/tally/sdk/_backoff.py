"""Exponential backoff with jitter, shared by consumers (redelivery delays) and the database
(transaction retries)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1: ``initial * factor**(n-1)``, capped, with ±``jitter`` spread so
    that many consumers failing together do not retry in lockstep."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the given (1-based) failed attempt."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        spread = base * self.jitter
        return max(0.0, base + random.uniform(-spread, spread))
