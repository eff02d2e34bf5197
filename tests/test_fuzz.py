"""A property-based fuzzer of every public endpoint of the gateway and the api, against the
services as real processes on real NATS JetStream and PostgreSQL.

Requests are drawn from the OpenAPI documents the services serve: bodies valid by the document,
the same bodies made hostile (see `fuzz_requests`), wrong Content-Types and tokens, unknown
paths and methods. Whatever is sent:

- no answer is ≥ 500, and every answer is one the document declares for its operation (404/405
  for paths and methods no operation has), with a Problem body for every refusal;
- what the document says is valid is accepted (so the document describes what is served);
- a machine token stores only under its own tenant and machine, whatever the body says;
- every admin route answers 401 to anything but the administrators' token, changing nothing.

Derandomized: the same requests on every run.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tally.contracts import TELEMETRY_STREAM, Telemetry
from tally.sdk import NatsBroker

from .conftest import Pipeline
from .fuzz_requests import PATH_SEGMENTS, document_values, hostile_body, pool, resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN_TOKEN = "fuzz-admin-token-" + "y" * 24
# Each example sends a few requests built from one document: ten thousand and more in all.
REQUESTS_PER_EXAMPLE = 4
GATEWAY_EXAMPLES = 1_400
API_EXAMPLES = 1_200
_PARAMETER = re.compile(r"\{(\w+)\}")
_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Target:
    """One running service: a client, the document it serves, and what was sent to it."""

    client: httpx.Client
    document: dict[str, Any]
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def send(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        response = self.client.request(method, url, content=body, headers=headers)
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response


@dataclass
class Fleet:
    gateway: Target
    api: Target
    tenant: str
    machine: str
    token: str
    other_tenants: list[str]
    other_machine: tuple[str, str]
    other_token: str
    database_url: str
    nats_url: str


@pytest.fixture
def fleet(pipeline: Pipeline) -> Iterator[Fleet]:
    gateway = pipeline.services.start("gateway")
    api = pipeline.services.start("api", extra={"TALLY_API_ADMIN_TOKEN": ADMIN_TOKEN})
    asyncio.run(_ready(pipeline, gateway, api))
    tokens = list(pipeline.tokens.items())
    (tenant, machine), token = tokens[0]
    other_machine, other_token = next(t for t in tokens if t[0][0] != tenant)
    with (
        httpx.Client(base_url=gateway.url, timeout=30.0) as gateway_client,
        httpx.Client(base_url=api.url, timeout=30.0) as api_client,
    ):
        yield Fleet(
            gateway=Target(gateway_client, gateway_client.get("/openapi.json").json()),
            api=Target(api_client, api_client.get("/openapi.json").json()),
            tenant=tenant,
            machine=machine,
            token=token,
            other_tenants=sorted({t for (t, _) in pipeline.tokens} - {tenant}),
            other_machine=other_machine,
            other_token=other_token,
            database_url=pipeline.database_url,
            nats_url=pipeline.nats_url,
        )


async def _ready(pipeline: Pipeline, *services: Any) -> None:
    await asyncio.gather(*(pipeline.services.wait_ready(s) for s in services))


def _declared(document: dict[str, Any], path: str, method: str) -> set[int]:
    operation = document["paths"][path][method.lower()]
    return {int(status) for status in operation["responses"]}


def _check_answer(response: httpx.Response, allowed: set[int]) -> None:
    status = response.status_code
    request = f"{response.request.method} {response.request.url.raw_path!r}"
    assert status < 500, f"{request} -> {status}: {response.text[:500]}"
    assert status in allowed, f"{request} -> {status} not declared {allowed}: {response.text[:300]}"
    if status >= 400 and response.request.method != "HEAD":
        problem = response.json()
        assert isinstance(problem["error"], str), problem
        assert isinstance(problem["detail"], str), problem


# --- the gateway ---------------------------------------------------------------------------------


def test_the_gateway_answers_every_request_without_a_server_error(fleet: Fleet) -> None:
    target = fleet.gateway
    upload = target.document["paths"]["/v1/telemetry"]["post"]["requestBody"]["content"]
    declared = _declared(target.document, "/v1/telemetry", "post")
    auths = {
        "own": {"Authorization": f"Bearer {fleet.token}"},
        "none": {},
        "other tenant": {"Authorization": f"Bearer {fleet.other_token}"},
        "wrong": {"Authorization": "Bearer tly_forged"},
        "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        "basic": {"Authorization": f"Basic {fleet.token}"},
    }
    uploads = st.sampled_from(
        pool(document_values(upload["application/json"]["schema"], target.document), 200)
    )
    accepted_with: set[str] = set()

    @_settings(GATEWAY_EXAMPLES)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        document = data.draw(uploads, "upload")
        # Valid by the document: accepted (or rate-limited), as JSON and as MessagePack alike.
        msgpack = data.draw(st.booleans(), "msgpack")
        body = msgspec.msgpack.encode(document) if msgpack else msgspec.json.encode(document)
        media = "application/msgpack" if msgpack else "application/json"
        headers = {**auths["own"], "Content-Type": media}
        _check_answer(target.send("POST", "/v1/telemetry", body, headers), {200, 429})
        accepted_with.add("own")
        for _ in range(REQUESTS_PER_EXAMPLE - 2):  # the same document made hostile
            body, media = data.draw(hostile_body(document), "hostile")
            name = data.draw(st.sampled_from(["own", "own", "own", *auths]), "auth")
            headers = {**auths[name], "Content-Type": media}
            response = target.send("POST", "/v1/telemetry", body, headers)
            _check_answer(response, declared)
            if response.status_code == 200:
                accepted_with.add(name)
        _unknown_route(data, target, ["/v1/telemetry", "/openapi.json"])

    fuzz()
    assert target.sent >= GATEWAY_EXAMPLES * REQUESTS_PER_EXAMPLE
    assert target.statuses.get(200, 0) >= GATEWAY_EXAMPLES // 2, target.statuses
    asyncio.run(_only_own_messages_stored(fleet, accepted_with))


def _unknown_route(data: st.DataObject, target: Target, known: list[str]) -> None:
    method = data.draw(st.sampled_from(_METHODS), "method")
    segments = data.draw(st.lists(PATH_SEGMENTS, max_size=4), "segments")
    path = data.draw(st.sampled_from([*known, "", "/v1", "/metrics", "/healthz"]), "base")
    path = "/".join([path.rstrip("/"), *segments]) or "/"
    if data.draw(st.booleans(), "slash"):
        path += "/"
    response = target.send(method, path, b"", {})
    # As sent: the client resolves "." and ".." segments.
    sent = response.request.url.path
    allowed = {404, 405}
    for route, item in target.document["paths"].items():
        if route == sent and method.lower() in item:
            allowed |= _declared(target.document, route, method)
    if sent == "/openapi.json" and method in ("GET", "HEAD"):
        allowed.add(200)
    _check_answer(response, allowed)


async def _only_own_messages_stored(fleet: Fleet, accepted_with: set[str]) -> None:
    """Everything the fuzzed gateway stored is under the tenant and machine of a token that got
    a 200, whatever the bodies said."""
    broker = await NatsBroker.connect(fleet.nats_url)
    try:
        stored = await broker.browse(TELEMETRY_STREAM, "telemetry.>", limit=100_000)
    finally:
        await broker.close()
    assert stored, "the fuzzer stored nothing: it tested only refusals"
    machines = {"own": (fleet.tenant, fleet.machine), "other tenant": fleet.other_machine}
    allowed = {f"telemetry.{t}.{m}" for name, (t, m) in machines.items() if name in accepted_with}
    for message in stored:
        telemetry = msgspec.json.decode(message.data, type=Telemetry)
        assert message.subject in allowed, message.subject
        assert message.subject == f"telemetry.{telemetry.tenant}.{telemetry.machine}"


# --- the api -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: dict[str, dict[str, Any]]
    body: dict[str, Any] | None


def _operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            # Path parameters only: the fuzzer sends no query (and a query parameter may share
            # a path parameter's name with another schema: `site` of /v1/live).
            parameters = {
                p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"
            }
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(Operation(method.upper(), path, parameters, body))
    return found


def _url(operation: Operation, values: dict[str, str]) -> str:
    return _PARAMETER.sub(lambda m: quote(values[m.group(1)], safe=""), operation.path)


# Bodies with rules no JSON Schema states, so that a body valid by the document may be 422.
_RULES_BEYOND_THE_DOCUMENT = {
    # The shifts must fit in the site's production day (from its day start).
    "/v1/admin/tenants/{tenant}/sites/{site}/plans",
    # A state rule must name something (a model, names, a mode or sub-states).
    "/v1/admin/tenants/{tenant}/settings",
}


def _tenant_credentials(fleet: Fleet) -> tuple[dict[str, str], dict[str, str]]:
    """An admin API key of the fleet's tenant, and a session of an admin user of it (cookie and
    CSRF token), for the tenants' own endpoints."""
    client = fleet.api.client
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    base = f"/v1/admin/tenants/{fleet.tenant}"
    made = client.post(f"{base}/keys", json={"name": "fuzz", "role": "admin"}, headers=admin)
    assert made.status_code == 201, made.text
    password = "fuzz " + "p" * 20
    user = {"email": "fuzz@example.com", "name": "Fuzz", "role": "admin", "password": password}
    assert client.post(f"{base}/users", json=user, headers=admin).status_code == 201
    login = {"tenant": fleet.tenant, "email": user["email"], "password": password}
    session = client.post("/v1/session", json=login)
    assert session.status_code == 200, session.text
    cookie = session.headers["set-cookie"].partition(";")[0]
    return (
        {"Authorization": f"Bearer {made.json()['key']}"},
        {"Cookie": cookie, "X-CSRF-Token": session.json()["csrf_token"]},
    )


