"""The service graph: which service publishes and which consumes each topic, and with what type.

Two faults are caught before anything runs: a consumer of a topic that no service in the
workspace publishes (it would wait forever), and a producer and consumer of one topic name that
disagree on its contract type or stream (the consumer would dead-letter every message). A topic
published but not consumed is only a note: its consumer may not be written yet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tally.cli.checks._outcome import Outcome
from tally.cli.checks._routes import HttpRoute, declared_routes
from tally.cli.checks._workspace import DeclaredService
from tally.sdk import Topic

GRAPH_DOC = "docs/service-graph.md"
_ROUTES_SHOWN = 4


@dataclass(frozen=True)
class ServiceNode:
    name: str
    source: str
    consumes: tuple[tuple[str, Topic[Any]], ...]
    publishes: tuple[Topic[Any], ...]
    routes: tuple[HttpRoute, ...]


def service_node(declared: DeclaredService) -> ServiceNode:
    service = declared.service
    return ServiceNode(
        name=service.name,
        source=declared.source,
        consumes=tuple((c.name, c.topic) for c in service.consumers),
        publishes=tuple(service.publishes),
        routes=tuple(declared_routes(service)),
    )


def type_name(topic: Topic[Any]) -> str:
    return f"{topic.type.__module__}.{topic.type.__qualname__}"


def public_name(topic: Topic[Any]) -> str:
    """The contract type as its package exports it: tally.contracts.Telemetry."""
    parts = topic.type.__module__.split(".")
    private = next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))
    return ".".join([*parts[:private], topic.type.__qualname__])


def check_graph(nodes: Sequence[ServiceNode]) -> Outcome:
    """Every consumed topic has a producer, and both sides agree on its type and stream."""
    outcome = Outcome()
    producers: dict[str, list[tuple[ServiceNode, Topic[Any]]]] = {}
    for node in nodes:
        for topic in node.publishes:
            producers.setdefault(topic.name, []).append((node, topic))
    for node in nodes:
        for consumer, topic in node.consumes:
            outcome.errors.extend(_consumer_faults(node, consumer, topic, producers))
    consumed = {t.name for n in nodes for _, t in n.consumes}
    for name, found in sorted(producers.items()):
        if name not in consumed:
            services = ", ".join(sorted({n.name for n, _ in found}))
            outcome.notes.append(f"topic {name} is published by {services} and consumed by none")
    outcome.summary = f"{len(nodes)} services, {len(consumed | set(producers))} topics"
    return outcome


def _consumer_faults(
    node: ServiceNode,
    consumer: str,
    topic: Topic[Any],
    producers: dict[str, list[tuple[ServiceNode, Topic[Any]]]],
) -> list[str]:
    where = f"{node.source}: service {node.name!r}, consumer {consumer!r}"
    found = producers.get(topic.name, [])
    if not found:
        return [
            f"{where} consumes topic {topic.name} but no service in the workspace publishes it "
            "[rule: every consumed topic has a producer]; add it to a service's `publishes`, "
            "or consume a topic that exists"
        ]
    return [fault for p, published in found for fault in _disagreements(where, topic, p, published)]


def _disagreements(
    where: str, consumed: Topic[Any], producer: ServiceNode, published: Topic[Any]
) -> list[str]:
    found = []
    if consumed.type is not published.type:
        found.append(
            f"{where} consumes {consumed.name} as {type_name(consumed)} but service "
            f"{producer.name!r} ({producer.source}) publishes it as {type_name(published)} "
            "[rule: producer and consumer share the contract type]; use the same Topic constant "
            "from tally.contracts on both sides"
        )
    if consumed.stream.name != published.stream.name:
        found.append(
            f"{where} reads {consumed.name} from stream {consumed.stream.name} but service "
            f"{producer.name!r} publishes it to stream {published.stream.name} "
            "[rule: producer and consumer share the stream]"
        )
    return found


def mermaid(nodes: Sequence[ServiceNode]) -> str:
    """The graph as a Mermaid flowchart: services, topics with their types, HTTP entry points."""
    lines = ["flowchart LR"]
    topics: dict[str, Topic[Any]] = {}
    for node in nodes:
        for topic in (*node.publishes, *(t for _, t in node.consumes)):
            topics.setdefault(topic.name, topic)
    ids = {name: f"topic_{_slug(name)}" for name in topics}
    for node in sorted(nodes, key=lambda n: n.name):
        lines.append(f'    svc_{_slug(node.name)}["{node.name}"]')
    for name in sorted(topics):
        topic = topics[name]
        label = f"{name}<br/>{topic.type.__qualname__} · stream {topic.stream.name}"
        lines.append(f'    {ids[name]}[["{_escape(label)}"]]')
    for node in sorted(nodes, key=lambda n: n.name):
        service = f"svc_{_slug(node.name)}"
        if node.routes:
            # A long list would drown the diagram; the document's table lists every route.
            shown = node.routes if len(node.routes) <= _ROUTES_SHOWN else node.routes[:3]
            more = len(node.routes) - len(shown)
            label = "<br/>".join(
                [*(_escape(str(r)) for r in shown), *([f"+{more} more"] if more else [])]
            )
            lines.append(f'    http_{_slug(node.name)}(["HTTP"]) -->|"{label}"| {service}')
        for topic in node.publishes:
            lines.append(f"    {service} -->|publishes| {ids[topic.name]}")
        for consumer, topic in node.consumes:
            lines.append(f'    {ids[topic.name]} -->|"consumer {consumer}"| {service}')
    return "\n".join(lines) + "\n"


def graph_document(nodes: Sequence[ServiceNode]) -> str:
    """docs/service-graph.md: the Mermaid graph and a table of topics, generated."""
    rows = []
    for node in sorted(nodes, key=lambda n: n.name):
        for topic in node.publishes:
            rows.append(f"| {topic.name} | {public_name(topic)} | {node.name} | publishes |")
        for consumer, topic in node.consumes:
            rows.append(
                f"| {topic.name} | {public_name(topic)} | {node.name} | consumer {consumer} |"
            )
    routes = [
        f"| {n.name} | {r.method} | {r.path} | {r.auth} |"
        for n in sorted(nodes, key=lambda n: n.name)
        for r in n.routes
    ]
    return "\n".join(
        [
            "# Service graph",
            "",
            "Generated from the code by `uv run tally lock`; `uv run tally check` fails when it is",
            "out of date. Do not edit by hand.",
            "",
            "```mermaid",
            mermaid(nodes).rstrip(),
            "```",
            "",
            "| topic | contract type | service | role |",
            "|---|---|---|---|",
            *sorted(rows),
            "",
            "| service | method | path | who may call |",
            "|---|---|---|---|",
            *routes,
            "",
        ]
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def _escape(text: str) -> str:
    # Mermaid ends a quoted label at '"'; '#quot;' is its escape for it.
    return text.replace('"', "#quot;")
