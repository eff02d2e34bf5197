"""The OpenAPI document generated from declarations: every operation with its parameters,
body, answers and security, and every reference resolving."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from packages.sdk.tests.test_endpoints import ENDPOINTS, Deps
from tally.sdk import FORM, OpenApiInfo, openapi_document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    generated = openapi_document(ENDPOINTS, Deps(None), OpenApiInfo(description="A shop"), "shop")
    served: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(generated))
    return served


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def test_the_document_names_the_service(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "tally shop", "version": "1", "description": "A shop"}


def test_parameters_carry_their_fields_schemas_and_names(document: dict[str, Any]) -> None:
    find = operation(document, "get", "/v1/items/{item}")

    assert find["operationId"] == "find"
    assert find["parameters"] == [
        {"name": "item", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
        {"name": "tags", "in": "query", "required": False,
         "schema": {"type": "array", "items": {"type": "string"}, "default": []}},
        {"name": "from", "in": "query", "required": False,
         "schema": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
                    "default": None}},
    ]  # fmt: skip
    assert "security" not in find
    assert set(find["responses"]) == {"200", "422", "503"}
    # Parameters are inlined; their Structs are no components.
    assert not {"ItemPath", "Filter", "RecordPath"} & set(document["components"]["schemas"])


def test_a_body_in_two_media_types_with_its_limit(document: dict[str, Any]) -> None:
    add = operation(document, "post", "/v1/items")

    assert add["description"] == "Bodies up to 200 bytes."
    content = add["requestBody"]["content"]
    assert set(content) == {"application/json", "application/msgpack", FORM}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    assert set(add["responses"]) == {"201", "400", "413", "415", "422", "503"}
    assert add["responses"]["201"]["headers"]["Cache-Control"]["description"] == "always no-store"
    assert add["responses"]["400"]["description"] == (
        "The body is not well-formed JSON or MessagePack or form fields."
    )


def test_a_record_body_is_its_record_less_the_paths_ids(document: dict[str, Any]) -> None:
    put = operation(document, "put", "/v1/records/{tenant}/{name}")
    schemas = document["components"]["schemas"]

    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RecordBody"}
    assert schemas["RecordBody"]["properties"] == {"colour": {"type": "string", "default": "red"}}
    assert schemas["RecordBody"]["additionalProperties"] is False
    assert put["security"] == [{"adminToken": []}]
    assert "401" in put["responses"]


def test_answers_besides_json_name_their_media_types(document: dict[str, Any]) -> None:
    def success(path: str) -> tuple[str, dict[str, Any]]:
        [(status, answer)] = [
            (s, a) for s, a in operation(document, "get", path)["responses"].items()
            if s < "400"
        ]  # fmt: skip
        return status, answer

    assert success("/page")[1]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert success("/report.csv")[1]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert set(success("/live")[1]["content"]) == {"text/event-stream"}
    status, moved = success("/go")
    assert status == "303"
    assert "Location" in moved["headers"]
    assert "content" not in moved
    assert "204" in operation(document, "delete", "/v1/records/{tenant}/{name}")["responses"]


def test_refusals_by_role_and_scheme_are_listed(document: dict[str, Any]) -> None:
    admins = operation(document, "get", "/admins")

    assert set(admins["responses"]) == {"204", "401", "403", "503"}
    assert admins["security"] == [{"machineToken": []}]
    assert admins["responses"]["503"]["headers"]["Retry-After"]["schema"]["minimum"] == 1
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"adminToken", "machineToken"}
    problem = admins["responses"]["403"]["content"]["application/json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref" and isinstance(v, str))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    assert refs
    assert {ref.rpartition("/")[2] for ref in refs} <= set(document["components"]["schemas"])
