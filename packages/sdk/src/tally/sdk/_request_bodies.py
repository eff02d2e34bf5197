"""Request bodies: read within a size limit, and refused naming the field and value at fault.

    body = await read_body(request, limit=65_536)          # 413 past the limit
    try:
        record = msgspec.json.decode(body, type=Site)
    except msgspec.ValidationError as error:
        raise invalid_from(error, msgspec.json.decode(body)) from None   # 422, field and value

The typed decoder judges the body; its verdict names a path (``$.messages[0].seq``), and the
body decoded as plain data (the "document") tells what the client sent there.
"""

from __future__ import annotations

import re

import msgspec
from starlette.requests import Request

from tally.sdk._problems import Rejected, invalid, too_large

_MISSING_FIELD = re.compile(r"^Object missing required field `([^`]+)`")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `([^`]+)`")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


async def read_body(request: Request, limit: int, *, advice: str = "") -> bytes:
    """The request's body; `Rejected` (413, see `too_large`) past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, advice)
    # Counted while streaming too: a chunked body declares no length.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit, advice)
        chunks.append(chunk)
    return b"".join(chunks)


def invalid_from(error: msgspec.ValidationError, document: object) -> Rejected:
    """The 422 for a decoder's `error`: the field it names and what `document` held there.

    A missing field is named itself (``messages[0].seq``), not the object lacking it, with the
    value null; so is an unknown one, with the value it holds.
    """
    message = str(error)
    reason, found, at = message.rpartition(" - at `")
    path = at.rstrip("`") if found else "$"
    missing = _MISSING_FIELD.match(reason if found else message)
    if missing:
        return invalid(message, f"{path}.{missing.group(1)}".removeprefix("$."), None)
    unknown = _UNKNOWN_FIELD.match(reason if found else message)
    if unknown:
        field = f"{path}.{unknown.group(1)}".removeprefix("$.")
        # A misspelt optional field would otherwise fall back to its default unnoticed.
        detail = f"{message}; leave it out, or correct its spelling (see /openapi.json)"
        return invalid(detail, field, value_at(document, field))
    field = path.removeprefix("$.")
    return invalid(message, field, value_at(document, field))


def value_at(document: object, field: str) -> object:
    """What `document` holds at `field` ("messages[0].signals[2].value"); None when absent.

    ``$`` is the document itself.
    """
    if field == "$":
        return document
    value = document
    for key, index in _STEP.findall("." + field):
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value
