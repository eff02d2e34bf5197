"""What a service answers when no route of its own does: every answer is a `Problem`.

    404  no route has the path            {"error": "not_found", "field": "path", ...}
    405  a route has it, not the method   {"error": "method_not_allowed", ...} + Allow
    500  a route raised unexpectedly      {"error": "internal", ...}, logged once with traceback

A 500 is answered here rather than by uvicorn, which closes the connection after an exception
reaches it: a machine on a keep-alive connection would lose it for another request's bug. A
client that goes away while sending its body is no error of ours: one quiet log line.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tally.sdk._problems import Problem, Rejected

_log = logging.getLogger("tally.sdk.http")

_INTERNAL = Rejected(
    500,
    Problem(
        error="internal",
        detail="the server failed unexpectedly answering this request; the failure is logged. "
        "Retry later, and report it if it persists",
    ),
)


async def http_problem(request: Request, error: Exception) -> Response:
    """The Problem for starlette's own refusals: no route (404), wrong method (405)."""
    assert isinstance(error, HTTPException)
    method, path = request.method, request.url.path
    if error.status_code == 404:
        detail = f"no route {method} {path}; see /openapi.json for the paths this service serves"
        problem = Problem(error="not_found", detail=detail, field="path", value=path)
    elif error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        detail = f"{path} does not take {method}; it takes {allowed}"
        problem = Problem(error="method_not_allowed", detail=detail, field="method", value=method)
    else:
        problem = Problem(error="http_error", detail=f"{error.status_code}: {error.detail}")
    return Rejected(error.status_code, problem, error.headers).response()


class UnexpectedErrors:
    """ASGI middleware: an exception a route let through becomes a Problem 500."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, watched)
        except ClientDisconnect:
            # Nobody is left to answer; the client sends the request again if it cares.
            _log.info("client went away while sending %s %s", scope["method"], scope["path"])
        except Exception:
            if started:
                raise  # half an answer is out: only closing the connection is honest now
            _log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            await _INTERNAL.response()(scope, receive, send)
