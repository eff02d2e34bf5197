"""Hypothesis strategies for requests to tally's public endpoints, drawn from the OpenAPI
documents the services serve.

`document_values(schema, doc)` draws values the schema says are valid; `hostile(...)` turns a
body into something a careless or malicious client sends: strings with NUL or bytes that are
not UTF-8, numbers no float or int64 holds, nesting past any decoder's recursion, unknown
fields, MessagePack extension types and non-string keys, truncated bodies, wrong Content-Types.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Schema = dict[str, Any]
Document = dict[str, Any]

# Arrays stay short: the fuzzer is after shapes and values, not volume.
_MAX_ITEMS = 3
_ZONES = ["Europe/Berlin", "UTC", "America/Chicago", "Asia/Tokyo", "Etc/GMT+5"]


def resolve(schema: Schema, doc: Document) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: Schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def document_values(schema: Schema, doc: Document, name: str = "") -> st.SearchStrategy[Any]:
    """Values valid under `schema` (a schema of `doc`); `name` is the property's name."""
    schema = resolve(schema, doc)
    if "anyOf" in schema:
        return st.one_of([document_values(s, doc, name) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, doc)
    if kind == "array":
        items = document_values(schema["items"], doc)
        low = schema.get("minItems", 0)
        high = max(low, min(_MAX_ITEMS, schema.get("maxItems", _MAX_ITEMS)))
        return st.lists(items, min_size=low, max_size=high)
    return _scalar(schema, name)


def _scalar(schema: Schema, name: str) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        return st.integers(low, high)
    if kind == "number":
        return _number(schema)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise AssertionError(f"the fuzzer cannot draw from {schema}")


def _object(schema: Schema, doc: Document) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: document_values(s, doc, name) for name, s in properties.items() if name in required},
        optional={
            name: document_values(s, doc, name)
            for name, s in properties.items()
            if name not in required
        },
    )


def _string(schema: Schema, name: str) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        # Plausible for the gateway's clock checks: within the last day.
        now = datetime.now(UTC)
        return st.integers(0, 86_400).map(lambda s: (now - timedelta(seconds=s)).isoformat())
    if schema.get("format") == "date":
        # Production days: from a year back to a month ahead.
        today = datetime.now(UTC).date()
        return st.integers(-365, 31).map(lambda d: (today + timedelta(days=d)).isoformat())
    if name == "timezone":
        return st.sampled_from(_ZONES)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    pattern = schema.get("pattern")
    text = st.from_regex(str(pattern), fullmatch=True) if pattern else st.text(max_size=high)
    return text.filter(lambda s: low <= len(s) <= high)


def _number(schema: Schema) -> st.SearchStrategy[float]:
    low, high = schema.get("minimum", schema.get("exclusiveMinimum")), schema.get("maximum")
    return st.floats(
        low,
        high,
        allow_nan=False,
        allow_infinity=False,
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema,
    )


def pool(strategy: st.SearchStrategy[Any], size: int) -> list[Any]:
    """`size` values drawn once (and the same on every run). Drawing a whole document from a
    schema costs milliseconds; the fuzzer draws documents from a pool and spends its examples
    on making them hostile, so that ten thousand requests take seconds, not minutes."""
    drawn: list[Any] = []

    @settings(
        max_examples=size,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


# --- hostile values ----------------------------------------------------------------------------

_NESTED = 5_000


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            "a\0b",
            "\0",
            "",
            "x" * 5_000,
            "🧀" * 300,
            " ",
            "../../etc/passwd",
            "telemetry.>",
            "*",
            2**63,
            -(2**63) - 1,
            10**40,
            -1,
            0,
            1e308,
            -1e308,
            5e-324,
            math.nan,
            math.inf,
            -math.inf,
            True,
            None,
            [],
            {},
            [None],
            {"": None},
            "2026-13-45T25:61:61Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ]
    ),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.builds(_deep, st.integers(50, _NESTED)),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a plain document, as key paths (not inside hostile nesting)."""
    found = [prefix]
    if len(prefix) > 8:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one to three places replaced by hostile values or given unknown fields."""
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if draw(st.booleans()):
            document = _replace(document, path, draw(HOSTILE_VALUES))
        else:
            target = document
            for step in path:
                target = target[step]
            if isinstance(target, dict):
                key = draw(
                    st.sampled_from(["tenant", "machine", "historicl", "vlaue", "", "\0", "kind"])
                )
                document = _replace(document, path, {**target, key: draw(HOSTILE_VALUES)})
    return document


