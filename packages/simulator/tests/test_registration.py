"""The simulated fleet registered with everything the figures need; registering it again
changes no history, only the tokens."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from tally.registry import RegistrySnapshot, load_snapshot
from tally.sdk import Database
from tally.simulator import Fleet, build_fleet, provision

REPRICED = datetime(2025, 6, 1, 12, tzinfo=UTC)


def history(snapshot: RegistrySnapshot) -> object:
    """What a snapshot says about lines, machines and articles over time, as plain values."""
    return (
        snapshot.settings,
        {m: snapshot.memberships(m, -math.inf, math.inf) for m in sorted(snapshot.machines)},
        {a: snapshot.article_terms(a) for a in ("salami-100", "wedge-cw")},
        sorted(snapshot.machines.values(), key=lambda m: m.machine),
        {
            name: (line.constraint_machine, line.end_of_line_machine, line.site.site)
            for name, line in snapshot.lines.items()
        },
    )


async def snapshots(url: str, fleet: Fleet) -> dict[str, RegistrySnapshot]:
    # The owner's URL, as administration tools use it; the registry is read as tally_app.
    async with await Database.connect(url, max_size=1, switch_role=True) as database:
        return {t.id: await load_snapshot(database, t.id) for t in fleet.tenants}


@pytest.mark.integration
async def test_the_fleet_is_provisioned_with_what_the_figures_need(
    fresh_database_url: str,
) -> None:
    fleet = build_fleet(3, tenants=2, lines_per_site=1, repriced_at=REPRICED)
    first = await provision(fleet, fresh_database_url)
    loaded = await snapshots(fresh_database_url, fleet)
    for tenant in fleet.tenants:
        snapshot = loaded[tenant.id]
        assert snapshot.settings == tenant.settings
        for site in tenant.sites:
            for line in site.lines:
                view = snapshot.line(line.id)
                assert view is not None
                assert view.site.calendar.plan_of(date(2025, 6, 1)) == site.plan
                assert view.site.timezone == site.timezone
                assert view.constraint_machine == f"{line.id}-thermoformer"
                assert view.end_of_line_machine == f"{line.id}-checkweigher"
                for machine in line.machines:
                    assert snapshot.line_at(machine.id, 0) == line.id
                    view_machine = snapshot.machine(machine.id)
                    assert view_machine is not None
                    assert view_machine.max_rate_ppm == machine.max_rate_ppm
        for article in tenant.articles:
            terms = snapshot.article_terms(article.id)
            assert [(t.start, t.price_cents) for t in terms] == [
                (-math.inf, round(article.price_per_kg * 100)),
                (REPRICED.timestamp(), round(article.repriced[0][1] * 100)),
            ]
    again = await provision(fleet, fresh_database_url)
    assert again.keys() == first.keys()
    assert again != first  # fresh tokens
    reloaded = await snapshots(fresh_database_url, fleet)
    assert {t: history(s) for t, s in reloaded.items()} == {
        t: history(s) for t, s in loaded.items()
    }
