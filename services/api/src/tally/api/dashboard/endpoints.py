"""The dashboard's declarations (handlers: `pages`).

GET /                            → /dashboard
GET /login                       the login page (posts to /v1/session)
GET /dashboard?site=&day=        a site's lines: live today, or an earlier day
GET /dashboard/lines/{line}?day= a line's production day
GET /dashboard/events?follow=    server-sent events: "changed" when the figures did
GET /dashboard/assets/{name}     the stylesheet and the two scripts
"""

from __future__ import annotations

from typing import Any

from tally.api.admin import ApiDeps
from tally.api.dashboard import pages
from tally.api.dashboard.answers import Page
from tally.api.dashboard.page_auth import PageSession
from tally.sdk import PUBLIC, AnyEndpoint, Auth, Endpoint, EventStream, File, Html, Redirect


def endpoints(session: Auth[ApiDeps, Any]) -> list[AnyEndpoint[ApiDeps]]:
    """The dashboard's pages for a user's `session`."""
    page = PageSession(session)
    return [
        Endpoint(
            "GET", "/", pages.home, auth=PUBLIC, response=Redirect, summary="The dashboard",
        ),
        Endpoint(
            "GET", "/login", pages.login, auth=PUBLIC, response=Html,
            summary="The dashboard's login page",
        ),
        Endpoint(
            "GET", "/dashboard/assets/{name}", pages.asset, auth=PUBLIC,
            params=pages.AssetPath, response=File, produces=("text/css", "text/javascript"),
            summary="The dashboard's stylesheet and scripts", errors={404: "No such file."},
        ),
        Endpoint(
            "GET", "/dashboard", pages.site_page, auth=page, query=pages.OverviewQuery,
            response=Page, summary="A site's lines, live today or on an earlier day",
            errors={404: "The tenant has no such site."},
        ),
        Endpoint(
            "GET", "/dashboard/lines/{line}", pages.line_page, auth=page,
            params=pages.LinePagePath, query=pages.DayQuery, response=Page,
            summary="A line's production day, with its charts",
            errors={404: "The tenant has no such line."},
        ),
        Endpoint(
            "GET", "/dashboard/events", pages.events, auth=session, query=pages.EventsQuery,
            response=EventStream, summary="'changed' each time the followed figures change",
            errors={404: "The tenant has no such site or line."},
        ),
    ]  # fmt: skip
