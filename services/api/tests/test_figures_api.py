"""The figures API over a real database: answers of the contracts' shapes, 404 naming the id
for another tenant's (or no) object on every endpoint with keys and sessions, 422 naming bad
dates, buckets and ranges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest

from services.api.tests.conftest import Api, Caller, add_user, login
from services.api.tests.made_production import MadeProduction, making, plant
from tally.contracts.figures import Compliance, LineDay, Live, Production, SiteDay, Sites
from tally.sdk.testing import LoginUrl

DAY = "2026-03-02"


@pytest.fixture
async def other(api: Api, tenant: str) -> AsyncIterator[Caller]:
    """A user of another tenant with a plant of the same ids."""
    them = f"{tenant}x"
    await add_user(api, them, "them@example.com", "viewer")
    await plant(api, them)
    caller = await login(api, them, "them@example.com")
    yield caller
    await caller.client.aclose()


TENANT_PATHS = (
    f"/v1/sites/p1/days/{DAY}",
    f"/v1/lines/l1/days/{DAY}",
    f"/v1/lines/l1/production?from={DAY}T06:00:00&to={DAY}T18:00:00&bucket=hour",
    f"/v1/articles/salami-100/compliance?from={DAY}T00:00:00Z&to=2026-03-03T00:00:00Z",
    "/v1/live?site=p1",
)


async def test_a_day_without_production_is_zeros_and_nulls(
    api: Api, tenant: str, user_session: Caller, tenant_key: Caller
) -> None:
    await plant(api, tenant)
    for caller in (user_session, tenant_key):
        answer = await caller.client.get("/v1/sites")
        assert answer.status_code == 200, answer.text
        listed = msgspec.json.decode(answer.content, type=Sites)
        assert [(s.site, s.timezone, [x.line for x in s.lines]) for s in listed.sites] == [
            ("p1", "Europe/Berlin", ["l1"])
        ]
        day = msgspec.json.decode(
            (await caller.client.get(f"/v1/lines/l1/days/{DAY}")).content, type=LineDay
        )
        assert (day.good_packs, day.oee, day.kg) == (0, None, 0.0)
        # The production day starts at the site's day start (06:00 local, CET).
        assert day.start.isoformat() == f"{DAY}T06:00:00+01:00"
        site = msgspec.json.decode(
            (await caller.client.get(f"/v1/sites/p1/days/{DAY}")).content, type=SiteDay
        )
        assert [line.line for line in site.lines] == ["l1"]
        live = msgspec.json.decode((await caller.client.get("/v1/live")).content, type=Live)
        assert [(x.line, x.category) for x in live.lines] == [("l1", "no_data")]
        answer = await caller.client.get(TENANT_PATHS[2])
        assert answer.status_code == 200, answer.text
        production = msgspec.json.decode(answer.content, type=Production)
        assert production.buckets == []


@pytest.mark.parametrize("path", TENANT_PATHS)
async def test_another_tenants_objects_are_404_naming_the_id(
    api: Api, tenant: str, user_session: Caller, tenant_key: Caller, other: Caller, path: str
) -> None:
    # Only the other tenant has the plant: the same ids are not ours.
    for caller in (user_session, tenant_key):
        answer = await caller.client.get(path)
        assert answer.status_code == 404, answer.text
        assert answer.json()["field"] in ("site", "line", "article")
    mine = await other.client.get(path)
    assert mine.status_code == 200, mine.text


@pytest.mark.parametrize("path", ["/v1/sites", *TENANT_PATHS])
async def test_no_credentials_no_figures(api: Api, path: str) -> None:
    async with httpx.AsyncClient(base_url=str(api.client.base_url)) as anonymous:
        assert (await anonymous.get(path)).status_code == 401
    # The administrators' token is no tenant's caller either.
    assert (await api.client.get(path)).status_code == 401


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/lines/l1/days/2026-02-30", "day"),
        ("/v1/sites/p1/days/yesterday", "day"),
        # Dates at datetime's limits: a 422, not an overflow's 500.
        ("/v1/lines/l1/days/9999-12-31", "day"),
        ("/v1/sites/p1/days/0001-01-01", "day"),
        ("/v1/lines/l1/production?from=9999-12-31T23:00:00", "from"),
        ("/v1/lines/l1/production?to=0001-01-01T00:30:00", "to"),
        ("/v1/articles/salami-100/compliance?from=9999-12-31T23:00:00Z", "from"),
        (f"/v1/lines/l1/production?from={DAY}T00:00:00&to={DAY}T01:00:00&bucket=week", "bucket"),
        (f"/v1/lines/l1/production?from={DAY}T00:00:00&to=2026-03-09T00:00:00&bucket=minute", "to"),
        (f"/v1/lines/l1/production?from={DAY}T06:00:00&to={DAY}T05:00:00", "to"),
        (f"/v1/lines/l1/production?from=soon&to={DAY}T05:00:00", "from"),
        (f"/v1/articles/salami-100/compliance?from={DAY}T00:00:00Z&to=2026-05-01T00:00:00Z", "to"),
    ],
)
async def test_bad_dates_buckets_and_ranges_are_422_naming_the_field(
    api: Api, tenant: str, user_session: Caller, path: str, field: str
) -> None:
    await plant(api, tenant)
    answer = await user_session.client.get(path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field, answer.text


async def test_a_too_long_range_names_the_limit(
    api: Api, tenant: str, user_session: Caller
) -> None:
    await plant(api, tenant)
    path = f"/v1/lines/l1/production?from={DAY}T00:00:00&to=2026-03-09T00:00:00&bucket=minute"
    answer = await user_session.client.get(path)
    assert "at most 2 days" in answer.json()["detail"]


@pytest.fixture
async def made(
    api: Api, tenant: str, user_session: Caller, migrated_database_url: str, login_url: LoginUrl
) -> AsyncIterator[MadeProduction]:
    """The test's tenant's plant with a round-the-clock plan, and a way to make production."""
    await plant(api, tenant)
    async with making(tenant, migrated_database_url, login_url) as production:
        yield production


def _an_hour_ago() -> datetime:
    """A start 90 minutes back whose next 70 minutes lie in one production day (06:00 Berlin)."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=90)
    day = ZoneInfo("Europe/Berlin")

    def name(t: datetime) -> object:
        return (t.astimezone(day) - timedelta(hours=6)).date()

    while name(start) != name(start + timedelta(minutes=70)):
        start -= timedelta(minutes=30)
    return start


