"""Typed COPY targets: a table next to the row type whose fields are its columns, in order.

A service declares each bulk load once, beside its `@query` and `@command` statements::

    class CounterSample(NamedTuple):
        tenant: str
        machine: str
        value: int

    COUNTER_SAMPLES = copy_into("counter_samples", CounterSample)

    await tx.copy_records(COUNTER_SAMPLES, [CounterSample("acme", "slicer-7", 41)])

The row type is a NamedTuple: a tuple is what binary COPY sends, so rows go to asyncpg as they
are, and mypy checks every field where a row is built. Every declaration lands in the statement
registry with the file and line of its `copy_into` call, so `tally check` verifies the columns
against the migrated schema (names, types, NULLs, required columns) before anything runs; it
prepares the INSERT that one copied row amounts to (`Copy.sql`) and reads the table's columns.
"""

from __future__ import annotations

import sys
import typing
from typing import Any, Generic, TypeVar

from tally.sdk._errors import ContractError
from tally.sdk._queries import register

R = TypeVar("R", bound=tuple[Any, ...])


class Copy(Generic[R]):
    """Rows of type `R` bulk-loaded into `table` by binary COPY; see `copy_into`."""

    table: str
    row: type[R]
    columns: tuple[str, ...]
    name: str
    # The row type's fields and their annotations, in column order.
    params: tuple[tuple[str, object], ...]
    file: str
    line: int

    def __init__(self, table: str, row: type[R], file: str, line: int) -> None:
        fields: tuple[str, ...] | None = getattr(row, "_fields", None)
        if not fields or not issubclass(row, tuple):
            raise ContractError(
                f"copy into {table}: {row.__qualname__} is not a NamedTuple with fields; declare "
                "the row type as `class Row(NamedTuple)` with one field per column"
            )
        self.table = table
        self.row = row
        self.columns = fields
        self.name = row.__qualname__
        self.params = _annotated_fields(row, fields)
        self.file = file
        self.line = line

    @property
    def schema_and_name(self) -> tuple[str | None, str]:
        """The table's schema (None: the search path's) and its name."""
        schema, _, name = self.table.rpartition(".")
        return schema or None, name

    @property
    def quoted_table(self) -> str:
        """The table as SQL names it, quoted as COPY quotes it: `"schema"."table"`."""
        schema, name = self.schema_and_name
        return _quoted(name) if schema is None else f"{_quoted(schema)}.{_quoted(name)}"

    @property
    def sql(self) -> str:
        """The INSERT one copied row amounts to: what `tally check` prepares for this COPY."""
        columns = ", ".join(_quoted(c) for c in self.columns)
        values = ", ".join(f"${n}" for n in range(1, len(self.columns) + 1))
        return f"INSERT INTO {self.quoted_table} ({columns}) VALUES ({values})"

    @property
    def source(self) -> str:
        """`file:line` of the declaration, for messages that should point at it."""
        return f"{self.file}:{self.line}"

    def __repr__(self) -> str:
        return f"<Copy {self.name} into {self.table} at {self.source}>"


def copy_into(table: str, row: type[R]) -> Copy[R]:
    """Declare a COPY of `row`s (a NamedTuple whose fields are the columns) into `table`
    (or `schema.table`), for `Tx.copy_records`."""
    caller = sys._getframe(1)
    declared = Copy(table, row, caller.f_code.co_filename, caller.f_lineno)
    register(declared)
    return declared


def _annotated_fields(
    row: type[tuple[Any, ...]], fields: tuple[str, ...]
) -> tuple[tuple[str, object], ...]:
    try:
        # Resolved, so that `tally check` can compare them with the columns' types.
        hints = typing.get_type_hints(row)
    except (NameError, TypeError):
        hints = {}
    return tuple((field, hints.get(field, Any)) for field in fields)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
