"""The OpenAPI 3.1 document of a service, generated from its endpoint declarations.

Schemas are msgspec's JSON Schema of the declared types (components, referenced by name); path
and query parameters carry the schemas of their Struct's fields; a `merge_path` body is its
record less the path's ids (`SiteBody` is `Site` without `tenant` and `site`). Every operation
lists the answers it can give: its success, the scheme's refusals, the SDK's own (422 for
parameters, 400/413/415/422 for a body, 503 with Retry-After) and those the endpoint declares,
every refusal with the Problem schema. A body's size limit is stated in the description.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from tally.sdk._answers import is_answer
from tally.sdk._call import NoParams
from tally.sdk._endpoint import FORM, JSON, AnyEndpoint
from tally.sdk._endpoint_routes import body_limit

_REF = "#/components/schemas/{name}"
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}
}
_SDK_ANSWERS = {
    403: "The caller's role may not do this.",
    413: "The body is larger than this endpoint accepts (`limit_bytes`).",
    422: "The request breaks a constraint; `field` and `value` name the offending part.",
    503: "The database or the broker cannot be reached right now; retry after Retry-After.",
}


@dataclass(frozen=True)
class OpenApiInfo:
    """The document's `info`: its title (default "tally <service>"), version, description."""

    title: str | None = None
    description: str = ""
    version: str = "1"


def openapi_document(
    endpoints: Sequence[AnyEndpoint[Any]], deps: object, info: OpenApiInfo, service: str
) -> dict[str, Any]:
    """The document served at /openapi.json (`deps` give the body limits)."""
    schemas = _Schemas(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    security: dict[str, Any] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.openapi_path, {})[endpoint.method.lower()] = _operation(
            endpoint, schemas, body_limit(endpoint, deps) if endpoint.body else 0
        )
        security.update(endpoint.auth.schemes())
    about: dict[str, Any] = {"title": info.title or f"tally {service}", "version": info.version}
    if info.description:
        about["description"] = info.description
    components: dict[str, Any] = {"schemas": schemas.components}
    if security:
        components["securitySchemes"] = security
    return {"openapi": "3.1.0", "info": about, "paths": paths, "components": components}


class _Schemas:
    """Every declared type's schema, as components, and the parameters' field schemas."""

    def __init__(self, endpoints: Sequence[AnyEndpoint[Any]]) -> None:
        documented: list[Any] = []
        parameters: list[Any] = []
        for e in endpoints:
            documented.append(e.problem)
            if e.response is not None and not is_answer(e.response):
                documented.append(e.response)
            if e.body is not None:
                documented.append(e.body.schema)
            parameters += [kind for kind in (e.params, e.query) if kind is not NoParams]
        kinds = list(dict.fromkeys([*documented, *parameters]))
        found, self.components = msgspec.json.schema_components(kinds, ref_template=_REF)
        self.refs: dict[Any, dict[str, Any]] = dict(zip(kinds, found, strict=True))
        self._fields = {
            kind: self.components[_name(self.refs[kind])]["properties"] for kind in parameters
        }
        for kind in set(parameters) - set(documented):
            # Inlined as parameters; a component of their own would be referenced by nothing.
            del self.components[_name(self.refs[kind])]

    def field(self, kind: type[Any], name: str) -> dict[str, Any]:
        return dict(self._fields[kind][name])

    def body(self, endpoint: AnyEndpoint[Any]) -> dict[str, Any]:
        assert endpoint.body is not None
        ref = self.refs[endpoint.body.schema]
        if not endpoint.body.merge_path:
            return ref
        record = _name(ref)
        name = f"{record}Body"
        trimmed = copy.deepcopy(self.components[record])
        trimmed["title"] = name
        for parameter in endpoint.parameters:
            trimmed["properties"].pop(parameter, None)
        required = trimmed.get("required", [])
        trimmed["required"] = [r for r in required if r not in endpoint.parameters]
        trimmed["additionalProperties"] = False
        self.components[name] = trimmed
        return {"$ref": _REF.format(name=name)}


def _operation(endpoint: AnyEndpoint[Any], schemas: _Schemas, limit: int) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": endpoint.operation_id, "summary": endpoint.summary}
    description = endpoint.description
    if endpoint.body is not None:
        description = f"{description} Bodies up to {limit} bytes.".strip()
    if description:
        operation["description"] = description
    if security := endpoint.auth.security():
        operation["security"] = security
    if parameters := _parameters(endpoint, schemas):
        operation["parameters"] = parameters
    if endpoint.body is not None:
        body = schemas.body(endpoint)
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": body} for media in endpoint.body.media_types},
        }
    operation["responses"] = _responses(endpoint, schemas)
    return operation


def _parameters(endpoint: AnyEndpoint[Any], schemas: _Schemas) -> list[dict[str, Any]]:
    found = [
        {"name": n, "in": "path", "required": True, "schema": schemas.field(endpoint.params, n)}
        for n in endpoint.parameters
    ]
    if endpoint.query is not NoParams:
        for field in msgspec.structs.fields(endpoint.query):
            found.append(
                {
                    "name": field.encode_name,
                    "in": "query",
                    "required": field.required,
                    "schema": schemas.field(endpoint.query, field.encode_name),
                }
            )
    return found


def _responses(endpoint: AnyEndpoint[Any], schemas: _Schemas) -> dict[str, Any]:
    success: dict[str, Any] = {"description": endpoint.returns}
    if endpoint.produces:
        if is_answer(endpoint.response):
            schema = {"type": "string"}
            if endpoint.produces and not endpoint.produces[0].startswith("text/"):
                schema["format"] = "binary"
            success["content"] = {media: {"schema": schema} for media in endpoint.produces}
        else:
            success["content"] = {JSON: {"schema": schemas.refs[endpoint.response]}}
    headers = {
        name: {"description": f"always {value}", "schema": {"type": "string"}}
        for name, value in endpoint.headers.items()
    }
    if 300 <= endpoint.status < 400:
        headers["Location"] = {"description": "Where to go", "schema": {"type": "string"}}
    if headers:
        success["headers"] = headers
    responses: dict[str, Any] = {str(endpoint.status): success}
    problem = {JSON: {"schema": schemas.refs[endpoint.problem]}}
    for status, description in _refusals(endpoint).items():
        answer: dict[str, Any] = {"description": description, "content": problem}
        if status in (429, 503):
            answer["headers"] = _RETRY_AFTER
        responses[str(status)] = answer
    return responses


def _refusals(endpoint: AnyEndpoint[Any]) -> dict[int, str]:
    """Status → description of every refusal the endpoint may answer."""
    found = dict(endpoint.auth.refusals)
    if endpoint.roles:
        found[403] = _SDK_ANSWERS[403]
    if endpoint.params is not NoParams or endpoint.query is not NoParams:
        found[422] = _SDK_ANSWERS[422]
    if endpoint.body is not None:
        media = endpoint.body.media_types
        names = {JSON: "JSON", FORM: "form fields"}
        formats = " or ".join(dict.fromkeys(names.get(m, "MessagePack") for m in media))
        found[400] = f"The body is not well-formed {formats}."
        found[413] = _SDK_ANSWERS[413]
        found[415] = f"The Content-Type is not {' or '.join(dict.fromkeys(media))}."
        found[422] = _SDK_ANSWERS[422]
    found[503] = _SDK_ANSWERS[503]
    found.update(endpoint.errors)
    return dict(sorted(found.items()))


def _name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rpartition("/")[2]
