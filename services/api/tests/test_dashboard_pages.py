"""The dashboard's pages over HTTP: strangers go to the login page, a tenant's user sees only
its own sites and lines (another tenant's id is the same 404 as none), files are served."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.api.tests.conftest import Api, Caller
from services.api.tests.made_production import plant


async def test_the_files_and_the_login_page_are_public(api: Api) -> None:
    async with httpx.AsyncClient(base_url=str(api.client.base_url)) as stranger:
        css = await stranger.get("/dashboard/assets/dashboard.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        script = await stranger.get("/dashboard/assets/live.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await stranger.get("/dashboard/assets/nope.css")).status_code == 404
        # Only names of the form of static/'s files: nothing else is even looked for.
        assert (await stranger.get("/dashboard/assets/secrets.txt")).status_code == 422
        assert (await stranger.get("/dashboard/assets/..%2Fservice.py")).status_code in (404, 422)
        login = await stranger.get("/login")
        assert login.status_code == 200
        assert '<form id="login"' in login.text
        home = await stranger.get("/")
        assert (home.status_code, home.headers["location"]) == (303, "/dashboard")


async def test_a_stranger_is_sent_to_the_login_page_and_back(api: Api) -> None:
    async with httpx.AsyncClient(base_url=str(api.client.base_url)) as stranger:
        answer = await stranger.get("/dashboard/lines/l1?day=2026-03-02")
        assert answer.status_code == 303
        assert (
            answer.headers["location"] == "/login?next=%2Fdashboard%2Flines%2Fl1%3Fday%3D2026-03-02"
        )


async def test_an_api_key_opens_no_page(api: Api, tenant: str, tenant_key: Caller) -> None:
    await plant(api, tenant)
    assert (await tenant_key.client.get("/dashboard")).status_code == 303
    assert (await tenant_key.client.get("/dashboard/events?follow=site:p1")).status_code == 401


async def test_a_user_sees_the_own_site_and_line(
    api: Api, tenant: str, user_session: Caller
) -> None:
    await plant(api, tenant)
    overview = await user_session.client.get("/dashboard")
    assert overview.status_code == 200, overview.text
    assert 'data-line="l1"' in overview.text
    assert f'<meta name="csrf-token" content="{user_session.csrf_token}">' in overview.text
    assert overview.headers["cache-control"] == "no-store"
    line = await user_session.client.get("/dashboard/lines/l1?day=2026-03-02")
    assert line.status_code == 200, line.text
    assert line.text.count('<svg class="chart') == 5
    # A day at datetime's limits is a 422 naming it, as a malformed day is, not a 500.
    for far in ("/dashboard?day=9999-12-31", "/dashboard/lines/l1?day=0001-01-01"):
        refused = await user_session.client.get(far)
        assert (refused.status_code, refused.json()["field"]) == (422, "day"), refused.text


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard?site=theirs",
        "/dashboard/lines/theirs",
        "/dashboard/lines/theirs?day=2026-03-02",
        "/dashboard/events?follow=line:theirs",
        "/dashboard/events?follow=site:theirs",
        "/dashboard/events?follow=tenant:other",
    ],
)
async def test_another_tenants_site_or_line_is_404(
    api: Api, tenant: str, user_session: Caller, path: str
) -> None:
    await plant(api, tenant)
    them = f"{tenant}y"
    assert (await api.client.put(f"/v1/admin/tenants/{them}", json={"name": "Them"})).is_success
    site = {"name": "Theirs", "timezone": "UTC"}
    assert (await api.client.put(f"/v1/admin/tenants/{them}/sites/theirs", json=site)).is_success
    line = {"site": "theirs", "name": "Their line"}
    assert (await api.client.put(f"/v1/admin/tenants/{them}/lines/theirs", json=line)).is_success
    answer = await user_session.client.get(path)
    assert answer.status_code == 404, answer.text
    assert "Their line" not in answer.text


async def test_the_event_stream_ends_with_its_session(
    api: Api, tenant: str, user_session: Caller
) -> None:
    await plant(api, tenant)
    events: list[str] = []
    async with (
        asyncio.timeout(30),
        user_session.client.stream("GET", "/dashboard/events?follow=site:p1") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            events.append(line)
            if line == "event: ready":
                ended = await user_session.client.delete("/v1/session")
                assert ended.status_code == 204, ended.text
    # The stream ended by itself (the loop ran out) once the session was gone.
    assert "event: ready" in events
