"""The AsyncAPI document: every topic a channel, every reference inside the document resolves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tally.cli.checks import _steps
from tally.cli.checks._asyncapi import asyncapi_document
from tally.cli.checks._workspace import load_workspace

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    workspace = load_workspace(ROOT)
    return asyncapi_document(_steps.nodes(workspace), workspace.topics)


def references(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" or (isinstance(item, str) and item.startswith("#/")):
                yield str(item)
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def test_the_telemetry_topic_is_a_channel_with_its_parameters(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    channel = document["channels"]["telemetry_tenant_machine_v1"]
    assert channel["address"] == "telemetry.{tenant}.{machine}"
    assert set(channel["parameters"]) == {"tenant", "machine"}
    assert channel["messages"] == {"Telemetry": {"$ref": "#/components/messages/Telemetry"}}


def test_producers_send_and_consumers_receive(document: dict[str, Any]) -> None:
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions == {
        "gateway_publishes_telemetry_tenant_machine_v1": "send",
        "recorder_recorder_consumes_telemetry_tenant_machine_v1": "receive",
        "recorder_publishes_stored_tenant_machine_v1": "send",
        "rollup_rollup_consumes_stored_tenant_machine_v1": "receive",
    }


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = list(references(document))
    assert "#/components/schemas/Counter" in found
    for reference in found:
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            assert part in target, f"{reference} does not resolve"
            target = target[part]
