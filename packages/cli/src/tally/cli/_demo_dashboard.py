"""The demo's view of the figures: a login for the dashboard, and the end-of-run table of each
line's production days — read from the api over HTTP, as an ERP would (with an API key), so
that the table shows what the API serves.

The api and the demo share nothing but HTTP: the administrators' token (made here, given to
the api in its environment) creates the demo user and a read-only key of each tenant.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
import msgspec

from tally.contracts.figures import LineSummary, Production, SiteDay, Sites

DEMO_EMAIL = "demo@example.com"


@dataclass(frozen=True)
class DemoLogin:
    url: str
    tenant: str
    email: str
    password: str

    def __str__(self) -> str:
        return (
            f"dashboard {self.url}/dashboard · log in as tenant {self.tenant}, "
            f"{self.email}, password {self.password}"
        )


def admin_token() -> str:
    return secrets.token_urlsafe(32)


async def demo_login(client: httpx.AsyncClient, api_url: str, token: str, tenant: str) -> DemoLogin:
    """A viewer of `tenant` with a fresh random password (made again on every run)."""
    password = secrets.token_urlsafe(12)
    users = f"{api_url}/v1/admin/tenants/{tenant}/users"
    auth = {"Authorization": f"Bearer {token}"}
    body = {"email": DEMO_EMAIL, "name": "Demo viewer", "role": "viewer", "password": password}
    made = await client.post(users, json=body, headers=auth)
    if made.status_code == 409:  # from an earlier run on the same database: a new password
        made = await client.put(
            f"{users}/{DEMO_EMAIL}/password", json={"password": password}, headers=auth
        )
    made.raise_for_status()
    return DemoLogin(api_url, tenant, DEMO_EMAIL, password)


@dataclass(frozen=True)
class LineDayRow:
    tenant: str
    site: str
    day: date
    line: LineSummary


async def line_days(
    client: httpx.AsyncClient,
    api_url: str,
    token: str,
    tenants: list[str],
    start: datetime,
    end: datetime,
) -> list[LineDayRow]:
    """Every line's production days that [start, end] touched, per tenant, from the API."""
    rows: list[LineDayRow] = []
    for tenant in tenants:
        made = await client.post(
            f"{api_url}/v1/admin/tenants/{tenant}/keys",
            json={"name": "tally demo", "role": "viewer"},
            headers={"Authorization": f"Bearer {token}"},
        )
        made.raise_for_status()
        key = {"Authorization": f"Bearer {made.json()['key']}"}
        answer = await client.get(f"{api_url}/v1/sites", headers=key)
        answer.raise_for_status()
        for site in msgspec.json.decode(answer.content, type=Sites).sites:
            days: set[date] = set()
            for line in site.lines:
                days |= await _days(client, api_url, key, line.line, start, end)
            found: list[LineDayRow] = []
            for day in sorted(days):
                answer = await client.get(f"{api_url}/v1/sites/{site.site}/days/{day}", headers=key)
                answer.raise_for_status()
                site_day = msgspec.json.decode(answer.content, type=SiteDay)
                found += [LineDayRow(tenant, site.site, day, line) for line in site_day.lines]
            rows += sorted(found, key=lambda row: (row.line.line, row.day))
    return rows


async def _days(
    client: httpx.AsyncClient,
    api_url: str,
    key: dict[str, str],
    line: str,
    start: datetime,
    end: datetime,
) -> set[date]:
    # Buckets are the days starting in [from, to): the day holding `start` began before it.
    query = {
        "from": (start - timedelta(days=1)).isoformat(),
        "to": end.isoformat(),
        "bucket": "day",
    }
    answer = await client.get(f"{api_url}/v1/lines/{line}/production", params=query, headers=key)
    answer.raise_for_status()
    production = msgspec.json.decode(answer.content, type=Production)
    # A production day is named by the local date it starts on: its bucket's start's date.
    return {b.start.date() for b in production.buckets if b.end > start}


def render_line_days(rows: list[LineDayRow]) -> str:
    """The table: good packs, kg, giveaway %, reject %, OEE of each line and day."""
    head = (
        f"{'tenant':<12}{'site':<10}{'line':<10}{'day':<12}{'good packs':>11}{'kg':>10}"
        f"{'giveaway':>10}{'rejects':>9}{'OEE':>8}"
    )
    lines = [head]
    for row in rows:
        s = row.line
        lines.append(
            f"{row.tenant:<12}{row.site:<10}{s.line:<10}{row.day.isoformat():<12}"
            f"{s.good_packs:>11,}{s.kg:>10,.1f}{_pct(s.giveaway_pct):>10}"
            f"{_pct(s.reject_pct):>9}{_pct(s.oee):>8}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
