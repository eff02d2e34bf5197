"""The hosted API: only administrators get in, and the document describes every route."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from services.api.tests.conftest import ADMIN_TOKEN, Api
from tally.api.service import api_routes

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


async def test_the_document_describes_exactly_the_served_routes(api: Api) -> None:
    assert api.host.deps is not None
    routes = [r for r in api_routes(api.host.deps) if isinstance(r, Route)]
    served = {
        (method.lower(), route.path.replace(":path}", "}"))
        for route in routes
        for method in route.methods or ()
        if method != "HEAD" and route.path != "/openapi.json"
    }

    response = await api.client.get("/openapi.json", headers={"Authorization": ""})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {(method, path) for path, item in paths.items() for method in item} == served
