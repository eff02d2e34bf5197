"""The API's own error answers: 404 for an entry the path names, 409 for a missing parent.

The body shape and the common answers (401, 400, 413, 422, 503) are `tally.sdk`'s, the same as
the gateway's, so clients of both read one kind of error.
"""

from __future__ import annotations

from tally.sdk import Problem, Rejected


def not_found(detail: str, field: str, value: str) -> Rejected:
    return Rejected(404, Problem(error="not_found", detail=detail, field=field, value=value))


def conflict(detail: str, field: str, value: object) -> Rejected:
    return Rejected(409, Problem(error="conflict", detail=detail, field=field, value=value))
