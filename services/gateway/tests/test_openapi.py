"""The OpenAPI document, as served: generated from the endpoint's declaration, and saying what
the hand-written document said before it (openapi_served.json, kept as it was served)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.gateway.tests.conftest import StartGateway

pytestmark = pytest.mark.integration

SERVED_BEFORE = Path(__file__).with_name("openapi_served.json")


async def test_the_document_says_what_the_hand_written_one_said(
    start_gateway: StartGateway,
) -> None:
    gateway = await start_gateway()

    document = (await gateway.client.get("/openapi.json")).json()

    # Written out in full when the declarations replaced the hand-written operation tables
    # (issue 8); change it together with the API, on purpose.
    assert document == json.loads(SERVED_BEFORE.read_text())


async def test_the_document_describes_the_ingest_endpoint(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()

    response = await gateway.client.get("/openapi.json")

    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["openapi"].startswith("3.1")
    post = document["paths"]["/v1/telemetry"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/json",
        "application/msgpack",
        "application/x-msgpack",
    }
    ref = "#/components/schemas/{}".format
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": ref("Upload")}
    assert set(post["responses"]) == {"200", "400", "401", "413", "415", "422", "429", "503"}
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": ref("UploadResult")
    }
    assert post["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": ref("Problem")
    }
    assert "Retry-After" in post["responses"]["503"]["headers"]
    schemas = document["components"]["schemas"]
    assert {"Upload", "UploadResult", "Problem", "MachineMessage", "Gauge"} <= set(schemas)
    assert document["components"]["securitySchemes"]["machineToken"]["scheme"] == "bearer"
    assert post["security"] == [{"machineToken": []}]


async def test_every_reference_resolves(start_gateway: StartGateway) -> None:
    gateway = await start_gateway()
    document = (await gateway.client.get("/openapi.json")).json()

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
    names = set(document["components"]["schemas"])
    assert refs
    assert {ref.rpartition("/")[2] for ref in refs} <= names