def _credentials(
    operation: Operation, admin: dict[str, str], key: dict[str, str], session: dict[str, str]
) -> tuple[dict[str, str], set[int]]:
    """Whom the operation takes, and what a request valid by the document may get besides
    done, not found and conflict: a made-up login is refused (or rate-limited), and a fuzzed
    logout ends the session the other /v1/session requests use."""

    if operation.path in _RULES_BEYOND_THE_DOCUMENT:
        return admin, {422}
    if operation.path.startswith("/v1/admin"):
        return admin, set()
    if operation.path == "/v1/session":
        return session, {401, 429}
    if operation.path in ("/", "/login") or operation.path.startswith("/dashboard"):
        # The dashboard's pages and event stream take a session, never a key: the key is
        # sent to the login page (303) or refused (401). (A session would hold the event
        # stream open for as long as it lives.)
        return key, {303, 401}
    return key, set()


def test_the_api_answers_every_request_without_a_server_error(fleet: Fleet) -> None:
    target = fleet.api
    document = target.document
    operations = [op for op in _operations(document) if op.path != "/openapi.json"]
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    key, session = _tenant_credentials(fleet)

    tenants = [fleet.tenant, *fleet.other_tenants]
    parameters = {
        name: st.sampled_from(pool(document_values(schema, document), 50))
        for op in operations
        for name, schema in op.parameters.items()
    }
    parameters["tenant"] = st.one_of(st.sampled_from(tenants), parameters["tenant"])
    bodies = {
        op.path: st.sampled_from(pool(document_values(resolve(op.body, document), document), 100))
        for op in operations
        if op.body is not None
    }

    @_settings(API_EXAMPLES)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations), "operation")
        values = {name: data.draw(parameters[name], name) for name in operation.parameters}
        content = data.draw(bodies[operation.path], "body") if operation.body else None
        # Valid by the document: done, or a tenant or parent that does not exist yet.
        body = b"" if content is None else msgspec.json.encode(content)
        who, refusals = _credentials(operation, admin, key, session)
        headers = {**who, "Content-Type": "application/json"}
        response = target.send(operation.method, _url(operation, values), body, headers)
        _check_answer(response, {200, 201, 204, 404, 409} | refusals)
        if response.status_code == 404:  # an entry that does not exist, never an unknown route
            assert response.json()["field"] != "path", response.text
        declared = _declared(document, operation.path, operation.method)
        for _ in range(REQUESTS_PER_EXAMPLE - 1):  # made hostile: path, body or both
            hostile = dict(values)
            bad_path = data.draw(st.booleans(), "hostile path")
            if values and bad_path:
                name = data.draw(st.sampled_from(sorted(values)), "parameter")
                hostile[name] = data.draw(PATH_SEGMENTS, "segment")
            body, media = b"", data.draw(st.sampled_from(["application/json", "text/plain"]))
            if content is not None:
                body, media = data.draw(hostile_body(content), "hostile body")
            headers = {**who, "Content-Type": media}
            response = target.send(operation.method, _url(operation, hostile), body, headers)
            # A hostile path segment may match no route at all: 404, or 405; or ".." another
            # route of the caller's (a dashboard file's ".." is the dashboard: 303 for a key).
            _check_answer(response, declared | {404, 405} | refusals)

    fuzz()
    assert target.sent >= API_EXAMPLES * REQUESTS_PER_EXAMPLE
    assert sum(n for status, n in target.statuses.items() if status < 300) >= API_EXAMPLES // 4


