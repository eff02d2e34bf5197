"""The document is generated from the declarations: it says what the hand-written one said
(openapi_served.json, kept as it was served), plus what that one left out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tally.accounts import Accounts
from tally.api.admin import ApiDeps
from tally.api.service import REGISTRY_ENDPOINTS, service
from tally.registry import Registry
from tally.sdk import AnyEndpoint, Secret, openapi_document

TENANT_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"userSession": []}]
SERVED_BEFORE = Path(__file__).with_name("openapi_served.json")
_PUTS = ("", "/sites/{site}", "/lines/{line}", "/machines/{machine}", "/articles/{article}")


def _document(
    max_body_bytes: int = 65_536, endpoints: Sequence[AnyEndpoint[ApiDeps]] = REGISTRY_ENDPOINTS
) -> dict[str, Any]:
    deps = ApiDeps(
        registry=Registry.__new__(Registry),
        admin_token=Secret("x"),
        max_body_bytes=max_body_bytes,
        accounts=Accounts.__new__(Accounts),
    )
    document = openapi_document(endpoints, deps, service.openapi, service.name)
    served: dict[str, Any] = json.loads(json.dumps(document))  # as served: JSON
    return served


def test_the_document_says_what_the_hand_written_one_said_and_what_it_left_out() -> None:
    document = _document()
    paths = document["paths"]

    # Added: the body limit of every PUT, and the token's Cache-Control.
    for put in _PUTS:
        operation = paths[f"/v1/admin/tenants/{{tenant}}{put}"]["put"]
        assert operation.pop("description") == "Bodies up to 65536 bytes."
    issued = paths["/v1/admin/tenants/{tenant}/machines/{machine}/tokens"]["post"]
    assert issued["responses"]["201"].pop("headers") == {
        "Cache-Control": {"description": "always no-store", "schema": {"type": "string"}}
    }
    # The hand-written document listed no parameters as an empty list.
    paths["/v1/admin/tenants"]["get"]["parameters"] = []
    before = json.loads(SERVED_BEFORE.read_text())
    # The figures API's `Sites` (tally.contracts.figures) shares the name of the admin's list
    # of sites; the document tells the two apart by their modules.
    document = json.loads(json.dumps(document).replace("tally.api.views.Sites", "Sites"))
    paths = document["paths"]
    # It covered the tenant administration alone: those paths and schemas, as they were.
    assert {path: paths[path] for path in before["paths"]} == before["paths"]
    schemas = document["components"]["schemas"]
    assert {name: schemas[name] for name in before["components"]["schemas"]} == before[
        "components"
    ]["schemas"]


def test_a_request_body_is_its_record_less_the_path_ids() -> None:
    document = _document(max_body_bytes=1000)
    schemas = document["components"]["schemas"]
    put_line = document["paths"]["/v1/admin/tenants/{tenant}/lines/{line}"]["put"]

    assert put_line["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LineBody"
    }
    assert set(schemas["LineBody"]["properties"]) == {"site", "name"}
    assert schemas["LineBody"]["required"] == ["site", "name"]
    assert set(schemas["Line"]["properties"]) == {"tenant", "line", "site", "name"}
    assert [p["name"] for p in put_line["parameters"]] == ["tenant", "line"]
    assert put_line["parameters"][0]["schema"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$"
    assert put_line["description"] == "Bodies up to 1000 bytes."


def test_every_operation_needs_the_admin_token_and_answers_problems() -> None:
    document = _document(endpoints=service.endpoints)

    for endpoint in service.endpoints:
        if not endpoint.path.startswith("/v1/admin/"):
            continue
        described = document["paths"][endpoint.openapi_path][endpoint.method.lower()]
        if endpoint.path.startswith("/v1/admin"):
            assert described["security"] == [{"adminToken": []}]
        elif endpoint.path != "/v1/session" or endpoint.method != "POST":
            assert described["security"] in ([{"userSession": []}], TENANT_SECURITY)
        assert "401" in described["responses"]
        # Every route needs the database, so every one can be 503.
        assert "Retry-After" in described["responses"]["503"]["headers"]
    article = document["components"]["schemas"]["ArticleView"]
    assert {"tne_g", "t1_g", "t2_g", "nominal_g"} <= set(article["properties"])
