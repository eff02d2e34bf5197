"""Tenant administration end to end: real HTTP, real PostgreSQL under row-level security."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from services.api.tests.conftest import ADMIN_TOKEN, Api
from tally.api.service import service
from tally.api.settings import ApiSettings
from tally.sdk import Database, MemoryBroker, Secret, ServiceHost
from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration


async def _put(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.put(path, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _fleet(client: httpx.AsyncClient, tenant: str, *, machine: str = "l1-cw") -> None:
    """A tenant with one site, line and machine."""
    base = f"/v1/admin/tenants/{tenant}"
    await _put(client, base, {"name": f"{tenant} GmbH"})
    await _put(client, f"{base}/sites/p1", {"name": "Kempten", "timezone": "Europe/Berlin"})
    await _put(client, f"{base}/lines/l1", {"site": "p1", "name": "Line 1"})
    await _put(client, f"{base}/machines/{machine}", {"line": "l1", "kind": "checkweigher"})


async def test_a_fleet_is_created_and_listed(api: Api, tenant: str) -> None:
    client, base = api.client, f"/v1/admin/tenants/{tenant}"

    saved = await _put(client, base, {"name": "Alpenwerk GmbH", "retention_days": 90})
    site = await _put(
        client,
        f"{base}/sites/p1",
        {"name": "Kempten", "timezone": "Europe/Berlin", "day_start": "05:30:00"},
    )
    line = await _put(client, f"{base}/lines/l1", {"site": "p1", "name": "Line 1"})
    machine = await _put(
        client,
        f"{base}/machines/l1-cw",
        {"line": "l1", "kind": "checkweigher", "position": 3, "counter_rollover": 65535},
    )
    article = await _put(
        client,
        f"{base}/articles/salami-100",
        {"name": "Salami 100 g", "nominal_g": 100, "ideal_rate_ppm": 120, "price_per_kg": 14.9},
    )

    assert saved == {
        "tenant": tenant,
        "name": "Alpenwerk GmbH",
        "rate_per_second": 20000,
        "retention_days": 90,
    }
    assert (await client.get(base)).json() == saved
    assert (await client.get(f"{base}/sites")).json() == {"sites": [site]}
    assert site["day_start"] == "05:30:00"
    assert (await client.get(f"{base}/lines")).json() == {"lines": [line]}
    assert (await client.get(f"{base}/machines")).json() == {"machines": [machine]}
    assert machine["state_model"] == "packml"
    assert (await client.get(f"{base}/articles")).json() == {"articles": [article]}
    assert (article["tne_g"], article["t1_g"], article["t2_g"]) == (4.5, 95.5, 91.0)


async def test_a_put_again_updates_the_entry(api: Api, tenant: str) -> None:
    await _fleet(api.client, tenant)
    base = f"/v1/admin/tenants/{tenant}"
    await _put(
        api.client,
        f"{base}/articles/cheese",
        {"name": "Cheese", "nominal_g": None, "ideal_rate_ppm": 80},
    )
    await _put(
        api.client,
        f"{base}/articles/cheese",
        {"name": "Brie", "nominal_g": None, "ideal_rate_ppm": 90},
    )

    [article] = (await api.client.get(f"{base}/articles")).json()["articles"]
    assert article["name"] == "Brie"
    assert article["ideal_rate_ppm"] == 90.0
    assert (article["nominal_g"], article["t1_g"], article["t2_g"]) == (None, None, None)


async def test_a_token_is_stored_only_as_its_hash_and_authenticates_its_machine(
    api: Api, tenant: str, migrated_database_url: str
) -> None:
    await _fleet(api.client, tenant)
    tokens = f"/v1/admin/tenants/{tenant}/machines/l1-cw/tokens"

    first = await api.client.post(tokens)
    second = await api.client.post(tokens)

    assert first.status_code == second.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    token = second.json()["token"]
    assert second.json() == {"tenant": tenant, "machine": "l1-cw", "token": token}
    digest = hashlib.sha256(token.encode()).digest()
    conn = await asyncpg.connect(migrated_database_url)  # a superuser, to see the table as it is
    try:
        rows = await conn.fetch("SELECT * FROM machine_tokens WHERE tenant = $1", tenant)
        assert len(rows) == 2
        stored = [value for row in rows for value in row.values()]
        assert digest in stored
        assert not any(token in str(value) or token.encode() == value for value in stored)
        authenticate = "SELECT tenant, machine FROM tally_authenticate($1)"
        identity = await conn.fetchrow(authenticate, digest)
        assert identity is not None
        assert tuple(identity) == (tenant, "l1-cw")
        earlier = hashlib.sha256(first.json()["token"].encode()).digest()
        assert await conn.fetchrow(authenticate, earlier) is None  # revoked by the second

        revoked = await api.client.delete(tokens)

        assert revoked.status_code == 204
        assert await conn.fetchrow(authenticate, digest) is None
    finally:
        await conn.close()


async def test_tokens_of_an_unknown_machine_are_404_naming_it(api: Api, tenant: str) -> None:
    await _fleet(api.client, tenant)
    for response in (
        await api.client.post(f"/v1/admin/tenants/{tenant}/machines/nope/tokens"),
        await api.client.delete(f"/v1/admin/tenants/{tenant}/machines/nope/tokens"),
    ):
        assert response.status_code == 404
        assert (response.json()["field"], response.json()["value"]) == ("machine", "nope")
        assert f"PUT /v1/admin/tenants/{tenant}/machines/nope" in response.json()["detail"]


async def test_an_unknown_time_zone_is_422_naming_timezone(api: Api, tenant: str) -> None:
    await _put(api.client, f"/v1/admin/tenants/{tenant}", {"name": "T"})

    response = await api.client.put(
        f"/v1/admin/tenants/{tenant}/sites/p1", json={"name": "P", "timezone": "Mars/Olympus"}
    )

    assert response.status_code == 422
    problem = response.json()
    assert (problem["field"], problem["value"]) == ("timezone", "Mars/Olympus")
    assert "IANA" in problem["detail"]


async def test_a_line_of_an_unknown_site_is_refused_naming_the_site(api: Api, tenant: str) -> None:
    await _fleet(api.client, tenant)

    response = await api.client.put(
        f"/v1/admin/tenants/{tenant}/lines/l2", json={"site": "p9", "name": "Line 2"}
    )

    assert response.status_code == 409
    problem = response.json()
    assert (problem["error"], problem["field"], problem["value"]) == ("conflict", "site", "p9")
    assert f"/v1/admin/tenants/{tenant}/sites/p9" in problem["detail"]


async def test_an_unknown_tenant_is_404_naming_it(api: Api, tenant: str) -> None:
    put = await api.client.put(
        f"/v1/admin/tenants/{tenant}/sites/p1", json={"name": "P", "timezone": "Europe/Berlin"}
    )
    get = await api.client.get(f"/v1/admin/tenants/{tenant}/machines")
    one = await api.client.get(f"/v1/admin/tenants/{tenant}")

    for response in (put, get, one):
        assert response.status_code == 404, response.text
        assert (response.json()["field"], response.json()["value"]) == ("tenant", tenant)


async def test_a_tenants_listing_never_shows_another_tenants_machines(
    api: Api, tenant: str
) -> None:
    other = f"{tenant}-b"
    await _fleet(api.client, tenant, machine="mine")
    await _fleet(api.client, other, machine="theirs")

    mine = (await api.client.get(f"/v1/admin/tenants/{tenant}/machines")).json()["machines"]
    theirs = (await api.client.get(f"/v1/admin/tenants/{other}/machines")).json()["machines"]

    assert [(m["tenant"], m["machine"]) for m in mine] == [(tenant, "mine")]
    assert [(m["tenant"], m["machine"]) for m in theirs] == [(other, "theirs")]


async def test_a_broken_constraint_is_422_naming_field_and_value(api: Api, tenant: str) -> None:
    await _fleet(api.client, tenant)
    base = f"/v1/admin/tenants/{tenant}"

    kind = await api.client.put(f"{base}/machines/m2", json={"line": "l1", "kind": "toaster"})
    tenant_id = await api.client.put("/v1/admin/tenants/Not%20Valid", json={"name": "X"})
    missing = await api.client.put(f"{base}/articles/a1", json={"name": "A", "nominal_g": 100})
    typo = await api.client.put(f"{base}/lines/l2", json={"site": "p1", "name": "L", "sit": 1})
    malformed = await api.client.put(
        f"{base}/lines/l2", content=b'{"site": ', headers={"Content-Type": "application/json"}
    )

    assert [r.status_code for r in (kind, tenant_id, missing, typo)] == [422] * 4
    assert (kind.json()["field"], kind.json()["value"]) == ("kind", "toaster")
    assert (tenant_id.json()["field"], tenant_id.json()["value"]) == ("tenant", "Not Valid")
    assert (missing.json()["field"], missing.json()["value"]) == ("ideal_rate_ppm", None)
    assert (typo.json()["field"], typo.json()["value"]) == ("sit", 1)
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "malformed"


async def test_every_tenant_is_listed(api: Api, tenant: str) -> None:
    await _put(api.client, f"/v1/admin/tenants/{tenant}", {"name": "One"})
    await _put(api.client, f"/v1/admin/tenants/{tenant}-2", {"name": "Two"})

    response = await api.client.get("/v1/admin/tenants")

    assert response.status_code == 200, response.text
    listed = {t["tenant"]: t["name"] for t in response.json()["tenants"]}
    assert (listed[tenant], listed[f"{tenant}-2"]) == ("One", "Two")


async def test_text_the_database_cannot_hold_is_422_naming_the_field(api: Api, tenant: str) -> None:
    nul = await api.client.put(f"/v1/admin/tenants/{tenant}", json={"name": "Alpen\0werk"})

    assert nul.status_code == 422
    assert (nul.json()["field"], nul.json()["value"]) == ("name", "Alpen\0werk")
    assert "database" not in nul.json()["detail"]


async def test_any_other_text_is_stored_and_read_back_as_sent(api: Api, tenant: str) -> None:
    name = "Käserei \U0001f9c0\t«Ost»\n\u202eRTL\uffff \x01 end"
    await _put(api.client, f"/v1/admin/tenants/{tenant}", {"name": name})

    assert (await api.client.get(f"/v1/admin/tenants/{tenant}")).json()["name"] == name


@pytest.mark.parametrize(
    "body",
    [b'{"name": "bad \xff byte"}', b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}"],
    ids=["not-utf8", "nested"],
)
async def test_an_unreadable_body_is_400(api: Api, tenant: str, body: bytes) -> None:
    response = await api.client.put(
        f"/v1/admin/tenants/{tenant}", content=body, headers={"Content-Type": "application/json"}
    )

    # Nesting past the decoder's recursion is unreadable (400); where the stack allows reading
    # it (the limit is the interpreter's), it is no string: 422 naming `name`.
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"] in ("malformed", "invalid")
    if body.startswith(b'{"name": "'):
        assert response.json()["error"] == "malformed"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_declared_json_is_415(
    api: Api, tenant: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = await api.client.put(
        f"/v1/admin/tenants/{tenant}", content=b'{"name": "X"}', headers=headers
    )

    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]
    assert (await api.client.get(f"/v1/admin/tenants/{tenant}")).status_code == 404


@pytest.fixture
async def strict_api(
    fresh_database_url: str, login_url: LoginUrl
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on a schema with a constraint the records do not know of."""
    connection = await asyncpg.connect(fresh_database_url)
    try:
        await connection.execute(
            "ALTER TABLE tenants ADD CONSTRAINT tenants_name_check_extra CHECK (name <> 'Secret')"
        )
        await connection.execute(
            "ALTER TABLE tenants DROP CONSTRAINT tenants_retention_days_check, "
            "ADD CONSTRAINT tenants_retention_days_check CHECK (retention_days <> 77)"
        )
    finally:
        await connection.close()
    role = service.database_role
    database = await Database.connect(login_url(fresh_database_url, role), role=role, max_size=2)
    host = ServiceHost(
        service,
        ApiSettings(admin_token=Secret(ADMIN_TOKEN)),
        broker=MemoryBroker(),
        database=database,
    )
    await host.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{host.port}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as client:
            yield client
    finally:
        await host.stop()
        await database.close()


