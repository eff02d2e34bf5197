"""The dashboard's handlers: the login page, the site overview, a line's day, the event stream
that tells open pages to refresh, and the static files.

Pages take the user's session (a browser without one is sent to the login page) and read the
same builders the figures API answers from, in the same tenant-scoped transactions; an id of
another tenant is the same 404 page as an unknown one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from html import escape
from importlib import resources
from typing import Annotated

import msgspec

from tally.api.admin import ApiDeps
from tally.api.callers import SessionCaller
from tally.api.dashboard.answers import Page
from tally.api.dashboard.layout import Picker, page
from tally.api.dashboard.line_day import line_day
from tally.api.dashboard.login import login_page
from tally.api.dashboard.overview import overview
from tally.api.figures_api import snapshot_of
from tally.api.line_day_view import line_day_view
from tally.api.live_view import live_fingerprint, live_view
from tally.api.places import SitePlace, line_of
from tally.api.queries import articles_of_tenant
from tally.api.ranges import in_calendar
from tally.api.site_day_view import site_day_view
from tally.api.site_list import tenant_sites
from tally.contracts.figures import LineSummary, LiveLine
from tally.registry import Id
from tally.sdk import (
    Anonymous,
    Call,
    Event,
    EventStream,
    File,
    Html,
    NoParams,
    Problem,
    Redirect,
    Rejected,
    Tx,
)

_ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "login.js": "text/javascript; charset=utf-8",
}


class OverviewQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: Id | None = None
    day: date | None = None


class DayQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    day: date | None = None


class LinePagePath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line: Id


class AssetPath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # A file name of static/ (anything else is no asset: 422 or 404, never a path elsewhere).
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{1,32}\.(css|js)$")]


class EventsQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`site:<id>` or `line:<id>`: whose figures the page shows."""

    follow: str


async def home(deps: ApiDeps, call: Call[Anonymous]) -> Redirect:
    return Redirect("/dashboard")


async def login(deps: ApiDeps, call: Call[Anonymous]) -> Html:
    return Html(login_page(), headers=[("Cache-Control", "no-store")])


async def asset(deps: ApiDeps, call: Call[Anonymous, AssetPath]) -> File:
    media = _ASSETS.get(call.path.name)
    if media is None:
        raise Rejected(
            404,
            Problem(
                error="not_found",
                detail=f"no dashboard file {call.path.name!r}",
                field="name",
                value=call.path.name,
            ),
        )
    content = resources.files("tally.api.dashboard").joinpath("static", call.path.name)
    return File(content.read_bytes(), media, headers=[("Cache-Control", "max-age=300")])


async def site_page(deps: ApiDeps, call: Call[SessionCaller, NoParams, OverviewQuery]) -> Page:
    """A site's lines: live (today, with their states) unless an earlier day is asked for."""
    if call.query.day is not None:
        in_calendar(call.query.day, "day", call.query.day.isoformat())
    tenant = call.caller.tenant
    snapshot = await snapshot_of(deps, tenant)
    now = datetime.now(UTC)

    async def work(tx: Tx) -> Page:
        sites = await tenant_sites(tx, tenant)
        chosen = next((s for s in sites if s.site == call.query.site), None)
        if call.query.site is not None and chosen is None:
            return _missing(call.caller, "site", call.query.site)
        site = chosen or (sites[0] if sites else None)
        picker = Picker("/dashboard", [(s.site, s.name) for s in sites], None, call.query.day)
        if site is None:
            return _page(call.caller, "No sites yet", '<p class="empty">No sites yet.</p>', picker)
        picker = Picker("/dashboard", picker.sites, site.site, call.query.day)
        live = (await live_view(tx, snapshot, [site], now)).lines
        days = {line.day for line in live}
        if call.query.day is None or call.query.day in days:
            shown = call.query.day or (max(days) if days else site.today(now.timestamp()).date)
            main = _live_cards(live, shown)
            picker = Picker("/dashboard", picker.sites, site.site, shown)
            return _page(call.caller, site.name, main, picker, live=f"site:{site.site}")
        day = await site_day_view(tx, snapshot, site, call.query.day)
        title = f"{site.name} · {day.day.isoformat()}"
        return _page(call.caller, title, overview(day.lines, day.day), picker)

    return await call.database().transaction(work, readonly=True)