_DEEP_JSON = b'{"messages": ' + b"[" * _NESTED + b"]" * _NESTED + b"}"
_DEEP_MSGPACK = b"\x81\xa8messages" + b"\x91" * _NESTED + b"\xc0"


def _json_bytes(value: Any) -> bytes:
    """JSON as a client may write it: msgspec where it can, by hand what it refuses (NaN,
    integers past 64 bits, bytes) the way a lax writer would."""
    try:
        try:
            return msgspec.json.encode(value)
        except (TypeError, ValueError, OverflowError):
            text = repr(value).replace("'", '"').replace("nan", "NaN").replace("inf", "Infinity")
            return text.encode("utf-8", "surrogatepass")
    except RecursionError:
        return _DEEP_JSON


def _msgpack_bytes(value: Any) -> bytes:
    try:
        try:
            return msgspec.msgpack.encode(value)
        except (TypeError, ValueError, OverflowError):
            return msgspec.msgpack.encode(repr(value))
    except RecursionError:
        return _DEEP_MSGPACK


_RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b"{",
    b'{"messages": [',
    b"\xef\xbb\xbf{}",
    b'"\\ud800"',
    b'{"name": "\\ud800"}',
    b'{"name": "\\udc00\\ud800"}',
    b'{"messages": [{"boot_id": "b\\u0000"}]}',
    b'{"name": 1e400}',
    b'{"messages": 123456789012345678901234567890}',
    b"\xc1",
    b"\x81\xa8messages\xc7\x05\x07hello",  # an extension type where an array belongs
    b"\x81\x01\x02",  # an integer key
    b"\x81\xc4\x08messages\x90",  # a binary key
    b"\xdd\xff\xff\xff\xff",  # an array claiming four billion items
    b"[" * 100_000 + b"]" * 100_000,
    b"\x91" * 100_000 + b"\xc0",
    b'{"name": "' + b"\xff\xfe" * 10 + b'"}',
]


@st.composite
def hostile_body(draw: st.DrawFn, document: Any) -> tuple[bytes, str]:
    """`document` made hostile and encoded, perhaps corrupted, and a media type. (Only bytes
    come out: hypothesis would print a value nested thousands deep when reporting a failure.)"""
    document = draw(mutated(document))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(_RAW_BODIES)), draw(st.sampled_from(_MEDIA_TYPES))
    msgpack = draw(st.booleans())
    encoded = _msgpack_bytes(document) if msgpack else _json_bytes(document)
    corruption = draw(st.integers(0, 5))
    if corruption == 0 and encoded:
        at = draw(st.integers(0, len(encoded) - 1))
        encoded = (
            encoded[:at]
            + draw(st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80"]))
            + encoded[at:]
        )
    elif corruption == 1:
        encoded = encoded[: draw(st.integers(0, len(encoded)))]
    media = "application/msgpack" if msgpack else "application/json"
    return encoded, draw(st.sampled_from([media, media, *_MEDIA_TYPES]))


_MEDIA_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/JSON",
    "application/msgpack",
    "application/x-msgpack",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
    ";;;",
    "application/json; charset=latin-1",
]

PATH_SEGMENTS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["a", "..", ".", "%00", "%ff", "%2F", "a%20b", "x" * 300, "UPPER", "-", "_"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=20),
)
