"""The figures' inputs over the admin API (what `tally admin plan|settings|line roles|machine
move|article version` do): real HTTP, real PostgreSQL under row-level security."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.api.tests.conftest import Api

pytestmark = pytest.mark.integration

PLAN: dict[str, Any] = {
    "name": "early",
    "shifts": [{"name": "early", "start": "06:00", "hours": 8}],
}


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


async def _fleet(client: httpx.AsyncClient, tenant: str) -> str:
    base = f"/v1/admin/tenants/{tenant}"
    await _ok(await client.put(base, json={"name": tenant}))
    await _ok(await client.put(f"{base}/sites/p1", json={"name": "P", "timezone": "Europe/Berlin"}))
    for line in ("l1", "l2"):
        await _ok(await client.put(f"{base}/lines/{line}", json={"site": "p1", "name": line}))
    for machine, kind in (("tf", "thermoformer"), ("cw", "checkweigher")):
        body = {"line": "l1", "kind": kind}
        await _ok(await client.put(f"{base}/machines/{machine}", json=body))
    article = {"name": "Ham", "nominal_g": 200, "ideal_rate_ppm": 110, "price_per_kg": 12}
    await _ok(await client.put(f"{base}/articles/ham%2F1", json=article))
    return base


async def test_plans_are_set_listed_and_removed(api: Api, tenant: str) -> None:
    base = await _fleet(api.client, tenant)
    plans = f"{base}/sites/p1/plans"
    await _ok(await api.client.put(plans, json={"plan": PLAN}))
    later = {**PLAN, "shifts": [{**PLAN["shifts"][0], "hours": 9}]}
    saved = await _ok(await api.client.put(plans, json={"plan": later, "valid_from": "2025-07-01"}))
    assert saved["valid_from"] == "2025-07-01"
    listed = (await _ok(await api.client.get(plans)))["plans"]
    assert [p["valid_from"] for p in listed] == [None, "2025-07-01"]
    assert listed[1]["plan"]["shifts"][0]["hours"] == 9
    late = {**PLAN, "shifts": [{**PLAN["shifts"][0], "start": "23:00"}]}
    refused = await api.client.put(plans, json={"plan": late})
    assert refused.status_code == 422
    assert "production day" in refused.json()["detail"]
    too_long = await api.client.put(
        plans, json={"plan": {**PLAN, "shifts": [{**PLAN["shifts"][0], "hours": 25}]}}
    )
    assert (too_long.status_code, too_long.json()["field"]) == (422, "plan.shifts[0].hours")
    missing = await api.client.put(f"{base}/sites/nowhere/plans", json={"plan": PLAN})
    assert (missing.status_code, missing.json()["field"]) == (404, "site")
    await _ok(await api.client.delete(f"{plans}?from=2025-07-01"), 204)
    assert len((await _ok(await api.client.get(plans)))["plans"]) == 1


async def test_settings_are_read_and_set(api: Api, tenant: str) -> None:
    base = await _fleet(api.client, tenant)
    settings = await _ok(await api.client.get(f"{base}/settings"))
    assert settings["micro_stop_seconds"] > 0
    changed = {**settings, "micro_stop_seconds": 90, "changeover_is_loss": False}
    assert (await _ok(await api.client.put(f"{base}/settings", json=changed))) == changed
    assert (await _ok(await api.client.get(f"{base}/settings"))) == changed
    bad = {**settings, "state_rules": [{"category": "running"}]}
    refused = await api.client.put(f"{base}/settings", json=bad)
    assert (refused.status_code, refused.json()["field"]) == (422, "state_rules[0]")


async def test_line_roles_moves_and_versions(api: Api, tenant: str) -> None:
    base = await _fleet(api.client, tenant)
    roles = {"constraint_machine": "tf", "end_of_line_machine": "cw"}
    saved = await _ok(await api.client.put(f"{base}/lines/l1/roles", json=roles))
    assert saved == {"tenant": tenant, "line": "l1", **roles}
    wrong = await api.client.put(f"{base}/lines/l1/roles", json={"constraint_machine": "xx"})
    assert (wrong.status_code, wrong.json()["field"]) == (409, "constraint_machine")
    no_line = await api.client.put(f"{base}/lines/l9/roles", json={})
    assert (no_line.status_code, no_line.json()["field"]) == (404, "line")

    at = "2025-06-02T06:00:00+02:00"
    moves = f"{base}/machines/tf/moves"
    await _ok(await api.client.put(moves, json={"line": "l2", "valid_from": at}))
    listed = (await _ok(await api.client.get(moves)))["moves"]
    assert [(m["line"], m["valid_from"]) for m in listed] == [
        ("l1", None),
        ("l2", "2025-06-02T04:00:00Z"),
    ]
    naive = await api.client.put(moves, json={"line": "l1", "valid_from": "2025-06-02T06:00"})
    assert (naive.status_code, naive.json()["field"]) == (422, "valid_from")
    nowhere = await api.client.put(moves, json={"line": "l9", "valid_from": at})
    assert nowhere.status_code == 409
    ghost = await api.client.put(f"{base}/machines/ghost/moves", json={"line": "l1"})
    assert (ghost.status_code, ghost.json()["field"]) == (404, "machine")
    await _ok(await api.client.delete(moves, params={"at": at}), 204)
    assert len((await _ok(await api.client.get(moves)))["moves"]) == 1

    versions = f"{base}/article-versions/ham%2F1"
    body = {"valid_from": "2025-07-01T00:00:00Z", "nominal_g": 150, "ideal_rate_ppm": 120}
    await _ok(await api.client.put(versions, json=body))
    listed = (await _ok(await api.client.get(versions)))["versions"]
    assert [v["nominal_g"] for v in listed] == [200, 150]
    assert listed[1]["t1_g"] is not None
    missing = await api.client.put(f"{base}/article-versions/nope", json=body)
    assert (missing.status_code, missing.json()["field"]) == (404, "article")
    await _ok(await api.client.delete(versions, params={"from": "2025-07-01T00:00:00Z"}), 204)
    assert len((await _ok(await api.client.get(versions)))["versions"]) == 1


async def test_every_figure_input_endpoint_is_404_for_a_missing_tenant_and_401_without_token(
    api: Api,
) -> None:
    base = "/v1/admin/tenants/no-such-tenant"
    requests = [
        ("GET", f"{base}/sites/p1/plans", None),
        ("PUT", f"{base}/sites/p1/plans", {"plan": PLAN}),
        ("DELETE", f"{base}/sites/p1/plans", None),
        ("GET", f"{base}/settings", None),
        ("PUT", f"{base}/settings", {}),
        ("PUT", f"{base}/lines/l1/roles", {}),
        ("GET", f"{base}/machines/m/moves", None),
        ("PUT", f"{base}/machines/m/moves", {"line": "l1"}),
        ("DELETE", f"{base}/machines/m/moves", None),
        ("GET", f"{base}/article-versions/a", None),
        ("PUT", f"{base}/article-versions/a", {"ideal_rate_ppm": 100}),
        ("DELETE", f"{base}/article-versions/a", None),
    ]
    for method, path, body in requests:
        response = await api.client.request(method, path, json=body)
        assert (response.status_code, response.json()["field"]) == (404, "tenant"), path
        stranger = await api.client.request(method, path, json=body, headers={"Authorization": ""})
        assert stranger.status_code == 401


async def test_dates_at_datetimes_limits_are_422_naming_the_field(api: Api, tenant: str) -> None:
    base = await _fleet(api.client, tenant)
    terms = {"nominal_g": 200, "ideal_rate_ppm": 110, "price_per_kg": 12}
    for method, path, body, field in (
        ("PUT", f"{base}/sites/p1/plans", {"plan": PLAN, "valid_from": "9999-12-31"}, "valid_from"),
        ("DELETE", f"{base}/sites/p1/plans?from=0001-01-01", None, "from"),
        (
            "PUT",
            f"{base}/machines/tf/moves",
            {"line": "l2", "valid_from": "0001-01-01T00:00:00+05:00"},
            "valid_from",
        ),
        ("DELETE", f"{base}/machines/tf/moves?at=9999-12-31T23:59:59-05:00", None, "at"),
        (
            "PUT",
            f"{base}/article-versions/ham%2F1",
            {**terms, "valid_from": "9999-12-31T23:59:59Z"},
            "valid_from",
        ),
        ("DELETE", f"{base}/article-versions/ham%2F1?from=0001-01-01T00:00:00Z", None, "from"),
    ):
        refused = await api.client.request(method, path, json=body)
        assert (refused.status_code, refused.json()["field"]) == (422, field), refused.text
