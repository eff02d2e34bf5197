"""The OpenAPI 3.1 document of the API, generated from the registry's records and the views, so
it cannot drift from what the endpoints accept and answer.

A request body is its record less the ids the path gives (`SiteBody` is `Site` without `tenant`
and `site`); a path parameter has the schema of the record field it stands for.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from tally.api.views import Articles, ArticleView, IssuedToken, Lines, Machines, Sites, Tenants
from tally.registry import Article, Line, Machine, Site, Tenant
from tally.sdk import Problem

_REF = "#/components/schemas/{name}"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
_TENANT = "/v1/admin/tenants/{tenant}"
_TOKENS = f"{_TENANT}/machines/{{machine}}/tokens"
# Which record each path parameter names: its schema is that record's field.
_ID_OF = {"tenant": Tenant, "site": Site, "line": Line, "machine": Machine, "article": Article}

_ERRORS = {
    "400": "The body is not well-formed JSON.",
    "401": "Missing or wrong administrators' token.",
    "404": "The tenant (or machine) in the path does not exist; `field` names it.",
    "409": "A parent named in the body (a line's site, a machine's line) does not exist; "
    "`field` and `value` name it. Create it first.",
    "413": "The body is larger than the API accepts.",
    "415": "The body is not declared `application/json` (Content-Type).",
    "422": "The request breaks a constraint of the record; `field` and `value` name the "
    "offending part (a body field or a path parameter).",
    "503": "The database cannot be reached right now; retry after Retry-After.",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}
}
_READ = ("401", "404", "422", "503")
_WRITE = ("400", "401", "404", "413", "415", "422", "503")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    response: type[msgspec.Struct] | None
    body: type[msgspec.Struct] | None = None
    status: str = "200"
    errors: tuple[str, ...] = _READ


OPERATIONS = (
    Operation(
        "get", "/v1/admin/tenants", "listTenants", "Every tenant", Tenants, errors=("401", "503")
    ),
    Operation("get", _TENANT, "getTenant", "One tenant", Tenant),
    Operation(
        "put", _TENANT, "putTenant", "Create or update a tenant", Tenant, Tenant,
        errors=("400", "401", "413", "415", "422", "503"),
    ),
    Operation("get", f"{_TENANT}/sites", "listSites", "The tenant's sites", Sites),
    Operation(
        "put", f"{_TENANT}/sites/{{site}}", "putSite", "Create or update a site", Site, Site,
        errors=_WRITE,
    ),
    Operation("get", f"{_TENANT}/lines", "listLines", "The tenant's lines", Lines),
    Operation(
        "put", f"{_TENANT}/lines/{{line}}", "putLine", "Create or update a line", Line, Line,
        errors=(*_WRITE, "409"),
    ),
    Operation("get", f"{_TENANT}/machines", "listMachines", "The tenant's machines", Machines),
    Operation(
        "put", f"{_TENANT}/machines/{{machine}}", "putMachine", "Create or update a machine",
        Machine, Machine, errors=(*_WRITE, "409"),
    ),
    Operation(
        "get", f"{_TENANT}/articles", "listArticles",
        "The tenant's articles, with TNE, T1 and T2 of the weight law", Articles,
    ),
    Operation(
        "put", f"{_TENANT}/articles/{{article}}", "putArticle",
        "Create or update an article; answers with TNE, T1 and T2 of the weight law",
        ArticleView, Article, errors=_WRITE,
    ),
    Operation(
        "post", _TOKENS, "issueMachineToken",
        "A new token for the machine, shown once; earlier tokens of the machine are revoked",
        IssuedToken, status="201", errors=(*_READ, "409"),
    ),
    Operation(
        "delete", _TOKENS, "revokeMachineTokens", "Revoke every token of the machine", None,
        status="204",
    ),
)  # fmt: skip


def openapi_document() -> dict[str, Any]:
    """The document served at /openapi.json."""
    types: list[Any] = [Problem, *_ID_OF.values()]
    types += [op.response for op in OPERATIONS if op.response is not None]
    _, schemas = msgspec.json.schema_components(types, ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tally API",
            "version": "1",
            "description": "Tenant administration for platform administrators.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The platform administrators' token (TALLY_API_ADMIN_TOKEN).",
                }
            },
        },
    }


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    names = _PATH_PARAMETER.findall(op.path)
    answer: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        answer["content"] = _json(op.response.__name__)
    responses = {op.status: answer}
    for status in op.errors:
        responses[status] = {"description": _ERRORS[status], "content": _json("Problem")}
        if status == "503":
            responses[status]["headers"] = _RETRY_AFTER
    document: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "security": [{"adminToken": []}],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schemas[_ID_OF[name].__name__]["properties"][name],
            }
            for name in names
        ],
        "responses": responses,
    }
    if op.body is not None:
        body = f"{op.body.__name__}Body"
        schemas[body] = _without(schemas[op.body.__name__], names, body)
        document["requestBody"] = {"required": True, "content": _json(body)}
    return document


def _without(schema: dict[str, Any], names: list[str], title: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(schema)
    trimmed["title"] = title
    for name in names:
        trimmed["properties"].pop(name, None)
    trimmed["required"] = [r for r in trimmed.get("required", []) if r not in names]
    trimmed["additionalProperties"] = False
    return trimmed


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(name=name)}}}
