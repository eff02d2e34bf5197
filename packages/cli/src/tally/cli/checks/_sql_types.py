"""Whether a statement's Python declaration fits what PostgreSQL says about its SQL.

Parameters: the declared type must be one asyncpg encodes for the PostgreSQL type (`int` for
int2/4/8; `float` or `int` for float4/8; `Decimal`, `float` or `int` for numeric; `str` for
text-like types; sequences for arrays). `X | None` is always allowed: it passes NULL.
Rows: the column names, in order, are the row type's fields, and the type asyncpg decodes the
column into must be the declared type (or a subclass, or int for float): numeric decodes into
`Decimal`, so a `float` field for it is an error. A column that may be NULL needs `X | None`.
COPY rows go the other way: each field must be one asyncpg encodes for its column (as for a
parameter), `X | None` only for a column that takes NULL, and every column that is NOT NULL
without a default must be copied.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from tally.cli.checks._sql_describe import Column, Description, TableColumn
from tally.sdk import Copy, Query

# What asyncpg decodes each PostgreSQL type into (and so encodes from).
_DECODED: dict[str, type] = {
    "bool": bool, "int2": int, "int4": int, "int8": int, "oid": int,
    "float4": float, "float8": float, "numeric": Decimal,
    "text": str, "varchar": str, "bpchar": str, "name": str, "char": str,
    "json": str, "jsonb": str, "uuid": UUID, "bytea": bytes,
    "timestamptz": datetime, "timestamp": datetime, "date": date, "time": time,
    "timetz": time, "interval": timedelta, "void": type(None),
}  # fmt: skip
# What else asyncpg accepts as a parameter of that type.
_ALSO_ENCODED: dict[str, tuple[type, ...]] = {
    "float4": (int,), "float8": (int,), "numeric": (float, int), "uuid": (str,),
    "bytea": (bytearray, memoryview),
}  # fmt: skip
_SEQUENCES = (list, tuple, Sequence, Iterable)


def check_params(declared: Sequence[tuple[str, object]], pg_types: Sequence[str]) -> list[str]:
    """Problems of the declared parameters against the prepared statement's, each with its rule."""
    if len(declared) != len(pg_types):
        return [
            f"declares {len(declared)} parameters but the SQL takes {len(pg_types)} "
            "[rule: parameter count]"
        ]
    problems = []
    for index, ((name, annotation), pg_type) in enumerate(zip(declared, pg_types, strict=True)):
        core, _ = unwrap(annotation)
        verdict = _accepts(pg_type, core)
        if verdict is False:
            problems.append(
                f"parameter ${index + 1} `{name}` is declared {show(annotation)} but PostgreSQL "
                f"expects {pg_type} [rule: parameter type]"
            )
    return problems


def check_row(statement: Query[Any, Any], columns: Sequence[Column]) -> list[str]:
    """Problems of the row type against the statement's result columns, each with its rule."""
    row = statement.row
    fields = msgspec.structs.fields(row)
    names = [c.name for c in columns]
    if not columns:
        return ["returns no rows; declare it with @command [rule: query returns rows]"]
    if names != [f.name for f in fields]:
        return [
            f"returns columns {names} but {row.__name__} has fields {[f.name for f in fields]} "
            "[rule: result columns are the row type's fields, in order]"
        ]
    problems = []
    for field, column in zip(fields, columns, strict=True):
        core, optional = unwrap(field.type)
        where = f"{row.__name__}.{field.name} is {show(field.type)}"
        if _decodes_into(column.type, core) is False:
            problems.append(
                f"{where} but column {column.name!r} is {column.type}, which asyncpg returns as "
                f"{_decoded_name(column.type)} [rule: column type]"
            )
        elif column.nullable and not optional:
            problems.append(
                f"{where} but column {column.name!r} may be NULL [rule: column nullability]; "
                f"declare {show(field.type)} | None, or rule NULL out in the SQL"
            )
    return problems