async def test_a_line_day_holds_the_rolled_up_figures(
    made: MadeProduction, user_session: Caller
) -> None:
    start = _an_hour_ago()
    await made.run(start, 60, held=10)
    day = ZoneInfo("Europe/Berlin")
    name = (start.astimezone(day) - timedelta(hours=6)).date().isoformat()
    answer = await user_session.client.get(f"/v1/lines/l1/days/{name}")
    assert answer.status_code == 200, answer.text
    line = msgspec.json.decode(answer.content, type=LineDay)
    # 50 minutes of a pack a second at the checkweigher, every 20th rejected.
    assert (line.good_packs, line.total_packs) == (2850, 3000)
    # Round the clock at the article's 120 packs/min (a day of 23 or 25 h around DST).
    assert line.plan_packs in (23 * 60 * 120, 24 * 60 * 120, 25 * 60 * 120)
    assert line.rejects == {"underweight": 150}
    assert line.kg == pytest.approx(2850 * 0.101)
    assert line.giveaway_pct == pytest.approx(0.01)
    assert sum(hour.total_packs for hour in line.hours) == 3000
    assert sum(hour.rejects for hour in line.hours) == 150
    assert [(a.article, a.packs, a.compliant) for a in line.articles] == [
        ("salami-100", 3000, True)
    ]
    assert sum(line.weights[0].counts) == 2850
    held = [s for s in line.timeline if s.machine == "l1-tf" and s.state == "Held"]
    assert [round((s.end - s.start).total_seconds()) for s in held] == [600]
    stops = [(d.category, d.count, d.seconds) for d in line.downtime if d.category != "no_data"]
    assert stops == [("equipment_failure", 1, 600.0)]
    # The day's planned time before the machines' first message is no data (FIGURES.md): a stop
    # of its own in the Pareto, as long as the time of day the test runs at makes it.
    assert all(d.seconds > 0 for d in line.downtime if d.category == "no_data")
    assert line.oee is not None
    assert line.losses.stop_seconds == {"equipment_failure": 600.0}

    production = await user_session.client.get(
        f"/v1/lines/l1/production?from={start.isoformat().replace('+00:00', 'Z')}"
        f"&to={(start + timedelta(hours=2)).isoformat().replace('+00:00', 'Z')}&bucket=minute"
    )
    assert production.status_code == 200, production.text
    minutes = msgspec.json.decode(production.content, type=Production)
    assert sum(b.total_packs for b in minutes.buckets) == 3000


