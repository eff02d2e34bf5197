"""The HTTP side of a service: its own routes plus /healthz, /readyz and /metrics.

Starlette routes, served by uvicorn inside the service's event loop (not uvicorn's own runner),
so the service decides when to stop and in which order.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tally.sdk._metrics import ServiceMetrics

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def build_app(
    routes: Sequence[BaseRoute], metrics: ServiceMetrics, readiness: ReadinessCheck
) -> Starlette:
    """The service's routes plus the operational ones."""

    async def healthz(_: Request) -> Response:
        # Alive as long as the event loop answers; readiness says whether to send traffic.
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics_endpoint(_: Request) -> Response:
        return PlainTextResponse(
            metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    every_route = [
        *routes,
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]
    app = Starlette(routes=every_route)
    app.add_middleware(_RequestMetrics, metrics=metrics, routes=every_route)
    return app


class _RequestMetrics:
    """Counts requests by route template (never by raw path: that would explode labels)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: Sequence[BaseRoute]) -> None:
        self._app = app
        self._metrics = metrics
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        route = next(
            (getattr(r, "path", "?") for r in self._routes if r.matches(scope)[0] == Match.FULL),
            "unmatched",
        )
        status = [500]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, record)
        finally:
            self._metrics.http_seconds.labels(route).observe(time.perf_counter() - started)
            self._metrics.http_requests.labels(route, str(status[0])).inc()


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the service runtime owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket. SO_REUSEPORT lets `--workers N` processes share a port
    and the kernel spread connections across them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def http_server(app: Starlette) -> uvicorn.Server:
    """A uvicorn server for `app`; start it with ``serve(sockets=[listening_socket(...)])``."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        # Machines keep connections open between uploads.
        timeout_keep_alive=30,
    )
    return _Server(config)