def check_copy(copy: Copy[Any], pg_types: Sequence[str], table: Sequence[TableColumn]) -> list[str]:
    """Problems of a COPY's row type against its table, each with its rule."""
    row = copy.row.__name__
    columns = {column.name: column for column in table}
    problems = []
    for (name, annotation), pg_type in zip(copy.params, pg_types, strict=True):
        core, optional = unwrap(annotation)
        where = f"{row}.{name} is {show(annotation)}"
        if _accepts(pg_type, core) is False:
            problems.append(
                f"{where} but column {name!r} of {copy.table} is {pg_type} [rule: column type]"
            )
        elif optional and name in columns and not columns[name].nullable:
            problems.append(
                f"{where} but column {name!r} of {copy.table} is NOT NULL "
                f"[rule: column nullability]; declare {show(core)}"
            )
    for column in table:
        if not column.nullable and not column.default and column.name not in copy.columns:
            problems.append(
                f"{row} leaves out column {column.name!r} of {copy.table}, which is NOT NULL "
                "without a default [rule: a COPY fills every required column]"
            )
    return problems


def unverified(description: Description) -> list[str]:
    """PostgreSQL types no rule covers: their declarations are not checked."""
    kinds = [*description.params, *(c.type for c in description.columns)]
    return sorted({k for k in kinds if _DECODED.get(k.removesuffix("[]")) is None})


def unwrap(annotation: object) -> tuple[object, bool]:
    """(the annotation without Annotated, NewType and None, whether None was allowed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return unwrap(typing.get_args(annotation)[0])
    supertype = getattr(annotation, "__supertype__", None)
    if supertype is not None:
        return unwrap(supertype)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            return unwrap(members[0])[0], optional
        return typing.Union[tuple(members)], optional  # noqa: UP007 - built from a tuple
    return annotation, False


def show(annotation: object) -> str:
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__qualname__
    return str(annotation).replace("typing.", "").replace("datetime.", "")


def _accepts(pg_type: str, core: object) -> bool | None:
    """Whether asyncpg encodes a value declared `core` as `pg_type` (None: cannot tell)."""
    if core in (Any, object):
        return None
    members = _union_members(core)
    if members is not None:
        verdicts = [_accepts(pg_type, m) for m in members]
        return False if False in verdicts else None if None in verdicts else True
    if pg_type.endswith("[]"):
        element = _element(core, _SEQUENCES)
        return False if element is None else _accepts(pg_type[:-2], unwrap(element)[0])
    decoded = _DECODED.get(pg_type)
    if decoded is None or not isinstance(core, type):
        return None
    return issubclass(core, (decoded, *_ALSO_ENCODED.get(pg_type, ())))


def _decodes_into(pg_type: str, core: object) -> bool | None:
    """Whether what asyncpg decodes `pg_type` into is a `core` (None: cannot tell)."""
    if core in (Any, object):
        return None
    members = _union_members(core)
    if members is not None:
        verdicts = [_decodes_into(pg_type, m) for m in members]
        return True if True in verdicts else None if None in verdicts else False
    if pg_type.endswith("[]"):
        element = _element(core, (list,))
        return False if element is None else _decodes_into(pg_type[:-2], unwrap(element)[0])
    decoded = _DECODED.get(pg_type)
    if decoded is None or not isinstance(core, type):
        return None
    # int where float is declared is what mypy allows too.
    return issubclass(decoded, core) or (core is float and decoded is int)


def _union_members(core: object) -> tuple[object, ...] | None:
    if typing.get_origin(core) in (typing.Union, types.UnionType):
        return typing.get_args(core)
    return None


def _element(core: object, containers: tuple[object, ...]) -> object | None:
    origin = typing.get_origin(core)
    if origin not in containers:
        return None
    args = typing.get_args(core)
    return args[0] if args else Any


def _decoded_name(pg_type: str) -> str:
    if pg_type.endswith("[]"):
        return f"list[{_decoded_name(pg_type[:-2])}]"
    decoded = _DECODED.get(pg_type)
    return "an unknown type" if decoded is None else decoded.__qualname__
