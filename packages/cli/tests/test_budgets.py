"""Tenant budgets for the demo: what the fleet sends at the speed it is played at."""

from __future__ import annotations

from tally.cli._budgets import REGISTRY_RATE, fitted_rates
from tally.simulator import build_fleet, peak_datapoints_per_second


def test_budgets_fit_the_speed_with_room_for_replays() -> None:
    fleet = build_fleet(1)

    rates = fitted_rates(fleet, 3000)

    assert list(rates) == [tenant.id for tenant in fleet.tenants]
    for tenant in fleet.tenants:
        assert rates[tenant.id] >= 2 * 3000 * peak_datapoints_per_second(tenant)


def test_a_slow_fleet_keeps_the_registry_default() -> None:
    assert set(fitted_rates(build_fleet(1), 1.0).values()) == {REGISTRY_RATE}