_NOT_ADMIN = ["none", "wrong", "basic", "suffix", "machine", "empty", "prefix"]


def test_every_admin_route_refuses_all_but_the_admin_token_and_changes_nothing(
    fleet: Fleet,
) -> None:
    target = fleet.api
    # The admin routes; the tenants' own refuse the same tokens (a machine's, a made-up one) but
    # are fuzzed with their own credentials above.
    operations = [op for op in _operations(target.document) if op.path.startswith("/v1/admin")]
    headers: dict[str, Callable[[], dict[str, str]]] = {
        "none": dict,
        "wrong": lambda: {"Authorization": "Bearer " + "z" * 40},
        "basic": lambda: {"Authorization": f"Basic {ADMIN_TOKEN}"},
        "suffix": lambda: {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
        "prefix": lambda: {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        "machine": lambda: {"Authorization": f"Bearer {fleet.token}"},
        "empty": lambda: {"Authorization": "Bearer"},
    }
    before = asyncio.run(_registry_rows(fleet.database_url))

    @_settings(400)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations), "operation")
        values = {
            n: data.draw(document_values(s, target.document), n)
            for n, s in operation.parameters.items()
        }
        if "tenant" in values:
            values["tenant"] = data.draw(st.sampled_from([fleet.tenant, *fleet.other_tenants]))
        body = b""
        if operation.body is not None:
            body = msgspec.json.encode(
                data.draw(
                    document_values(resolve(operation.body, target.document), target.document)
                )
            )
        auth = headers[data.draw(st.sampled_from(_NOT_ADMIN), "auth")]()
        response = target.send(
            operation.method,
            _url(operation, values),
            body,
            {**auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 401, (operation, auth, response.text)
        assert response.json()["error"] == "unauthorized"

    fuzz()
    # Every operation was tried with every kind of wrong token at least once.
    assert target.sent >= 400
    assert asyncio.run(_registry_rows(fleet.database_url)) == before


async def _registry_rows(database_url: str) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = []
        for table in ("tenants", "sites", "lines", "machines", "articles", "machine_tokens"):
            rows += [(table, *r.values()) for r in await connection.fetch(f"SELECT * FROM {table}")]
    finally:
        await connection.close()
    return sorted(rows, key=repr)
