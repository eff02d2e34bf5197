"""Reading a request into what an endpoint declares: path and query parameters, and the body.

Each reader is built once per endpoint and raises `Rejected` for any fault, naming the field:

    path     422: a parameter breaks its type (`field` is the parameter's name)
    query    422: an unknown parameter, one given twice that holds one value, or a bad value
    body     415 Content-Type not declared · 413 over the limit · 400 unreadable · 422 invalid

Query strings are read only by endpoints that declare query parameters; the others ignore
them, as they always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.datastructures import QueryParams
from starlette.requests import Request

from tally.sdk._body_formats import BodyFormat, form_body, json_body, msgpack_body
from tally.sdk._endpoint import FORM, JSON, Body, Payload
from tally.sdk._problems import invalid, unsupported_media_type
from tally.sdk._record_bodies import RecordBody
from tally.sdk._request_bodies import invalid_from, read_body

_MANY = (msgspec.inspect.ListType, msgspec.inspect.SetType, msgspec.inspect.FrozenSetType)


class ParamsReader:
    """Path parameters (strings in the URL) into the declared Struct."""

    def __init__(self, kind: type[Any]) -> None:
        self._kind = kind

    def read(self, raw: Mapping[str, str]) -> Any:
        try:
            return msgspec.convert(raw, self._kind, strict=False)
        except msgspec.ValidationError as error:
            raise invalid_from(error, dict(raw)) from None


class QueryReader:
    """Query parameters into the declared Struct; list fields take the parameter repeated."""

    def __init__(self, kind: type[Any]) -> None:
        self._kind = kind
        info = msgspec.inspect.type_info(kind)
        assert isinstance(info, msgspec.inspect.StructType)
        self._many = {f.encode_name for f in info.fields if isinstance(f.type, _MANY)}
        self._names = sorted(f.encode_name for f in info.fields)

    def read(self, query: QueryParams) -> Any:
        document: dict[str, Any] = {}
        for name in query:
            values = query.getlist(name)
            if name not in self._names:
                detail = f"unknown query parameter {name!r}; this endpoint takes {self._names}"
                raise invalid(detail, name, values[-1])
            if name in self._many:
                document[name] = values
            elif len(values) > 1:
                raise invalid(f"query parameter {name!r} takes one value", name, values)
            else:
                document[name] = values[0]
        try:
            return msgspec.convert(document, self._kind, strict=False)
        except msgspec.ValidationError as error:
            raise invalid_from(error, document) from None


_FORMATS = {JSON: ("JSON", json_body), FORM: ("form", form_body)}


class BodyReader:
    """The body, within `limit` bytes, in one of the declared media types."""

    def __init__(self, body: Body[Any], limit: int) -> None:
        self._limit = limit
        self._too_large = body.too_large
        self._payload = body.kind is Payload
        self._record = RecordBody(body.kind, body.advice) if body.merge_path else None
        self._formats: dict[str, BodyFormat[Any] | None] = {}
        for media_type in body.media_types:
            name, make = _FORMATS.get(media_type, ("MessagePack", msgpack_body))
            undecoded = self._payload or self._record is not None
            advice = body.advice.format(name=name)
            self._formats[media_type] = None if undecoded else make(body.kind, advice=advice)
        self.accepted = list(body.media_types)

    async def read(self, request: Request) -> Any:
        content_type = request.headers.get("content-type")
        media_type = (content_type or "").partition(";")[0].strip().lower()
        if media_type not in self._formats:
            raise unsupported_media_type(content_type, self.accepted)
        data = await read_body(request, self._limit, advice=self._too_large)
        form = self._formats[media_type]
        if form is not None:
            return form.decode(data)
        if self._record is not None:
            return self._record.read(data, request.path_params)
        return Payload(data, media_type)
