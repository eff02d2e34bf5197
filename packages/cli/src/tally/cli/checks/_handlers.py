"""Handlers against their endpoint declarations, at run time.

mypy binds a declaration's types to its handler's, but only where the declaration states them:
an endpoint that leaves out `params`, `query` or `body` lets mypy infer them from the handler,
while the SDK decodes nothing (an empty `NoParams`, no body) — a handler typed for more would
find its fields missing at run time. So the annotations each handler carries (its `Call[C, P,
Q, B]` and return type) are compared with what its endpoint declares:

    caller     the handler takes the scheme's caller class or a base of it
    params     the handler takes the declared Struct or a base of it (query the same)
    body       the handler takes the declared body type (None when there is none)
    response   the handler answers the declared type or a subclass of it
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from tally.cli.checks._workspace import DeclaredService
from tally.sdk import AnyEndpoint, Call

_RULE = "[rule: a handler's types are its endpoint's]"


def handler_faults(declared: DeclaredService) -> list[str]:
    """One line per disagreement between a handler and its endpoint, naming both."""
    faults = []
    for endpoint in declared.service.endpoints:
        where = (
            f"{declared.source}: service {declared.service.name!r}, endpoint "
            f"{endpoint.method} {endpoint.path}: handler {_name(endpoint.handler)}"
        )
        faults += [f"{where} {fault} {_RULE}" for fault in _disagreements(endpoint)]
    return faults


def _disagreements(endpoint: AnyEndpoint[Any]) -> list[str]:
    try:
        hints = typing.get_type_hints(endpoint.handler)
        parameters = list(inspect.signature(endpoint.handler).parameters)
    except (NameError, TypeError, ValueError) as error:
        return [f"has annotations that cannot be read ({error!r}); import what they name"]
    call = hints.get(parameters[1]) if len(parameters) == 2 else None
    if typing.get_origin(call) is not Call:
        return ["must take (deps, call: Call[Caller, Params, Query, Body])"]
    caller, params, query, body = typing.get_args(call)
    declared_body = None if endpoint.body is None else endpoint.body.kind
    found = [
        _takes("caller", caller, endpoint.auth.caller),
        _takes("path parameters", params, endpoint.params),
        _takes("query parameters", query, endpoint.query),
        _same("body", body, declared_body),
        _answers(hints.get("return", Any), endpoint.response),
    ]
    return [fault for fault in found if fault]


def _takes(what: str, taken: Any, declared: Any) -> str:
    """The handler must accept what the SDK hands it: the declared class or a base of it."""
    if not (isinstance(taken, type) and isinstance(declared, type)) or declared is object:
        return ""
    if issubclass(declared, taken):
        return ""
    return (
        f"takes {what} of type {_name(taken)} but the endpoint hands it {_name(declared)}; "
        f"declare the one type on both"
    )


def _same(what: str, taken: Any, declared: Any) -> str:
    taken = None if taken is type(None) else taken
    if taken is declared or taken is Any:
        return ""
    return (
        f"takes a {what} of type {_name(taken)} but the endpoint declares {_name(declared)}; "
        "declare the one type on both"
    )


def _answers(returned: Any, declared: Any) -> str:
    returned = None if returned is type(None) else returned
    if returned is declared or returned is Any:
        return ""
    if isinstance(returned, type) and isinstance(declared, type) and issubclass(returned, declared):
        return ""
    return (
        f"answers {_name(returned)} but the endpoint declares the response {_name(declared)}; "
        "declare the one type on both"
    )


def _name(value: Any) -> str:
    if value is None:
        return "None"
    return str(getattr(value, "__qualname__", value))