def _live_cards(live: list[LiveLine], day: date) -> str:
    summaries: list[LineSummary] = [line.figures for line in live]
    return overview(summaries, day, live)


async def line_page(deps: ApiDeps, call: Call[SessionCaller, LinePagePath, DayQuery]) -> Page:
    """A line's production day (by default the day its live figures are on)."""
    if call.query.day is not None:
        in_calendar(call.query.day, "day", call.query.day.isoformat())
    tenant = call.caller.tenant
    snapshot = await snapshot_of(deps, tenant)
    now = datetime.now(UTC)

    async def work(tx: Tx) -> Page:
        try:
            site, line = await line_of(tx, tenant, call.path.line)
        except Rejected:
            return _missing(call.caller, "line", call.path.line)
        live = (await live_view(tx, snapshot, [_only(site, line.line)], now)).lines
        current = live[0].day if live else site.today(now.timestamp()).date
        day = call.query.day or current
        names = {a.article: a.name for a in await tx.fetch(articles_of_tenant(tenant))}
        figures = await line_day_view(tx, snapshot, names, site, line, day)
        picker = Picker(f"/dashboard/lines/{line.line}", [], None, day)
        back = f'<p><a href="/dashboard?site={site.site}">← {site.name}</a></p>'
        follows = f"line:{line.line}" if day == current else None
        title = f"{line.name} · {day.isoformat()}"
        return _page(call.caller, title, back + line_day(figures), picker, live=follows)

    return await call.database().transaction(work, readonly=True)


def _only(site: SitePlace, line: str) -> SitePlace:
    lines = tuple(x for x in site.lines if x.line == line)
    return SitePlace(site.site, site.name, site.timezone, site.day_start, lines)


def _page(
    caller: SessionCaller, title: str, main: str, picker: Picker, *, live: str | None = None
) -> Page:
    return Page(page(title, main, picker=picker, csrf_token=caller.csrf_token, live=live))


def _missing(caller: SessionCaller, kind: str, name: str) -> Page:
    # The same page for an id that does not exist and one of another tenant.
    main = (
        f'<p class="warning">Your tenant has no {kind} {escape(name)!s}.</p>'
        '<p><a href="/dashboard">Back to the overview</a></p>'
    )
    return Page(page(f"No such {kind}", main, csrf_token=caller.csrf_token), status=404)


async def events(deps: ApiDeps, call: Call[SessionCaller, NoParams, EventsQuery]) -> EventStream:
    """An event `changed` each time the followed lines' live figures change in the database;
    the page then fetches itself again (live.js)."""
    tenant = call.caller.tenant
    kind, _, name = call.query.follow.partition(":")

    async def lines(tx: Tx) -> set[str]:
        sites = await tenant_sites(tx, tenant)
        if kind == "site":
            return {x.line for s in sites if s.site == name for x in s.lines}
        return {x.line for s in sites for x in s.lines if x.line == name}

    followed = await call.database().transaction(lines, readonly=True)
    if kind not in ("site", "line") or not followed:
        raise Rejected(
            404,
            Problem(
                error="not_found",
                detail="follow a site or a line of your tenant: site:<id> or line:<id>",
                field="follow",
                value=call.query.follow,
            ),
        )
    return EventStream(_changes(deps, call, followed), ping_seconds=10.0)


async def _changes(
    deps: ApiDeps, call: Call[SessionCaller, NoParams, EventsQuery], lines: set[str]
) -> AsyncIterator[Event]:
    tenant = call.caller.tenant

    async def fingerprint(tx: Tx) -> bytes:
        return await live_fingerprint(tx, tenant, lines, datetime.now(UTC))

    last = await call.database().transaction(fingerprint, readonly=True)
    # The browser reconnects after `retry` ms when the stream breaks (a restart of the api).
    yield Event("following", event="ready", retry=2000)
    while True:
        await asyncio.sleep(deps.live_seconds)
        # A stream lives no longer than its session (logout, expiry, a disabled user): the
        # browser's reconnection then meets the 401 and the page goes to the login page. (An
        # open page counts as use, so it keeps its session from idling out; the lifetime holds.)
        if await deps.accounts.session(call.caller.session_hash) is None:
            return
        now = await call.database().transaction(fingerprint, readonly=True)
        if now != last:
            last = now
            yield Event("changed", event="changed")
