"""Declared endpoints over real HTTP: the SDK reads and checks what the declaration says, runs
the handler, and answers — JSON, pages, files, redirects, event streams — or refuses with a
Problem naming the field, in a fixed order (authentication first)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

import httpx
import msgspec
import pytest

from tally.sdk import (
    FORM,
    PUBLIC,
    AdminCaller,
    AdminToken,
    Anonymous,
    AnyEndpoint,
    Body,
    BrokerUnavailable,
    Call,
    Database,
    Endpoint,
    Event,
    EventStream,
    File,
    Html,
    MachineToken,
    MemoryBroker,
    NoParams,
    NoSettings,
    Problem,
    Redirect,
    Rejected,
    Runtime,
    Service,
    ServiceHost,
    TenantCaller,
    TransactionFailed,
    Tx,
    query,
    token_hash,
)
from tally.sdk.testing import LoginUrl, eventually

ADMIN_TOKEN = "an-administrators-token-" + "z" * 16


class Item(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    count: Annotated[int, msgspec.Meta(ge=0)] = 0


class ItemPath(msgspec.Struct, frozen=True):
    item: Annotated[int, msgspec.Meta(ge=1)]


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    tags: list[str] = []
    since: date | None = msgspec.field(default=None, name="from")


class Found(msgspec.Struct, frozen=True, kw_only=True):
    item: int
    limit: int
    tags: list[str]
    since: date | None
    caller: str


class Record(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    name: Annotated[str, msgspec.Meta(pattern="^[a-z]+$")]
    colour: str = "red"


class RecordPath(msgspec.Struct, frozen=True):
    tenant: str
    name: Annotated[str, msgspec.Meta(pattern="^[a-z]+$")]


class Scope(msgspec.Struct, frozen=True):
    tenant: str | None


@query(Scope, "SELECT current_setting('tally.tenant', true) AS tenant")
def current_tenant() -> None: ...


@dataclass
class Deps:
    database: Database | None
    refusals: list[int] = field(default_factory=list)
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    admin_token: str = ADMIN_TOKEN


async def find(deps: Deps, call: Call[Anonymous, ItemPath, Filter]) -> Found:
    q = call.query
    return Found(
        item=call.path.item, limit=q.limit, tags=q.tags, since=q.since, caller=call.caller.role
    )


async def add(deps: Deps, call: Call[Anonymous, NoParams, NoParams, Item]) -> Item:
    return call.body


async def put_record(deps: Deps, call: Call[AdminCaller, RecordPath, NoParams, Record]) -> Record:
    return call.body


async def forget(deps: Deps, call: Call[AdminCaller, RecordPath]) -> None:
    return None


async def page(deps: Deps, call: Call[Anonymous]) -> Html:
    return Html("<h1>Lines</h1>", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])


async def report(deps: Deps, call: Call[Anonymous]) -> File:
    return File(b"line;packs\nl1;120\n", "text/csv", filename="Linie 1 – März.csv")


async def go(deps: Deps, call: Call[Anonymous]) -> Redirect:
    return Redirect("/page")


async def live(deps: Deps, call: Call[Anonymous]) -> EventStream:
    async def events() -> AsyncIterator[Event]:
        try:
            while True:
                event = await deps.events.get()
                if event.data == "end":
                    return
                yield event
        finally:
            deps.closed.set()

    return EventStream(events(), ping_seconds=0.05)


async def away(deps: Deps, call: Call[Anonymous]) -> None:
    raise TransactionFailed("transaction work gave up after 4 attempt(s)")


async def broker_away(deps: Deps, call: Call[Anonymous]) -> None:
    raise BrokerUnavailable("no JetStream")


async def refuse(deps: Deps, call: Call[Anonymous]) -> None:
    raise Rejected(409, Problem(error="conflict", detail="no"))


async def tenant_scope(deps: Deps, call: Call[TenantCaller]) -> Scope:
    async def work(tx: Tx) -> Scope:
        return await tx.fetch_one(current_tenant())

    return await call.database().transaction(work, readonly=True)


async def admin_scope(deps: Deps, call: Call[AdminCaller, RecordPath]) -> Scope:
    async def work(tx: Tx) -> Scope:
        return await tx.fetch_one(current_tenant())

    return await call.database_for(call.path.tenant).transaction(work, readonly=True)


async def viewers_only(deps: Deps, call: Call[TenantCaller]) -> None:
    return None


async def machine_of(deps: Deps, token_sha256: bytes) -> TenantCaller | None:
    if token_sha256 == token_hash("acme-viewer"):
        return TenantCaller(tenant="acme", identity="anna", role="viewer")
    return None


def admin_token(deps: Deps) -> str:
    return deps.admin_token


def counted(deps: Deps, rejected: Rejected) -> None:
    deps.refusals.append(rejected.status)


ADMIN = AdminToken(admin_token)
MACHINE = MachineToken(TenantCaller, machine_of)
FIND = Endpoint(
    "GET",
    "/v1/items/{item}",
    find,
    auth=PUBLIC,
    params=ItemPath,
    query=Filter,
    response=Found,
    summary="An item",
    on_refusal=counted,
)
ADD = Endpoint(
    "POST",
    "/v1/items",
    add,
    auth=PUBLIC,
    body=Body(Item, media_types=["application/json", "application/msgpack", FORM]),
    response=Item,
    status=201,
    headers={"Cache-Control": "no-store"},
    summary="Add an item",
    body_limit=200,
    on_refusal=counted,
)
PUT = Endpoint(
    "PUT",
    "/v1/records/{tenant}/{name}",
    put_record,
    auth=ADMIN,
    params=RecordPath,
    body=Body(Record, merge_path=True),
    response=Record,
    summary="A record",
)
FORGET = Endpoint(
    "DELETE",
    "/v1/records/{tenant}/{name}",
    forget,
    auth=ADMIN,
    params=RecordPath,
    summary="Forget a record",
)
ENDPOINTS: list[AnyEndpoint[Deps]] = [
    FIND, ADD, PUT, FORGET,
    Endpoint("GET", "/page", page, auth=PUBLIC, response=Html, summary="A page"),
    Endpoint("GET", "/report.csv", report, auth=PUBLIC, response=File, produces=["text/csv"],
             summary="A report"),
    Endpoint("GET", "/go", go, auth=PUBLIC, response=Redirect, summary="Elsewhere"),
    Endpoint("GET", "/live", live, auth=PUBLIC, response=EventStream, summary="Live"),
    Endpoint("GET", "/away", away, auth=PUBLIC, summary="The database is away"),
    Endpoint("GET", "/broker-away", broker_away, auth=PUBLIC, summary="The broker is away"),
    Endpoint("GET", "/refuse", refuse, auth=PUBLIC, summary="Refuses", on_refusal=counted),
    Endpoint("GET", "/scope", tenant_scope, auth=MACHINE, response=Scope, summary="Scope"),
    Endpoint("GET", "/scope/{tenant}/{name}", admin_scope, auth=ADMIN, params=RecordPath,
             response=Scope, summary="An admin's scope"),
    Endpoint("GET", "/admins", viewers_only, auth=MACHINE, roles=["admin"], summary="Admins"),
]  # fmt: skip


def _service(database: Database | None) -> Service[NoSettings, Deps]:
    @asynccontextmanager
    async def deps(runtime: Runtime, settings: NoSettings) -> AsyncIterator[Deps]:
        yield Deps(database)

    return Service(name="shop", settings=NoSettings, deps=deps, endpoints=ENDPOINTS)


@dataclass
class Shop:
    host: ServiceHost[NoSettings, Deps]
    client: httpx.AsyncClient

    @property
    def deps(self) -> Deps:
        assert self.host.deps is not None
        return self.host.deps


@asynccontextmanager
async def shop(database: Database | None = None) -> AsyncIterator[Shop]:
    host = ServiceHost(_service(database), NoSettings(), broker=MemoryBroker(), database=database)
    await host.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}") as client:
            yield Shop(host, client)
    finally:
        await host.stop()


@pytest.fixture
async def running() -> AsyncIterator[Shop]:
    async with shop() as started:
        yield started


ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


# --- parameters ------------------------------------------------------------------------------


async def test_path_and_query_parameters_arrive_typed(running: Shop) -> None:
    response = await running.client.get(
        "/v1/items/7", params=[("limit", "3"), ("tags", "a"), ("tags", "b"), ("from", "2026-03-01")]
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "item": 7, "limit": 3, "tags": ["a", "b"], "since": "2026-03-01", "caller": "anonymous"
    }  # fmt: skip
    assert (await running.client.get("/v1/items/7")).json()["limit"] == 10


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/v1/items/0", "item", "0"),
        ("/v1/items/x", "item", "x"),
        ("/v1/items/7?limit=1000", "limit", "1000"),
        ("/v1/items/7?from=yesterday", "from", "yesterday"),
        ("/v1/items/7?limt=3", "limt", "3"),
        ("/v1/items/7?limit=1&limit=2", "limit", ["1", "2"]),
    ],
)
async def test_a_bad_parameter_is_422_naming_it_and_its_value(
    running: Shop, url: str, field: str, value: object
) -> None:
    response = await running.client.get(url)

    assert response.status_code == 422, response.text
    assert (response.json()["field"], response.json()["value"]) == (field, value)
    assert running.deps.refusals == [422]


# --- bodies ----------------------------------------------------------------------------------


async def test_a_body_is_read_as_json_or_msgpack(running: Shop) -> None:
    as_json = await running.client.post("/v1/items", json={"name": "salami", "count": 2})
    as_msgpack = await running.client.post(
        "/v1/items",
        content=msgspec.msgpack.encode({"name": "ham"}),
        headers={"Content-Type": "application/msgpack"},
    )

    assert (as_json.status_code, as_json.json()) == (201, {"name": "salami", "count": 2})
    assert as_json.headers["cache-control"] == "no-store"
    assert (as_msgpack.status_code, as_msgpack.json()) == (201, {"name": "ham", "count": 0})


async def test_a_form_body_is_read_into_the_struct(running: Shop) -> None:
    as_form = await running.client.post("/v1/items", data={"name": "ham & eggs", "count": "3"})

    assert (as_form.status_code, as_form.json()) == (201, {"name": "ham & eggs", "count": 3})


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"name=x&count=many", "count"), (b"name=x&cuont=1", "cuont"), (b"count=1", "name")],
)
async def test_a_bad_form_is_422_naming_the_field(running: Shop, body: bytes, field: str) -> None:
    response = await running.client.post("/v1/items", content=body, headers={"Content-Type": FORM})

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize("body", [b"name=x&name=y", b"name=\xff"])
async def test_an_unreadable_form_is_400(running: Shop, body: bytes) -> None:
    response = await running.client.post("/v1/items", content=body, headers={"Content-Type": FORM})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"name": ', "application/json", 400, "malformed"),
        (b'{"name": "x", "cuont": 1}', "application/json", 422, "invalid"),
        (b'{"name": ""}', "application/json; charset=utf-8", 422, "invalid"),
        (b'{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"name": "' + b"x" * 300 + b'"}', "application/json", 413, "too_large"),
    ],
)
async def test_a_bad_body_is_refused_saying_what_is_wrong(
    running: Shop, body: bytes, content_type: str, status: int, error: str
) -> None:
    response = await running.client.post(
        "/v1/items", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert running.deps.refusals == [status]


async def test_a_record_body_is_completed_by_the_path(running: Shop) -> None:
    url = "/v1/records/acme/salami"
    saved = await running.client.put(url, json={"colour": "blue"}, headers=ADMIN_HEADERS)
    contradicted = await running.client.put(url, json={"name": "ham"}, headers=ADMIN_HEADERS)
    bad_path = await running.client.put("/v1/records/acme/Salami", json={}, headers=ADMIN_HEADERS)
    forgotten = await running.client.delete(url, headers=ADMIN_HEADERS)

    assert saved.json() == {"tenant": "acme", "name": "salami", "colour": "blue"}
    assert (contradicted.status_code, contradicted.json()["field"]) == (422, "name")
    assert (bad_path.status_code, bad_path.json()["value"]) == (422, "Salami")
    assert (forgotten.status_code, forgotten.content) == (204, b"")


async def test_authentication_comes_before_anything_about_the_request(running: Shop) -> None:
    # A bad path, media type and body: a stranger learns only that it needs a token.
    response = await running.client.put(
        "/v1/records/acme/Salami", content=b"\xff", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# --- answers besides JSON --------------------------------------------------------------------


async def test_a_page_a_file_and_a_redirect(running: Shop) -> None:
    page_ = await running.client.get("/page")
    csv = await running.client.get("/report.csv")
    moved = await running.client.get("/go")

    assert page_.headers["content-type"] == "text/html; charset=utf-8"
    assert page_.text == "<h1>Lines</h1>"
    assert page_.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content == b"line;packs\nl1;120\n"
    disposition = csv.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Linie 1 _ M_rz.csv"')
    assert "filename*=UTF-8''Linie%201%20%E2%80%93%20M%C3%A4rz.csv" in disposition
    assert (moved.status_code, moved.headers["location"]) == (303, "/page")


def test_a_redirect_leaves_the_service_only_when_told() -> None:
    from tally.sdk import ContractError

    for location in ("https://evil.example/", "//evil.example/", "evil"):
        with pytest.raises(ContractError):
            Redirect(location)
    assert Redirect("https://idp.example/login", external=True).location.startswith("https")


async def test_events_stream_as_they_come_with_pings_between_and_the_source_closed_at_the_end(
    running: Shop,
) -> None:
    deps = running.deps
    async with running.client.stream("GET", "/live") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        assert await anext(lines) == ": ping"  # nothing to say yet: the stream stays alive
        deps.events.put_nowait(Event({"line": "l1", "packs": 120}, event="figures", id="1"))
        deps.events.put_nowait(Event("two\nlines"))
        deps.events.put_nowait(Event("end"))
        received = [line async for line in lines if line and line != ": ping"]

    assert received == [
        "event: figures", "id: 1", 'data: {"line":"l1","packs":120}', "data: two", "data: lines"
    ]  # fmt: skip
    assert deps.closed.is_set()


async def test_a_client_that_leaves_a_stream_closes_its_source(running: Shop) -> None:
    async with running.client.stream("GET", "/live") as response:
        assert await anext(response.aiter_lines()) == ": ping"

    await eventually(running.deps.closed.is_set)


# --- refusals --------------------------------------------------------------------------------


async def test_the_database_or_broker_away_is_503_with_retry_after(
    running: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    responses = [await running.client.get(p) for p in ("/away", "/away", "/broker-away")]

    assert [r.status_code for r in responses] == [503] * 3
    assert responses[0].headers["retry-after"] == "2"
    assert "database cannot be reached" in responses[0].json()["detail"]
    assert "broker cannot be reached" in responses[2].json()["detail"]
    # Once per kind: an outage fails every request alike.
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]


async def test_a_handlers_refusal_is_answered_and_seen_by_the_hook(running: Shop) -> None:
    response = await running.client.get("/refuse")

    assert (response.status_code, response.json()) == (409, {"error": "conflict", "detail": "no"})
    assert running.deps.refusals == [409]


async def test_a_caller_without_the_role_is_403(running: Shop) -> None:
    viewer = {"Authorization": "Bearer acme-viewer"}

    response = await running.client.get("/admins", headers=viewer)

    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert "admin" in response.json()["detail"]


# --- tenant scope ----------------------------------------------------------------------------


@pytest.mark.integration
async def test_a_tenant_callers_transactions_are_scoped_to_its_tenant(
    migrated_database_url: str, login_url: LoginUrl
) -> None:
    database = await Database.connect(login_url(migrated_database_url, "tally_app"), max_size=2)
    other = f"t{secrets.token_hex(4)}"
    try:
        async with shop(database) as running:
            viewer = {"Authorization": "Bearer acme-viewer"}
            mine = await running.client.get("/scope", headers=viewer)
            named = await running.client.get(f"/scope/{other}/x", headers=ADMIN_HEADERS)
    finally:
        await database.close()

    assert mine.json() == {"tenant": "acme"}
    assert named.json() == {"tenant": other}
