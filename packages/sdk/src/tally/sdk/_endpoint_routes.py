"""Serving declared endpoints: one starlette route per endpoint, and /openapi.json.

For each request, in this order (the first fault answers):

    1. authenticate (the scheme's 401/403), then the endpoint's roles (403)
    2. path parameters, then query parameters (422 naming the parameter)
    3. the body: Content-Type (415), size (413), decoding (400, 422 naming the field)
    4. the handler: its answer encoded (JSON unless it is an `Answer`), or its `Rejected`
       answered; the database or broker away (`TransactionFailed`, `BrokerUnavailable`, a
       socket error) is a 503 with Retry-After, logged once per kind and window

Authentication comes first, so nothing about a path or body is told to a stranger. Anything
else a handler raises is a Problem 500 (tally.sdk._http_errors).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tally.sdk._answers import Answer, is_answer
from tally.sdk._call import Call, NoParams
from tally.sdk._database import Database
from tally.sdk._endpoint import JSON, AnyEndpoint
from tally.sdk._endpoint_requests import BodyReader, ParamsReader, QueryReader
from tally.sdk._errors import BrokerUnavailable, TransactionFailed
from tally.sdk._log_limiter import LogLimiter
from tally.sdk._problems import Rejected, forbidden, unavailable

_log = logging.getLogger("tally.sdk.http")
_NO_PARAMS = NoParams()
# What the service depends on is away: retry later. (TimeoutError and the socket errors of a
# connection that cannot be made are OSErrors.)
_AWAY = (TransactionFailed, BrokerUnavailable, OSError)


def endpoint_routes(
    endpoints: Sequence[AnyEndpoint[Any]],
    deps: object,
    database: Database | None,
    openapi: bytes,
) -> list[BaseRoute]:
    """The routes serving `endpoints` with `deps`, and GET /openapi.json serving `openapi`."""
    repeats = LogLimiter(_log)
    routes: list[BaseRoute] = [
        Route(e.path, _Runner(e, deps, database, repeats).handle, methods=[e.method])
        for e in endpoints
    ]

    async def document(_: Request) -> Response:
        return Response(openapi, media_type=JSON)

    routes.append(Route("/openapi.json", document, methods=["GET"]))
    return routes


def body_limit(endpoint: AnyEndpoint[Any], deps: object) -> int:
    """The endpoint's body limit in bytes, for these Deps."""
    limit = endpoint.body_limit
    return limit if isinstance(limit, int) else limit(deps)


class _Runner:
    """Runs one endpoint's requests; everything per endpoint is worked out once, here."""

    def __init__(
        self,
        endpoint: AnyEndpoint[Any],
        deps: object,
        database: Database | None,
        repeats: LogLimiter,
    ) -> None:
        self._endpoint = endpoint
        self._deps = deps
        self._database = database
        self._repeats = repeats
        self._auth = endpoint.auth
        self._handler = endpoint.handler
        self._roles = endpoint.roles
        self._params = None if endpoint.params is NoParams else ParamsReader(endpoint.params)
        self._query = None if endpoint.query is NoParams else QueryReader(endpoint.query)
        body = endpoint.body
        self._body = None if body is None else BodyReader(body, body_limit(endpoint, deps))
        self._status = endpoint.status
        self._headers = endpoint.headers
        self._json = endpoint.response is not None and not is_answer(endpoint.response)
        self._encode = msgspec.json.Encoder().encode

    async def handle(self, request: Request) -> Response:
        try:
            call = await self._call(request)
            answer = await self._handler(self._deps, call)
        except Rejected as rejected:
            return self._refuse(rejected)
        except _AWAY as error:
            what = "broker" if isinstance(error, BrokerUnavailable) else "database"
            self._repeats.warning(
                ("away", what, type(error).__name__),
                "%s %s: the %s cannot be reached: %r",
                request.method,
                self._endpoint.path,
                what,
                error,
            )
            return self._refuse(unavailable(f"the {what} cannot be reached right now"))
        if self._json:
            body = self._encode(answer)
            return Response(body, self._status, self._headers, media_type=JSON)
        if isinstance(answer, Answer):
            return answer.response(self._status, self._headers)
        return Response(status_code=self._status, headers=self._headers)

    async def _call(self, request: Request) -> Call[Any, Any, Any, Any]:
        caller = await self._auth.authenticate(self._deps, request)
        if self._roles and caller.role not in self._roles:
            roles = sorted(self._roles)
            raise forbidden(f"this needs the role {' or '.join(roles)}; yours is {caller.role}")
        return Call(
            caller=caller,
            path=_NO_PARAMS if self._params is None else self._params.read(request.path_params),
            query=_NO_PARAMS if self._query is None else self._query.read(request.query_params),
            body=None if self._body is None else await self._body.read(request),
            headers=request.headers,
            client=_host(request),
            database=self._database,
        )

    def _refuse(self, rejected: Rejected) -> Response:
        if self._endpoint.on_refusal is not None:
            self._endpoint.on_refusal(self._deps, rejected)
        else:
            _log.debug("refused %s %s: %s", self._endpoint.method, self._endpoint.path, rejected)
        return rejected.response()


def _host(request: Request) -> str | None:
    # From the scope: `request.client` builds a named tuple each time it is read.
    client = request.scope.get("client")
    return str(client[0]) if client else None
