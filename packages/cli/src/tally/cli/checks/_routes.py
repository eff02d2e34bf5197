"""The HTTP routes of a service, read from the source of its routes factory.

A routes factory needs the service's `Deps`, which only exist while it runs, so the routes are
read the way a reviewer reads them: every `Route(...)`, `WebSocketRoute(...)` or `Mount(...)`
call in the factory whose path is a literal. A factory that builds its paths at run time gets a
note instead of a guess.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

_ROUTE_CALLS = {"Route": "GET", "WebSocketRoute": "WS", "Mount": "MOUNT"}


def declared_routes(factory: Callable[..., Any]) -> tuple[list[str], bool]:
    """("METHOD /path" for each literal route, whether every route call had a literal path)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(factory)))
    except (OSError, TypeError, SyntaxError):
        return [], False
    routes: list[str] = []
    complete = True
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _call_name(node.func)
        if kind not in _ROUTE_CALLS:
            continue
        path = _literal_path(node)
        if path is None:
            complete = False
            continue
        methods = _literal_methods(node) or [_ROUTE_CALLS[kind]]
        routes.extend(f"{method} {path}" for method in methods)
    return routes, complete


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal_path(call: ast.Call) -> str | None:
    candidates = [*call.args[:1], *(k.value for k in call.keywords if k.arg == "path")]
    for value in candidates:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def _literal_methods(call: ast.Call) -> list[str]:
    for keyword in call.keywords:
        if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple | ast.Set):
            return sorted(
                str(item.value).upper()
                for item in keyword.value.elts
                if isinstance(item, ast.Constant)
            )
    return []
