"""Request bodies: a JSON object, merged with the ids in the path, read into a registry record.

The path names the entry (``PUT /v1/admin/tenants/acme/sites/plant-1``) and the body holds the
rest (``{"name": "Kempten", "timezone": "Europe/Berlin"}``). Both are converted into the record
together, so the record's own constraints (id alphabets, ranges, enums) judge the whole request
and nothing here repeats them. A violation names its field — a body field, or a path parameter
such as `tenant` — and the value the request held there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import msgspec

from tally.sdk import invalid, invalid_from, malformed

R = TypeVar("R", bound=msgspec.Struct)

# Any JSON: the body is checked as an object of known fields before it becomes a record.
_JSON = msgspec.json.Decoder()


def to_record(body: bytes, kind: type[R], path: Mapping[str, str]) -> R:
    """`kind` from the body's fields and the path's ids; `Rejected` (400, 422) otherwise."""
    try:
        fields = _JSON.decode(body)
    except msgspec.DecodeError as error:
        raise malformed(
            f"the body is not well-formed JSON ({error}); send a JSON object of the entry's fields"
        ) from None
    if not isinstance(fields, dict):
        raise invalid("the body must be a JSON object", "$", fields)
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
    fields: dict[str, object], kind: type[msgspec.Struct], path: Mapping[str, str]
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
