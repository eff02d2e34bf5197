"""HTTP error answers: one body shape for every refusal, and the exception that carries it.

    {"error": "invalid", "detail": "Expected `int`, got `str` - at `$.messages[0].seq`",
     "field": "messages[0].seq", "value": "x"}

`error` is a fixed word a client can branch on; `detail` is for the person reading it; the
other members appear only where they apply. `field` names the offending part — a path into the
body (``$`` is the body itself) or a path parameter such as `tenant` — and `value` what the
request held there (null when absent). Every service answers in this shape, so the clients of
all of them read one kind of error; a service with a member of its own subclasses `Problem`.

`Rejected`, like `Reject`, is a verdict rather than an error of the SDK: a route raises it and
answers with `rejected.response()`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from starlette.responses import Response

# Echoing a megabyte of offending input back helps nobody.
_MAX_ECHO_BYTES = 256


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every error answer."""

    # Members left UNSET are left out of the body; a service adds its own by subclassing.
    error: str
    detail: str
    field: str | msgspec.UnsetType = msgspec.UNSET
    value: Any = msgspec.UNSET
    limit_bytes: int | msgspec.UnsetType = msgspec.UNSET


class Rejected(Exception):
    """A request refused, with the answer to give: its status, body and headers."""

    def __init__(
        self, status: int, problem: Problem, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {problem.error}: {problem.detail}")
        self.status = status
        self.problem = problem
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The answer: `problem` as JSON, with `status` and `headers`."""
        return Response(
            msgspec.json.encode(self.problem),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def unauthorized(detail: str) -> Rejected:
    """401, asking for a bearer token (WWW-Authenticate: Bearer)."""
    return Rejected(
        401, Problem(error="unauthorized", detail=detail), {"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str) -> Rejected:
    """403: the caller is known, and may not do this."""
    return Rejected(403, Problem(error="forbidden", detail=detail))


def malformed(detail: str) -> Rejected:
    """400: the body cannot be read at all (not well-formed JSON, say)."""
    return Rejected(400, Problem(error="malformed", detail=detail))


def invalid(detail: str, field: str, value: object) -> Rejected:
    """422: `field` broke a constraint; `value` (what the request held there) is echoed short."""
    problem = Problem(error="invalid", detail=detail, field=field, value=presentable(value))
    return Rejected(422, problem)


def too_large(limit: int, advice: str = "") -> Rejected:
    """413 naming the limit (`limit_bytes`); `advice` tells the client what to send instead."""
    detail = f"the body exceeds the limit of {limit} bytes"
    if advice:
        detail = f"{detail}; {advice}"
    return Rejected(413, Problem(error="too_large", detail=detail, limit_bytes=limit))


def unsupported_media_type(content_type: str | None, accepted: Sequence[str]) -> Rejected:
    """415 naming the Content-Type sent and the ones `accepted`."""
    detail = f"Content-Type {content_type!r} is not accepted; send one of {list(accepted)}"
    return Rejected(415, Problem(error="unsupported_media_type", detail=detail))


def unavailable(detail: str, retry_after: int = 2) -> Rejected:
    """503 with Retry-After: something the answer depends on is away for now."""
    problem = Problem(error="unavailable", detail=f"{detail}; retry after {retry_after} s")
    return Rejected(503, problem, {"Retry-After": str(retry_after)})


def presentable(value: object) -> object:
    """`value` as JSON can carry it, and short: what an answer may echo of the request."""
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no literal for these; null would read as "absent".
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, msgspec.msgpack.Ext):
        return f"<MessagePack extension type {value.code}>"
    try:
        encoded = msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError, RecursionError):
        # e.g. a MessagePack map with array keys, which JSON cannot write, or arrays nested
        # deeper than the encoder recurses
        return f"<{type(value).__name__} that JSON cannot write>"
    if len(encoded) <= _MAX_ECHO_BYTES:
        return value
    if isinstance(value, list):
        return f"<array of {len(value)} items>"
    if isinstance(value, dict):
        return f"<object with {len(value)} fields>"
    if isinstance(value, str):
        return value[: _MAX_ECHO_BYTES // 4] + "..."
    return repr(value)[:_MAX_ECHO_BYTES]
