"""The HTTP side of a service: its own routes on the public port, and /healthz, /readyz and
/metrics on an operations port of their own.

The metrics name every tenant and its volumes, so they never share a port with what machines and
browsers reach; the operations port is for probes and Prometheus inside the deployment.
Starlette apps, served by uvicorn inside the service's event loop (not uvicorn's own runner), so
the service decides when to stop and in which order.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

import uvicorn
from prometheus_client import Counter, Histogram
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tally.sdk._http_errors import UnexpectedErrors, http_problem
from tally.sdk._metrics import ServiceMetrics

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def build_app(routes: Sequence[BaseRoute], metrics: ServiceMetrics) -> Starlette:
    """The public app: the service's routes, counted; anything else a Problem (404, 405)."""
    return _app(routes, Middleware(_RequestMetrics, metrics=metrics))


def build_ops_app(metrics: ServiceMetrics, readiness: ReadinessCheck) -> Starlette:
    """The operations app: liveness, readiness and the Prometheus metrics."""

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

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return _app(routes)


def _app(routes: Sequence[BaseRoute], *middleware: Middleware) -> Starlette:
    app = Starlette(
        routes=list(routes),
        # Outermost first: what counts requests sees the 500 that UnexpectedErrors answers.
        middleware=[*middleware, Middleware(UnexpectedErrors)],
        exception_handlers={HTTPException: http_problem},
    )
    # A redirect to the path without its slash would take its Location from the Host header,
    # which the client chooses; a clear 404 naming the path serves every client better.
    app.router.redirect_slashes = False
    return app


class _RequestMetrics:
    """Counts requests by route template (never by raw path: that would explode labels).

    The template is the route the router chose (it leaves it in the scope), so no request is
    routed twice; a path no route has, or a method it does not take, counts as "unmatched".
    The counters of each (route, status) are looked up once: `labels()` takes a lock per call.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self._app = app
        self._metrics = metrics
        self._counters: dict[tuple[str, int], tuple[Histogram, Counter]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = [500]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, record)
        finally:
            seconds, requests = self._of(scope.get("route"), status[0])
            seconds.observe(time.perf_counter() - started)
            requests.inc()

    def _of(self, route: object, status: int) -> tuple[Histogram, Counter]:
        template = getattr(route, "path", None) if status != 405 else None
        key = (template or "unmatched", status)
        found = self._counters.get(key)
        if found is None:
            found = self._counters[key] = (
                self._metrics.http_seconds.labels(key[0]),
                self._metrics.http_requests.labels(key[0], str(status)),
            )
        return found


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
