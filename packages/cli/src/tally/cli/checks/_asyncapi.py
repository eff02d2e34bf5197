"""An AsyncAPI 3.0 document of every topic, generated from the same contracts as the lock.

One channel per topic (its pattern as the address, each `{placeholder}` a parameter), one
message per contract type with msgspec's JSON Schema as its payload, and per service a `send`
operation for each topic it publishes and a `receive` operation for each consumer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from tally.cli.checks._graph import ServiceNode
from tally.sdk import Topic

_DEFS = "#/$defs/"
_SCHEMAS = "#/components/schemas/"


def asyncapi_document(nodes: Sequence[ServiceNode], topics: Sequence[Topic[Any]]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for topic in sorted(topics, key=lambda t: t.name):
        message = topic.type.__name__
        root = msgspec.json.schema(topic.type)
        schemas.update(_rebased(root.get("$defs", {})))
        messages[message] = {
            "name": message,
            "title": message,
            "contentType": "application/json",
            "payload": _rebased({"$ref": root["$ref"]} if "$ref" in root else root),
        }
        channels[_channel_id(topic)] = {
            "address": topic.pattern,
            "title": topic.name,
            "description": f"stream {topic.stream.name}, version {topic.version}",
            "parameters": {key: {"description": f"the message's `{key}`"} for key in topic.keys},
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "tally",
            "version": "1.0.0",
            "description": "Every topic that crosses a tally service boundary (NATS JetStream).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": _operations(nodes),
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def _operations(nodes: Sequence[ServiceNode]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for node in sorted(nodes, key=lambda n: n.name):
        for topic in node.publishes:
            name = f"{node.name}_publishes_{_channel_id(topic)}"
            operations[name] = _operation("send", topic, f"{node.name} publishes")
        for consumer, topic in node.consumes:
            name = f"{node.name}_{consumer}_consumes_{_channel_id(topic)}"
            operations[name] = _operation(
                "receive", topic, f"{node.name}: durable consumer {consumer}"
            )
    return operations


def _operation(action: str, topic: Topic[Any], summary: str) -> dict[str, Any]:
    channel = f"#/channels/{_channel_id(topic)}"
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": channel},
        "messages": [{"$ref": f"{channel}/messages/{topic.type.__name__}"}],
    }


def _channel_id(topic: Topic[Any]) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", topic.pattern).strip("_") + f"_v{topic.version}"


def _rebased(value: Any) -> Any:
    """msgspec's JSON Schema as an AsyncAPI Schema Object: `#/$defs/X` references point at the
    document's components, and OpenAPI's discriminator object is left out (AsyncAPI's is a bare
    property name that must equal the schema's name); each tagged variant still pins its tag
    with a one-value enum, so the union stays exact."""
    if isinstance(value, dict):
        return {
            k: _rebased(v)
            for k, v in value.items()
            if not (k == "discriminator" and isinstance(v, dict) and "propertyName" in v)
        }
    if isinstance(value, list):
        return [_rebased(v) for v in value]
    if isinstance(value, str) and value.startswith(_DEFS):
        return _SCHEMAS + value[len(_DEFS) :]
    return value
