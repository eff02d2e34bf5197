"""The service graph: a consumer without producer, or a producer of another type, fails."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tally.api.service import service as api
from tally.cli.checks import _steps
from tally.cli.checks._graph import ServiceNode, check_graph, mermaid, service_node
from tally.cli.checks._routes import HttpRoute, declared_routes
from tally.cli.checks._workspace import DeclaredService, load_workspace
from tally.contracts import TELEMETRY
from tally.gateway.service import service as gateway
from tally.sdk import Consumer, Envelope, NoSettings, Runtime, Service, Stream, Topic

ROOT = Path(__file__).resolve().parents[3]
STREAM = Stream("ORDERS", ("orders.>",))


class Order(msgspec.Struct, frozen=True):
    tenant: str
    quantity: int


class Invoice(msgspec.Struct, frozen=True):
    tenant: str
    total: float


ORDERS = Topic("orders.{tenant}", Order, STREAM)


@asynccontextmanager
async def no_deps(runtime: Runtime, settings: NoSettings) -> AsyncIterator[None]:
    yield None


async def count(deps: None, batch: Sequence[Envelope[Any]]) -> None:
    return None


def node(
    name: str, *, consumes: Topic[Any] | None = None, publishes: Topic[Any] | None = None
) -> ServiceNode:
    service = Service(
        name=name,
        settings=NoSettings,
        deps=no_deps,
        consumers=[Consumer(name, consumes, count)] if consumes else [],
        publishes=[publishes] if publishes else [],
    )
    return service_node(DeclaredService(service, f"services/{name}/src/tally/{name}/service.py"))


def test_a_consumer_of_a_topic_nobody_publishes_fails() -> None:
    outcome = check_graph([node("shipping", consumes=ORDERS)])
    [error] = outcome.errors
    assert error.startswith(
        "services/shipping/src/tally/shipping/service.py: service 'shipping', consumer "
        "'shipping' consumes topic orders.{tenant}@v1 but no service in the workspace publishes it"
    )
    assert "[rule: every consumed topic has a producer]" in error


def test_a_producer_sending_another_type_fails() -> None:
    invoices = Topic("orders.{tenant}", Invoice, STREAM)
    outcome = check_graph([node("shop", publishes=invoices), node("shipping", consumes=ORDERS)])
    [error] = outcome.errors
    assert f"consumes orders.{{tenant}}@v1 as {__name__}.Order but service 'shop'" in error
    assert f"(services/shop/src/tally/shop/service.py) publishes it as {__name__}.Invoice" in error
    assert "[rule: producer and consumer share the contract type]" in error


def test_a_matching_producer_passes_and_an_unconsumed_topic_is_a_note() -> None:
    outcome = check_graph([node("shop", publishes=ORDERS), node("shipping", consumes=ORDERS)])
    assert outcome.errors == []
    assert check_graph([node("shop", publishes=ORDERS)]).notes == [
        "topic orders.{tenant}@v1 is published by shop and consumed by none"
    ]


def test_a_fault_planted_in_a_copy_of_the_recorder_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (ROOT / "services/recorder/src/tally/recorder/service.py").read_text()
    consumer = 'Consumer("recorder", TELEMETRY, record_batch'
    anchor = '_log = logging.getLogger("tally.recorder")'
    assert consumer in source, "the planted edit no longer applies to the recorder"
    assert anchor in source, "the planted edit no longer applies to the recorder"
    # A consumer of a topic that no service publishes.
    alarms = (
        "from tally.sdk import Topic\n"
        'ALARMS = Topic("alarms.{tenant}.{machine}", Telemetry, TELEMETRY.stream)'
    )
    planted = source.replace(consumer, 'Consumer("recorder", ALARMS, record_batch')
    planted = planted.replace(anchor, f"{anchor}\n{alarms}")
    path = tmp_path / "planted_recorder.py"
    path.write_text(planted)
    spec = importlib.util.spec_from_file_location("planted_recorder", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "planted_recorder", module)
    spec.loader.exec_module(module)
    recorder = service_node(DeclaredService(module.service, "planted_recorder.py"))
    [error] = check_graph([service_node(DeclaredService(gateway, "gateway.py")), recorder]).errors
    assert "planted_recorder.py: service 'recorder', consumer 'recorder'" in error
    assert "consumes topic alarms.{tenant}.{machine}@v1 but no service" in error


def test_routes_are_read_from_the_declarations_with_who_may_call() -> None:
    assert declared_routes(gateway) == [
        HttpRoute("POST", "/v1/telemetry", "machineToken"),
        HttpRoute("GET", "/openapi.json", "public"),
    ]
    routes = declared_routes(api)
    assert HttpRoute("PUT", "/v1/admin/tenants/{tenant}/articles/{article}", "adminToken") in routes
    assert HttpRoute("GET", "/v1/lines/{line}/days/{day}", "apiKey or userSession") in routes
    assert HttpRoute("GET", "/dashboard/lines/{line}", "userSession") in routes
    # One route per declared endpoint, and the document.
    assert len(routes) == len(api.endpoints) + 1
    assert {r.auth for r in routes[:-1]} == {
        "adminToken",  # the tenant administration
        "public",  # logging in, the login page, the dashboard's files
        "userSession",  # the dashboard's pages, whoami, logout
        "apiKey or userSession",  # the figures API, users and keys
    }


def test_the_workspace_graph_passes_and_its_document_is_current() -> None:
    workspace = load_workspace(ROOT)
    outcome = _steps.graph(workspace)
    assert outcome.errors == []
    text = mermaid(_steps.nodes(workspace))
    assert "svc_gateway -->|publishes| topic_telemetry_tenant_machine_v1" in text
    assert '-->|"consumer recorder"| svc_recorder' in text
    assert TELEMETRY.name in text
    assert '"POST /v1/telemetry (machineToken)<br/>GET /openapi.json (public)"' in text
