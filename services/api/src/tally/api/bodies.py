"""Request bodies: a JSON object, merged with the ids in the path, read into a registry record.

The path names the entry (``PUT /v1/admin/tenants/acme/sites/plant-1``) and the body holds the
rest (``{"name": "Kempten", "timezone": "Europe/Berlin"}``). Both are converted into the record
together, so the record's own constraints (id alphabets, ranges, enums) judge the whole request
and nothing here repeats them. A violation names its field — a body field, or a path parameter
such as `tenant` — and the value the request held there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from starlette.datastructures import Headers

from tally.sdk import invalid, invalid_from, json_body, unsupported_media_type

R = TypeVar("R", bound=msgspec.Struct)

MEDIA_TYPE = "application/json"
# Any JSON object: its fields are checked by name before they become a record.
_OBJECT = json_body(dict[str, Any], advice="send a JSON object of the entry's fields")


def check_media_type(headers: Headers) -> None:
    """`Rejected` (415) unless the body is declared JSON: a form or text body would otherwise
    be read as JSON by accident."""
    content_type = headers.get("content-type")
    if (content_type or "").partition(";")[0].strip().lower() != MEDIA_TYPE:
        raise unsupported_media_type(content_type, [MEDIA_TYPE])


def to_record(body: bytes, kind: type[R], path: Mapping[str, str]) -> R:
    """`kind` from the body's fields and the path's ids; `Rejected` (400, 422) otherwise."""
    fields = _OBJECT.decode(body)
    _check_names(fields, kind, path)
    merged = {**fields, **path}
    try:
        return msgspec.convert(merged, kind)
    except msgspec.ValidationError as error:
        raise invalid_from(error, merged) from None


def body_fields(kind: type[msgspec.Struct], path: Mapping[str, str]) -> list[str]:
    """The fields a body may hold: the record's, less those the path gives."""
    return [name for name in kind.__struct_fields__ if name not in path]


def _check_names(
    fields: dict[str, Any], kind: type[msgspec.Struct], path: Mapping[str, str]
) -> None:
    allowed = body_fields(kind, path)
    for name, value in fields.items():
        if name in path:
            # Echoing the whole record back is fine; contradicting the path is not.
            if value != path[name]:
                raise invalid(
                    f"{name} is given by the path ({path[name]!r}); leave it out of the body",
                    name,
                    value,
                )
        elif name not in allowed:
            # A misspelt optional field would otherwise fall back to its default unnoticed.
            raise invalid(f"unknown field {name!r}; a body may hold {allowed}", name, value)


def path_id(value: str, kind: type[msgspec.Struct], field: str) -> str:
    """A path parameter, checked against the constraint of the record field it stands for."""
    annotation = next(f.type for f in msgspec.structs.fields(kind) if f.name == field)
    try:
        return str(msgspec.convert(value, annotation))
    except msgspec.ValidationError as error:
        raise invalid(f"{field} {value!r}: {error}", field, value) from None
