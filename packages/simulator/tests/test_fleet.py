"""The fleet is deterministic and has what the domain asks for."""

from __future__ import annotations

import re

from tally.simulator import build_fleet

MACHINE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def test_same_seed_same_fleet() -> None:
    assert build_fleet(5) == build_fleet(5)
    assert build_fleet(5) != build_fleet(6)


def test_three_vendors_with_sites_in_several_time_zones() -> None:
    fleet = build_fleet(1)
    assert [t.id for t in fleet.tenants] == ["alpenwerk", "nordslice", "iberpack"]
    for tenant in fleet.tenants:
        zones = [site.timezone for site in tenant.sites]
        assert 1 <= len(zones) <= 2
        assert len(set(zones)) == len(zones)
    assert len({s.timezone for t in fleet.tenants for s in t.sites}) >= 3


def test_lines_are_slicer_to_labeller_with_unique_valid_ids() -> None:
    fleet = build_fleet(2, tenants=5, lines_per_site=3)
    for tenant in fleet.tenants:
        ids = [p.machine.id for p in fleet.placements() if p.tenant is tenant]
        assert len(ids) == len(set(ids))
        assert all(MACHINE_ID.match(i) for i in ids)
        for site in tenant.sites:
            assert len(site.lines) == 3
            for line in site.lines:
                assert [m.type for m in line.machines] == [
                    "slicer",
                    "thermoformer",
                    "checkweigher",
                    "labeller",
                ]
                assert all(tenant.article(a) for a in line.articles)


def test_articles_include_catch_weight_and_every_one_is_run() -> None:
    fleet = build_fleet(3)
    tenant = fleet.tenants[0]
    nominal = {a.id: a.nominal_g for a in tenant.articles}
    assert nominal == {
        "salami-100": 100.0,
        "ham-200": 200.0,
        "gouda-150": 150.0,
        "emmental-250": 250.0,
        "wedge-cw": None,
    }
    run = {a for site in tenant.sites for line in site.lines for a in line.articles}
    assert run == set(nominal)


def test_a_fifteen_bit_counter_on_every_line() -> None:
    for placement in build_fleet(4).placements():
        if placement.machine.type == "slicer":
            assert placement.machine.counter_rollover == 32_767
