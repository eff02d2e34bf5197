"""Bodies that complete a record with the ids in the path (`Body(..., merge_path=True)`).

The path names the entry (``PUT /v1/admin/tenants/acme/sites/plant-1``) and the body holds the
rest (``{"name": "Kempten", "timezone": "Europe/Berlin"}``). Both are converted into the record
together, so the record's own constraints (id alphabets, ranges, enums) judge the whole request
and nothing repeats them. A violation names its field — a body field, or a path parameter such
as `tenant` — and the value the request held there. A body may repeat a path id (echoing a
record back is fine) but not contradict it, and may hold no field the record lacks: a misspelt
optional field would otherwise fall back to its default unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from tally.sdk._body_formats import json_body
from tally.sdk._problems import invalid
from tally.sdk._request_bodies import invalid_from

R = TypeVar("R")


class RecordBody:
    """Reads JSON objects into records of one type, completed by the path."""

    def __init__(self, kind: type[Any], advice: str) -> None:
        self._kind = kind
        self._fields = tuple(f.encode_name for f in msgspec.structs.fields(kind))
        self._object = json_body(dict[str, Any], advice=advice)

    def read(self, body: bytes, path: Mapping[str, str]) -> Any:
        """The record from the body's fields and the path's ids; `Rejected` (400, 422)."""
        fields = self._object.decode(body)
        self._check_names(fields, path)
        merged = {**fields, **path}
        try:
            return msgspec.convert(merged, self._kind)
        except msgspec.ValidationError as error:
            raise invalid_from(error, merged) from None

    def body_fields(self, path: Mapping[str, str] | list[str]) -> list[str]:
        """The fields a body may hold: the record's, less those the path gives."""
        return [name for name in self._fields if name not in path]

    def _check_names(self, fields: dict[str, Any], path: Mapping[str, str]) -> None:
        allowed = self.body_fields(path)
        for name, value in fields.items():
            if name in path:
                if value != path[name]:
                    raise invalid(
                        f"{name} is given by the path ({path[name]!r}); leave it out of the body",
                        name,
                        value,
                    )
            elif name not in allowed:
                raise invalid(f"unknown field {name!r}; a body may hold {allowed}", name, value)
