"""Error answers: one body shape for every refusal, and the exception that carries it.

    {"error": "invalid", "detail": "Expected `int`, got `str` - at `$.messages[0].seq`",
     "field": "messages[0].seq", "value": "x"}

`error` is a fixed word a machine can branch on; `detail` is for the person reading the log;
the other fields appear where they apply. `field` is a path into the body (``$`` is the body
itself) and `value` what the body held there (null when absent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.responses import Response

# Echoing a megabyte of offending input back helps nobody.
_MAX_ECHO_BYTES = 256


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every error answer."""

    error: str
    detail: str
    field: str | msgspec.UnsetType = msgspec.UNSET
    value: Any = msgspec.UNSET
    limit_bytes: int | msgspec.UnsetType = msgspec.UNSET
    rate_per_second: float | msgspec.UnsetType = msgspec.UNSET


class Rejected(Exception):
    """A request the gateway refuses, with the answer to give."""

    def __init__(
        self, status: int, problem: Problem, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {problem.error}: {problem.detail}")
        self.status = status
        self.problem = problem
        self.headers = dict(headers or {})

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


def unsupported_media_type(content_type: str | None, accepted: list[str]) -> Rejected:
    detail = f"Content-Type {content_type!r} is not accepted; send one of {accepted}"
    return Rejected(415, Problem(error="unsupported_media_type", detail=detail))


def too_large(limit: int) -> Rejected:
    detail = f"the body exceeds the limit of {limit} bytes; send fewer messages per upload"
    return Rejected(413, Problem(error="too_large", detail=detail, limit_bytes=limit))


def malformed(detail: str) -> Rejected:
    return Rejected(400, Problem(error="malformed", detail=detail))


def invalid(detail: str, field: str, value: object) -> Rejected:
    problem = Problem(error="invalid", detail=detail, field=field, value=presentable(value))
    return Rejected(422, problem)


def rate_limited(tenant: str, rate_per_second: float, retry_after: int) -> Rejected:
    detail = (
        f"tenant {tenant!r} may send {rate_per_second:g} datapoints per second (with a short "
        f"burst); retry after {retry_after} s or ask for a larger budget"
    )
    problem = Problem(error="rate_limited", detail=detail, rate_per_second=rate_per_second)
    return Rejected(429, problem, {"Retry-After": str(retry_after)})


def unavailable(detail: str, retry_after: int = 2) -> Rejected:
    problem = Problem(error="unavailable", detail=f"{detail}; retry after {retry_after} s")
    return Rejected(503, problem, {"Retry-After": str(retry_after)})


def presentable(value: object) -> object:
    """`value` as JSON can carry it, and short."""
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no literal for these; null would read as "absent".
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, msgspec.msgpack.Ext):
        return f"<MessagePack extension type {value.code}>"
    try:
        encoded = msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):
        # e.g. a MessagePack map with array keys, which JSON cannot write
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
