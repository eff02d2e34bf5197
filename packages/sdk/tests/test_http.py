"""The HTTP edge of every service: answers in the Problem shape whatever goes wrong, connections
that survive an unexpected error, and operations endpoints kept off the public port."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import msgspec
import pytest

from tally.sdk import (
    PUBLIC,
    Anonymous,
    Body,
    Call,
    Endpoint,
    File,
    MemoryBroker,
    NoParams,
    NoSettings,
    Payload,
    Runtime,
    Service,
    ServiceHost,
)
from tally.sdk.testing import eventually


@asynccontextmanager
async def _deps(_: Runtime, __: NoSettings) -> AsyncIterator[None]:
    yield None


async def hello(_: None, __: Call[Anonymous]) -> File:
    return File(b"hello", "text/plain")


async def boom(_: None, __: Call[Anonymous]) -> File:
    raise RuntimeError("a bug in a route")


async def echo(_: None, call: Call[Anonymous, NoParams, NoParams, Payload]) -> File:
    return File(call.body.data, "text/plain")


SERVICE = Service(
    name="edge",
    settings=NoSettings,
    deps=_deps,
    endpoints=[
        Endpoint("GET", "/hello", hello, auth=PUBLIC, response=File, summary="Hello"),
        Endpoint("GET", "/boom", boom, auth=PUBLIC, response=File, summary="A bug"),
        Endpoint(
            "POST",
            "/echo",
            echo,
            auth=PUBLIC,
            body=Body(Payload, schema=bytes),
            response=File,
            summary="The body, back",
            body_limit=1_000_000,
        ),
    ],
)


@pytest.fixture
async def host() -> AsyncIterator[ServiceHost[NoSettings, None]]:
    started = ServiceHost(SERVICE, NoSettings(), broker=MemoryBroker())
    await started.start()
    yield started
    await started.stop()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One request and its answer over an open connection: status, headers, body."""
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def test_an_unexpected_error_is_a_problem_500_on_a_connection_that_stays_open(
    host: ServiceHost[NoSettings, None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", host.port)
    try:
        status, headers, body = await _exchange(
            reader, writer, b"GET /boom HTTP/1.1\r\nHost: edge\r\n\r\n"
        )
        assert status == 500
        assert headers["content-type"] == "application/json"
        problem = msgspec.json.decode(body)
        assert problem["error"] == "internal"
        assert "a bug in a route" not in problem["detail"]  # internals stay in the log

        # The same connection serves the next request: keep-alive survived the error.
        again = await _exchange(reader, writer, b"GET /hello HTTP/1.1\r\nHost: edge\r\n\r\n")
        assert again[0] == 200
        assert again[2] == b"hello"
    finally:
        writer.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is not None
    assert "a bug in a route" in str(errors[0].exc_info[1])


async def test_unknown_paths_and_methods_are_problems_naming_them(
    host: ServiceHost[NoSettings, None],
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}") as client:
        missing = await client.get("/nowhere")
        wrong_method = await client.delete("/hello")

    assert missing.status_code == 404
    assert missing.json() == {
        "error": "not_found",
        "detail": "no route GET /nowhere; see /openapi.json for the paths this service serves",
        "field": "path",
        "value": "/nowhere",
    }
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert "GET" in wrong_method.json()["detail"]
    assert "GET" in wrong_method.headers["allow"]


async def test_a_trailing_slash_is_a_404_not_a_redirect_built_from_the_host_header(
    host: ServiceHost[NoSettings, None],
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}") as client:
        response = await client.get("/hello/", headers={"Host": "attacker.example"})

    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json()["value"] == "/hello/"


async def test_operations_endpoints_answer_on_the_operations_port_only(
    host: ServiceHost[NoSettings, None],
) -> None:
    assert host.ops_port not in (0, host.port)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.port}") as public:
        assert (await public.get("/hello")).status_code == 200
        for path in ("/metrics", "/healthz", "/readyz"):
            assert (await public.get(path)).status_code == 404, path
        assert (await public.delete("/hello")).status_code == 405
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{host.ops_port}") as ops:
        assert (await ops.get("/healthz")).json() == {"status": "ok"}
        assert (await ops.get("/readyz")).status_code == 200
        metrics = (await ops.get("/metrics")).text
        assert (await ops.get("/hello")).status_code == 404
    assert 'tally_http_requests_total{route="/hello",status="200"} 1.0' in metrics
    # Counted by template; paths and methods no route has are one label, not one per path.
    assert 'tally_http_requests_total{route="unmatched",status="404"} 3.0' in metrics
    assert 'tally_http_requests_total{route="unmatched",status="405"} 1.0' in metrics


async def test_a_client_gone_while_sending_its_body_is_no_error(
    host: ServiceHost[NoSettings, None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, writer = await asyncio.open_connection("127.0.0.1", host.port)
    writer.write(
        b"POST /echo HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\npartial"
    )
    await writer.drain()
    writer.close()

    await eventually(lambda: any("went away" in r.getMessage() for r in caplog.records))
    (gone,) = [r for r in caplog.records if "went away" in r.getMessage()]
    assert "POST /echo" in gone.getMessage()
    assert gone.levelno <= logging.INFO
    assert gone.exc_info is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
