"""The hosted API: only administrators get in, and the document describes every route."""

from __future__ import annotations

import re

import pytest

from services.api.tests.conftest import ADMIN_TOKEN, Api
from tally.api.service import service

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {ADMIN_TOKEN}", "Bearer", f"Bearer {ADMIN_TOKEN}x"],
)
async def test_without_the_admin_token_every_admin_route_is_401(
    api: Api, tenant: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    api.client.headers.pop("Authorization")

    listing = await api.client.get("/v1/admin/tenants", headers=headers)
    put = await api.client.put(f"/v1/admin/tenants/{tenant}", json={"name": "X"}, headers=headers)
    token = await api.client.post(f"/v1/admin/tenants/{tenant}/machines/m/tokens", headers=headers)

    for response in (listing, put, token):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthorized"
    assert (await api.client.get(f"/v1/admin/tenants/{tenant}", headers=headers)).status_code == 401


async def test_every_operation_of_the_document_is_served(api: Api) -> None:
    response = await api.client.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    operations = [(m, p) for p, item in response.json()["paths"].items() for m in item]
    ids = {"tenant": "acme", "site": "p1", "line": "l1", "machine": "m1", "article": "A%2F1"}
    ids |= {"email": "a@example.com", "key_id": "0123456789abcdef", "day": "2026-03-01"}
    ids |= {"name": "dashboard.css"}
    # The dashboard's login page, its files and / are for strangers; its pages send them to
    # the login page.
    public = {("get", "/"), ("get", "/login"), ("get", "/dashboard/assets/{name}")}
    pages = {("get", "/dashboard"), ("get", "/dashboard/lines/{line}")}
    api.client.headers.pop("Authorization")

    # Any route that exists answers a stranger 401; an unknown one would be 404 or 405.
    for method, path in operations:
        if (method, path) == ("post", "/v1/session") or (method, path) in public:
            continue  # logging in is for strangers
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        answer = await api.client.request(method.upper(), url)
        if (method, path) in pages:
            assert answer.status_code == 303, (method, path, answer.text)
            assert answer.headers["location"].startswith("/login?next=")
            continue
        assert answer.status_code == 401, (method, path, answer.text)
    assert {(e.method.lower(), e.openapi_path) for e in service.endpoints} == set(operations)
