"""`tally check` compares every handler with its endpoint's declaration: a fault planted in a
copy of the gateway, and the parts mypy cannot see (those a declaration leaves out)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from tally.cli.checks import _steps
from tally.cli.checks._handlers import handler_faults
from tally.cli.checks._workspace import DeclaredService, load_workspace
from tally.sdk import (
    PUBLIC,
    AdminCaller,
    AdminToken,
    Anonymous,
    Call,
    Endpoint,
    NoSettings,
    Service,
)

ROOT = Path(__file__).resolve().parents[3]


def planted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, member: str, edit: tuple[str, str]
) -> ModuleType:
    """A copy of a service module with one edit, imported under a name of its own."""
    source = (ROOT / member).read_text()
    assert edit[0] in source, f"the planted edit no longer applies to {member}"
    path = tmp_path / "planted_service.py"
    path.write_text(source.replace(edit[0], edit[1]))
    spec = importlib.util.spec_from_file_location("planted_service", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "planted_service", module)
    spec.loader.exec_module(module)
    return module


def test_the_workspaces_handlers_agree_with_their_endpoints() -> None:
    outcome = _steps.endpoints(load_workspace(ROOT))

    assert outcome.errors == []
    # Counted from the services, so that a new endpoint does not need this line edited.
    declared = sum(len(s.service.endpoints) for s in load_workspace(ROOT).services)
    assert declared >= 14
    assert outcome.summary == f"{declared} endpoints of 2 services"


def test_a_handler_expecting_a_decoded_upload_where_the_gateway_hands_bytes_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler believes the SDK decodes the upload; the endpoint hands it the raw payload.
    module = planted(
        tmp_path,
        monkeypatch,
        "services/gateway/src/tally/gateway/service.py",
        (
            "call: Call[MachineCaller, NoParams, NoParams, Payload]",
            "call: Call[MachineCaller, NoParams, NoParams, Upload]",
        ),
    )

    [fault] = handler_faults(DeclaredService(module.service, "planted_service.py"))

    assert fault.startswith(
        "planted_service.py: service 'gateway', endpoint POST /v1/telemetry: handler "
        "upload_telemetry takes a body of type Upload but the endpoint declares Payload"
    )
    assert fault.endswith("[rule: a handler's types are its endpoint's]")


def test_a_declaration_promising_another_answer_than_its_handler_gives_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = planted(
        tmp_path,
        monkeypatch,
        "services/api/src/tally/api/service.py",
        ("response=Sites, summary=", "response=Lines, summary="),
    )

    [fault] = handler_faults(DeclaredService(module.service, "planted_service.py"))

    assert (
        "endpoint GET /v1/admin/tenants/{tenant}/sites: handler list_sites answers Sites" in fault
    )
    assert "declares the response Lines" in fault


class ItemPath(msgspec.Struct, frozen=True):
    item: int


class Paging(msgspec.Struct, frozen=True):
    page: int = 1


async def items(deps: object, call: Call[Anonymous, ItemPath, Paging]) -> None:
    return None


async def admins_only(deps: object, call: Call[AdminCaller]) -> None:
    return None


def token(deps: object) -> str:
    return "t"


def test_parts_a_declaration_leaves_out_are_compared_too() -> None:
    # mypy infers the query from the handler here; the SDK would hand it an empty NoParams.
    left_out = Endpoint("GET", "/items/{item}", items, auth=PUBLIC, summary="s", params=ItemPath)
    # An administrators' handler behind a public endpoint: mypy sees `Any` Deps and callers.
    public: Endpoint[Any, Any, Any, Any, Any, Any] = Endpoint(
        "GET", "/admins", admins_only, auth=PUBLIC, summary="s"
    )
    fine = Endpoint("GET", "/own", admins_only, auth=AdminToken(token), summary="s")
    service = Service(
        name="shop", settings=NoSettings, deps=_no_deps, endpoints=[left_out, public, fine]
    )

    faults = handler_faults(DeclaredService(service, "shop.py"))

    assert len(faults) == 2, faults
    assert (
        "handler items takes query parameters of type Paging but the endpoint hands it NoParams"
        in faults[0]
    )
    assert (
        "handler admins_only takes caller of type AdminCaller but the endpoint hands it Anonymous"
        in faults[1]
    )


def _no_deps(runtime: Any, settings: Any) -> Any:
    raise NotImplementedError
