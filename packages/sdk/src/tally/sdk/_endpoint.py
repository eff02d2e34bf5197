"""Declaring an HTTP endpoint: method, path, who may call, typed parameters, body and answer.

    GET_LINE = Endpoint(
        "GET", "/v1/lines/{line}/days/{day}", line_day,
        auth=API_KEY, params=LineDayPath, query=Detail, response=LineDay,
        summary="One line's production day", errors={404: "No such line."},
    )

    async def line_day(deps: Deps, call: Call[TenantCaller, LineDayPath, Detail]) -> LineDay: ...

One set of type variables binds the declaration to its handler: a handler whose `Call` or
return type differs from what the endpoint declares is a mypy error, and `tally check` compares
the two again at run time (where a declaration leaves a part out, mypy infers it from the
handler). The SDK authenticates the caller, decodes the path, query and body (4xx naming the
field and value on any fault), runs the handler and encodes its answer; the same declaration
makes the service's OpenAPI document. See `tally.sdk._endpoint_routes` for the order of checks.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import msgspec
from typing_extensions import TypeVar

from tally.sdk._answers import Answer, Redirect
from tally.sdk._auth import Auth
from tally.sdk._call import Call, NoParams
from tally.sdk._errors import ContractError
from tally.sdk._problems import Problem, Rejected

D = TypeVar("D", contravariant=True)
C = TypeVar("C")
P = TypeVar("P", bound=msgspec.Struct, default=NoParams)
Q = TypeVar("Q", bound=msgspec.Struct, default=NoParams)
B = TypeVar("B", default=None)
R = TypeVar("R", default=None)

JSON = "application/json"
MSGPACK = ("application/msgpack", "application/x-msgpack")
# An HTML form's own encoding, for a page's <form method=post> (a login form) without script.
FORM = "application/x-www-form-urlencoded"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
_CONVERTERS = frozenset({"str", "path", "int"})


@dataclass(frozen=True, slots=True)
class Payload:
    """A body handed over undecoded: its bytes and the media type it was sent as (for a
    handler that decodes it itself, such as a transport-independent core)."""

    data: bytes
    media_type: str


class Body(Generic[B]):
    """How an endpoint reads its body into a `B`.

    `media_types`: JSON, and MessagePack or FORM (an HTML form's fields, for a Struct of
    plain fields) where listed (415 for any other Content-Type).
    `merge_path`: the body is the record less the ids the path gives (PUT /tenants/{tenant}
    with {"name": ...} makes a Tenant); it may repeat a path id, never contradict it.
    `schema`: for a `Payload` body, the type the bytes must hold (for the document).
    `advice`: what a client with an unreadable body should send instead ({name}: the format).
    `too_large`: what a client whose body is over the limit should do instead.
    """

    def __init__(
        self,
        kind: type[B],
        *,
        media_types: Sequence[str] = (JSON,),
        merge_path: bool = False,
        schema: type[Any] | None = None,
        advice: str | None = None,
        too_large: str = "",
    ) -> None:
        unknown = [m for m in media_types if m not in (JSON, FORM) and m not in MSGPACK]
        if unknown or not media_types:
            raise ContractError(
                f"body media types {unknown or '[]'}: use JSON, MessagePack and FORM"
            )
        if FORM in media_types and (kind is Payload or merge_path or not _is_struct(kind)):
            raise ContractError("a FORM body decodes into a Struct of its own (no Payload)")
        if kind is Payload and schema is None:
            raise ContractError("a Payload body needs `schema`: what its bytes must hold")
        if merge_path and not _is_struct(kind):
            raise ContractError("merge_path needs a Struct body: the record the path completes")
        if merge_path and tuple(media_types) != (JSON,):
            raise ContractError("merge_path reads JSON objects only")
        if kind is not Payload:
            _require_strict(kind, top_level=not merge_path)
        self.kind = kind
        self.media_types = tuple(media_types)
        self.merge_path = merge_path
        self.schema = schema if schema is not None else kind
        default = "send a JSON object of the entry's fields" if merge_path else None
        self.advice = advice or default or f"send one {_name(self.schema)} as {{name}}"
        self.too_large = too_large


class AnyEndpoint(Generic[D]):
    """An endpoint of a service whose Deps are D, whatever its other types: what a service's
    list of endpoints holds. (A list typed `list[Endpoint[D, Any, ...]]` would lend its `Any`s
    to the declarations in it, and mypy would stop comparing them with their handlers.)"""

    method: str
    path: str
    handler: Callable[[Any, Any], Awaitable[Any]]
    auth: Auth[Any, Any]
    summary: str
    params: type[msgspec.Struct]
    query: type[msgspec.Struct]
    body: Body[Any] | None
    response: Any
    status: int
    description: str
    returns: str
    errors: dict[int, str]
    headers: dict[str, str]
    produces: tuple[str, ...]
    roles: frozenset[str]
    body_limit: int | Callable[[Any], int]
    on_refusal: Callable[[Any, Rejected], None] | None
    problem: type[Problem]
    operation_id: str

    @property
    def parameters(self) -> list[str]:
        """The path parameters, in the template's order."""
        return [name for name, _ in _PARAMETER.findall(self.path)]

    @property
    def openapi_path(self) -> str:
        """The path as OpenAPI writes it: no converters (`{article:path}` is `{article}`)."""
        return _PARAMETER.sub(lambda m: "{" + m.group(1) + "}", self.path)

    def __repr__(self) -> str:
        return f"Endpoint({self.method} {self.path}, {self.operation_id})"


