"""The OpenAPI 3.1 document of the ingest endpoint, generated from the contract types so it
cannot drift from what the gateway accepts."""

from __future__ import annotations

from typing import Any

import msgspec

from tally.contracts import Upload, UploadResult
from tally.gateway.problems import Problem
from tally.gateway.settings import GatewaySettings
from tally.gateway.uploads import FORMATS

_REF = "#/components/schemas/{name}"

_ERRORS = {
    "400": "The body is not well-formed JSON or MessagePack.",
    "401": "Missing, unknown or revoked machine token.",
    "413": "The body exceeds the size limit (`limit_bytes`), or one message (`field`) is larger "
    "than the broker stores as JSON (`limit_bytes`); nothing of the upload is stored. Split it "
    "as `detail` says.",
    "415": "The Content-Type is neither JSON nor MessagePack.",
    "422": "The body breaks the contract, or a timestamp is implausible; `field` and `value` "
    "name the offending part.",
    "429": "The tenant exceeds its datapoint rate (`rate_per_second`); retry after Retry-After.",
    "503": "The broker did not confirm storage; retry after Retry-After. Messages stored "
    "meanwhile are de-duplicated when the upload is sent again.",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}
}


def openapi_document(settings: GatewaySettings) -> dict[str, Any]:
    """The document served at /openapi.json."""
    (upload, result, problem), schemas = msgspec.json.schema_components(
        [Upload, UploadResult, Problem], ref_template=_REF
    )
    responses: dict[str, Any] = {
        "200": {
            "description": "Every message is stored by the broker. `accepted` counts messages "
            "stored now, `duplicates` those stored by an earlier upload.",
            "content": {"application/json": {"schema": result}},
        }
    }
    for status, description in _ERRORS.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": problem}},
        }
        if status in ("429", "503"):
            response["headers"] = _RETRY_AFTER
        responses[status] = response
    ingest = {
        "operationId": "uploadTelemetry",
        "summary": "Upload messages of the authenticated machine",
        "description": "The tenant and machine come from the token, never from the body. "
        "Answers 200 only after the broker has stored every message; sending the same "
        f"upload again is safe. Bodies up to {settings.max_body_bytes} bytes.",
        "security": [{"machineToken": []}],
        "requestBody": {
            "required": True,
            "content": {media_type: {"schema": upload} for media_type in FORMATS},
        },
        "responses": responses,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "tally gateway", "version": "1"},
        "paths": {"/v1/telemetry": {"post": ingest}},
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "machineToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token issued for one machine.",
                }
            },
        },
    }
