"""Tenant budgets that fit the speed the demo plays the fleet at."""

from __future__ import annotations

import math

import msgspec

from tally.registry import Tenant
from tally.simulator import Fleet, peak_datapoints_per_second

REGISTRY_RATE: int = next(
    f.default for f in msgspec.structs.fields(Tenant) if f.name == "rate_per_second"
)
# Replays after a line's network outage come on top of what its machines send live.
_HEADROOM = 2.0


def fitted_rates(fleet: Fleet, speed: float) -> dict[str, int]:
    """Per tenant, a datapoint budget for playing the fleet at `speed`: its lines' peak rate
    times `speed` with room for replays, never below the registry's default."""
    return {
        tenant.id: max(
            REGISTRY_RATE, math.ceil(peak_datapoints_per_second(tenant) * speed * _HEADROOM)
        )
        for tenant in fleet.tenants
    }