class Endpoint(AnyEndpoint[D], Generic[D, C, P, Q, B, R]):
    """One HTTP endpoint of a service; see the module docstring.

    `errors` adds the answers the handler itself may give (status → description; 404, 409,
    429 ...) and may reword those the SDK adds from the declaration: the scheme's 401 (403),
    422 for parameters, 400/413/415/422 for a body, 503 when the database or broker is away.
    `status`: the status of a success (default 200; 204 when there is no response).
    `headers`: fixed headers of every success (e.g. Cache-Control: no-store).
    `produces`: the media types of a `File` response, for the document.
    `roles`: callers of other roles get 403.
    `body_limit`: bytes a body may have (413 past it), or a function of the service's Deps.
    `on_refusal`: called with every refusal this endpoint answers (metrics, logs).
    `problem`: the Problem type of its error bodies, when the service extends it.
    """

    def __init__(
        self,
        method: str,
        path: str,
        handler: Callable[[D, Call[C, P, Q, B]], Awaitable[R]],
        *,
        auth: Auth[D, C],
        summary: str,
        params: type[P] = NoParams,  # type: ignore[assignment]
        query: type[Q] = NoParams,  # type: ignore[assignment]
        body: Body[B] | type[B] | None = None,
        response: type[R] | None = None,
        status: int | None = None,
        description: str = "",
        returns: str = "",
        errors: Mapping[int, str] | None = None,
        headers: Mapping[str, str] | None = None,
        produces: Sequence[str] = (),
        roles: Sequence[str] = (),
        body_limit: int | Callable[[D], int] = 64 * 1024,
        on_refusal: Callable[[D, Rejected], None] | None = None,
        problem: type[Problem] = Problem,
        operation_id: str | None = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.handler = handler
        self.auth = auth
        self.summary = summary
        self.params = params
        self.query = query
        self.body = body if isinstance(body, Body) or body is None else Body(body)
        self.response = response
        self.status = status if status is not None else _success(response)
        self.description = description
        self.returns = returns or summary
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        self.produces = tuple(produces) or _media_types(response)
        self.roles = frozenset(roles)
        self.body_limit = body_limit
        self.on_refusal = on_refusal
        self.problem = problem
        self.operation_id = operation_id or _camel(getattr(handler, "__name__", "endpoint"))
        self._check()

    def _check(self) -> None:
        where = f"endpoint {self.method} {self.path}"
        if self.method not in _METHODS:
            raise ContractError(f"{where}: method must be one of {list(_METHODS)}")
        if not self.path.startswith("/") or (self.path != "/" and self.path.endswith("/")):
            raise ContractError(f"{where}: a path starts with '/' and does not end with one")
        converters = {c for _, c in _PARAMETER.findall(self.path) if c} - _CONVERTERS
        if converters:
            raise ContractError(f"{where}: unknown converters {sorted(converters)}")
        fields = [f.encode_name for f in msgspec.structs.fields(self.params)]
        if sorted(fields) != sorted(self.parameters):
            raise ContractError(
                f"{where}: params {self.params.__name__} has fields {fields} but the path "
                f"names {self.parameters}; declare a field for each {{name}} and no other"
            )
        if self.body is not None and self.method in ("GET", "DELETE"):
            raise ContractError(f"{where}: a {self.method} has no body")
        if (self.response is Redirect) != (300 <= self.status < 400):
            raise ContractError(f"{where}: a Redirect answers 3xx, and only a Redirect does")


def _success(response: type[Any] | None) -> int:
    if response is None:
        return 204
    return 303 if response is Redirect else 200


def _media_types(response: object) -> tuple[str, ...]:
    if response is None:
        return ()
    if isinstance(response, type) and issubclass(response, Answer):
        return response.media_types
    return (JSON,)


def _require_strict(kind: Any, *, top_level: bool) -> None:
    """Every Struct a body may hold refuses unknown fields: a misspelt optional field would
    otherwise fall back to its default unnoticed. (A `merge_path` record's own fields are
    checked by name when it is read, against the path's ids.)"""
    lenient = sorted(
        {
            s.cls.__qualname__
            for s in _structs(msgspec.inspect.type_info(kind))
            if not s.forbid_unknown_fields and (top_level or s.cls is not kind)
        }
    )
    if lenient:
        raise ContractError(
            f"body {_name(kind)}: declare {lenient} with forbid_unknown_fields=True, so that a "
            "misspelt field is refused rather than ignored"
        )


def _structs(node: Any, seen: set[int] | None = None) -> list[msgspec.inspect.StructType]:
    """The Struct types reachable from an inspected type."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    found = [node] if isinstance(node, msgspec.inspect.StructType) else []
    children: list[Any] = []
    if isinstance(node, msgspec.inspect.StructType | msgspec.inspect.DataclassType):
        children = [f.type for f in node.fields]
    elif isinstance(node, msgspec.inspect.UnionType):
        children = list(node.types)
    elif isinstance(node, msgspec.inspect.TupleType):
        children = list(node.item_types)
    elif isinstance(node, msgspec.inspect.DictType):
        children = [node.key_type, node.value_type]
    elif isinstance(node, msgspec.inspect.CollectionType):  # lists, sets, frozensets, tuple[X, ...]
        children = [node.item_type]
    elif isinstance(node, msgspec.inspect.Metadata):
        children = [node.type]
    for child in children:
        found += _structs(child, seen)
    return found


def _is_struct(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _camel(name: str) -> str:
    first, *rest = name.strip("_").split("_")
    return first + "".join(part.title() for part in rest)


def _name(kind: Any) -> str:
    return str(getattr(kind, "__name__", kind))
