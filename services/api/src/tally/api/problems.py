"""Error answers: one body shape for every refusal, and the exception that carries it.

    {"error": "invalid", "detail": "Expected `str` matching regex ... - at `$.site`",
     "field": "site", "value": "plant 1"}

`error` is a fixed word a client can branch on; `detail` is for the person reading it; `field`
names the offending part (a body field, or a path parameter such as `tenant`) and `value` what
the request held there (null when absent). The shape is the gateway's, so clients of both read
one kind of error.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
from starlette.responses import Response

# Echoing a large offending input back helps nobody.
_MAX_ECHO_BYTES = 256


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every error answer."""

    error: str
    detail: str
    field: str | msgspec.UnsetType = msgspec.UNSET
    value: Any = msgspec.UNSET


class Rejected(Exception):
    """A request the API refuses, with the answer to give."""

    def __init__(
        self, status: int, problem: Problem, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {problem.error}: {problem.detail}")
        self.status = status
        self.problem = problem
        self.headers = headers or {}

    def response(self) -> Response:
        return Response(
            msgspec.json.encode(self.problem),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def unauthorized(detail: str) -> Rejected:
    return Rejected(
        401, Problem(error="unauthorized", detail=detail), {"WWW-Authenticate": "Bearer"}
    )


def malformed(detail: str) -> Rejected:
    return Rejected(400, Problem(error="malformed", detail=detail))


def too_large(limit: int) -> Rejected:
    detail = f"the body exceeds the limit of {limit} bytes"
    return Rejected(413, Problem(error="too_large", detail=detail))


def invalid(detail: str, field: str, value: object) -> Rejected:
    problem = Problem(error="invalid", detail=detail, field=field, value=presentable(value))
    return Rejected(422, problem)


def not_found(detail: str, field: str, value: str) -> Rejected:
    return Rejected(404, Problem(error="not_found", detail=detail, field=field, value=value))


def conflict(detail: str, field: str, value: object) -> Rejected:
    return Rejected(409, Problem(error="conflict", detail=detail, field=field, value=value))


def unavailable(detail: str, retry_after: int = 2) -> Rejected:
    problem = Problem(error="unavailable", detail=f"{detail}; retry after {retry_after} s")
    return Rejected(503, problem, {"Retry-After": str(retry_after)})


def presentable(value: object) -> object:
    """`value` as JSON can carry it, and short."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no literal for these; null would read as "absent"
    try:
        encoded = msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):
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