async def test_hours_and_lots_carry_the_weighings(
    made: MadeProduction, user_session: Caller, tenant_key: Caller
) -> None:
    start = _an_hour_ago()
    await made.run(start, 60, held=10)
    # Buckets are those starting in [from, to): the hour holding `start` began before it.
    since = (start - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    until = (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    hours = await tenant_key.client.get(
        f"/v1/lines/l1/production?from={since}&to={until}&bucket=hour&limit=1"
    )
    assert hours.status_code == 200, hours.text
    first = msgspec.json.decode(hours.content, type=Production)
    assert len(first.buckets) == 1
    assert first.next is not None  # a second page
    following = await tenant_key.client.get(
        "/v1/lines/l1/production",
        params={"from": first.next.isoformat(), "to": until, "bucket": "hour"},
    )
    rest = msgspec.json.decode(following.content, type=Production)
    buckets = first.buckets + rest.buckets
    assert sum(b.total_packs for b in buckets) == 3000
    assert sum(b.rejects for b in buckets) == 150
    assert sum(b.kg for b in buckets) == pytest.approx(2850 * 0.101)
    assert all(b.weighed for b in buckets)

    lots = await user_session.client.get(
        f"/v1/articles/salami-100/compliance?from={since}&to={until}"
    )
    assert lots.status_code == 200, lots.text
    compliance = msgspec.json.decode(lots.content, type=Compliance)
    assert {lot.machine for lot in compliance.lots} == {"l1-cw"}
    assert sum(lot.packs for lot in compliance.lots) == 2850
    # A lot of only rejected packs (the run's last second) has no verdict; the rest comply.
    assert {lot.compliant for lot in compliance.lots if lot.packs} == {True}
    assert {lot.line for lot in compliance.lots} == {"l1"}


async def test_ranges_default_to_today_and_the_last_day(
    made: MadeProduction, user_session: Caller
) -> None:
    start = _an_hour_ago()
    await made.run(start, 60)
    # The site's current production day, hour by hour (the production, 90 minutes back, is in
    # it unless the day began since: then it is in the last 24 hours of lots).
    today = await user_session.client.get("/v1/lines/l1/production")
    assert today.status_code == 200, today.text
    assert msgspec.json.decode(today.content, type=Production).bucket == "hour"
    lots = await user_session.client.get("/v1/articles/salami-100/compliance")
    assert lots.status_code == 200, lots.text
    assert sum(lot.packs for lot in msgspec.json.decode(lots.content, type=Compliance).lots) > 0
    # `from` alone: a day from it.
    since = (start - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    day = await user_session.client.get(f"/v1/lines/l1/production?from={since}&bucket=minute")
    minutes = msgspec.json.decode(day.content, type=Production)
    assert sum(b.total_packs for b in minutes.buckets) == 3600
