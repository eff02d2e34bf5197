"""An endpoint declared wrongly fails where it is declared, saying what to change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from tally.sdk import (
    PUBLIC,
    Anonymous,
    Body,
    Call,
    ContractError,
    Endpoint,
    NoSettings,
    Payload,
    Redirect,
    Runtime,
    Service,
)


class ItemPath(msgspec.Struct, frozen=True):
    item: int


class Item(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str


class Lenient(msgspec.Struct, frozen=True):
    name: str


class Basket(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    items: list[Lenient]


async def handler(deps: object, call: Call[Anonymous, Any, Any, Any]) -> Any:
    return None


def declare(
    method: str = "GET", path: str = "/items", **options: Any
) -> Endpoint[Any, Any, Any, Any, Any, Any]:
    return Endpoint(method, path, handler, auth=PUBLIC, summary="s", **options)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (lambda: declare(path="/items/{item}"), "declare a field for each {name}"),
        (lambda: declare(params=ItemPath), "declare a field for each {name}"),
        (lambda: declare(path="/items/{item:float}", params=ItemPath), "unknown converters"),
        (lambda: declare(path="items"), "starts with '/'"),
        (lambda: declare(path="/items/"), "does not end with one"),
        (lambda: declare("FETCH"), "method must be one of"),
        (lambda: declare(body=Item), "a GET has no body"),
        (lambda: declare("POST", body=Body(Payload)), "needs `schema`"),
        (lambda: declare("PUT", body=Body(dict, merge_path=True)), "merge_path needs a Struct"),
        (
            lambda: declare("POST", body=Body(Item, media_types=["text/csv"])),
            "use JSON, MessagePack and FORM",
        ),
        (lambda: declare(response=Redirect, status=200), "a Redirect answers 3xx"),
        (lambda: declare("POST", body=Lenient), "declare ['Lenient'] with forbid_unknown_fields"),
        (lambda: declare("POST", body=Basket), "declare ['Lenient'] with forbid_unknown_fields"),
    ],
)
def test_a_wrong_declaration_is_refused(declaration: Any, message: str) -> None:
    with pytest.raises(ContractError, match=re.escape(message)):
        declaration()


def test_a_declaration_reads_back_as_declared() -> None:
    endpoint = declare("PUT", "/items/{item:path}", params=ItemPath, body=Item, response=Item)

    assert endpoint.parameters == ["item"]
    assert endpoint.openapi_path == "/items/{item}"
    assert endpoint.operation_id == "handler"
    assert endpoint.status == 200
    assert declare(response=None).status == 204
    assert declare(response=Redirect).status == 303


def test_a_service_serves_each_route_once() -> None:
    @asynccontextmanager
    async def deps(runtime: Runtime, settings: NoSettings) -> AsyncIterator[None]:
        yield None

    with pytest.raises(ContractError, match="declares a route twice"):
        Service(name="twice", settings=NoSettings, deps=deps, endpoints=[declare(), declare()])