async def test_a_database_refusal_is_422_without_the_servers_message(
    strict_api: httpx.AsyncClient,
) -> None:
    response = await strict_api.put("/v1/admin/tenants/acme", json={"name": "Secret"})

    assert response.status_code == 422
    problem = response.json()
    assert problem["error"] == "invalid"
    assert "tenants_name_check_extra" not in problem["detail"]
    assert "violates" not in problem["detail"]
    assert problem["field"] == "$"


async def test_a_database_refusal_names_the_column_its_check_guards(
    strict_api: httpx.AsyncClient,
) -> None:
    response = await strict_api.put(
        "/v1/admin/tenants/acme", json={"name": "Acme", "retention_days": 77}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "retention_days"
    assert "violates" not in response.json()["detail"]


async def test_values_the_columns_would_round_or_cannot_hold_are_422_naming_them(
    api: Api, tenant: str
) -> None:
    await _fleet(api.client, tenant)
    base = f"/v1/admin/tenants/{tenant}"

    # numeric(8, 2) rounds 0.004 to 0, which its CHECK (> 0) refuses.
    rate = await api.client.put(
        f"{base}/articles/a1", json={"name": "A", "nominal_g": None, "ideal_rate_ppm": 0.004}
    )
    # A time column holds no offset: the site's zone gives the day start its offset.
    aware = await api.client.put(
        f"{base}/sites/p2",
        json={"name": "P2", "timezone": "Europe/Berlin", "day_start": "06:00:00+01:00"},
    )

    assert (rate.status_code, rate.json()["field"]) == (422, "ideal_rate_ppm")
    assert "database" not in rate.json()["detail"]
    assert (aware.status_code, aware.json()["field"]) == (422, "day_start")


async def test_an_article_number_with_a_slash_is_addressable(api: Api, tenant: str) -> None:
    await _fleet(api.client, tenant)
    base = f"/v1/admin/tenants/{tenant}"

    saved = await api.client.put(
        f"{base}/articles/SAL%2F100", json={"name": "Salami", "nominal_g": 100, "ideal_rate_ppm": 1}
    )
    dots = await api.client.put(
        f"{base}/articles/a%2F..", json={"name": "Dots", "nominal_g": 100, "ideal_rate_ppm": 1}
    )

    assert saved.status_code == 200, saved.text
    assert saved.json()["article"] == "SAL/100"
    listed = (await api.client.get(f"{base}/articles")).json()["articles"]
    assert [a["article"] for a in listed] == ["SAL/100"]
    assert (dots.status_code, dots.json()["field"]) == (422, "article")
