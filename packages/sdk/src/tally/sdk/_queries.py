"""Typed SQL statements: the SQL text next to the Python signature of its parameters and rows.

A service declares each statement once, as a decorated stub whose parameters are the SQL's
`$1, $2, ...` in order and whose row type is a msgspec Struct. mypy then checks every call::

    class MachineRow(msgspec.Struct, frozen=True):
        machine: str
        kind: str

    @query(MachineRow, "SELECT machine, kind FROM machines WHERE tenant = $1 AND site = $2")
    def machines_of_site(tenant: str, site: str) -> None: ...

    @command("DELETE FROM machines WHERE tenant = $1 AND machine = $2")
    def forget_machine(tenant: str, machine: str) -> None: ...

    rows = await tx.fetch(machines_of_site("acme", "plant-1"))  # list[MachineRow]
    await tx.execute(forget_machine("acme", "slicer-7"))

Every declared statement lands in a process-wide registry with the file and line of its
declaration (COPY targets declared with `copy_into` too), so `tally check` can prepare each one
against the migrated schema before anything runs. A wrong number of `$n` placeholders is a
`ContractError` at import time.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeAlias, TypeVar

import asyncpg
import msgspec

from tally.sdk._errors import ContractError

if TYPE_CHECKING:
    from tally.sdk._copies import Copy

P = ParamSpec("P")
R = TypeVar("R", bound=msgspec.Struct)

# String literals, quoted identifiers and comments may contain "$1" that is no placeholder.
_NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_PLACEHOLDER = re.compile(r"\$(\d+)")

Statement: TypeAlias = "Query[Any, Any] | Command[Any] | Copy[Any]"
_registry: list[Statement] = []


def registered_statements() -> tuple[Statement, ...]:
    """Every statement declared with `@query`, `@command` or `copy_into` so far, in
    declaration order."""
    return tuple(_registry)


def register(statement: Statement) -> None:
    """Add a declared statement to the registry that `tally check` reads."""
    _registry.append(statement)


class _Statement:
    """What queries and commands share: SQL, name, parameters and where they were declared."""

    sql: str
    name: str
    params: tuple[tuple[str, object], ...]
    file: str
    line: int

    def __init__(self, sql: str, fn: Callable[..., object]) -> None:
        self.sql = sql
        self.name = fn.__qualname__
        self.file = fn.__code__.co_filename
        self.line = fn.__code__.co_firstlineno
        self._signature = _plain_signature(fn)
        self.params = _annotated_params(fn, self._signature)
        _check_placeholders(sql, self.name, len(self.params))

    @property
    def source(self) -> str:
        """`file:line` of the declaration, for messages that should point at it."""
        return f"{self.file}:{self.line}"

    def _bind(self, args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...]:
        # The common call is positional and complete: skip inspect's binding machinery.
        if not kwargs and len(args) == len(self.params):
            return args
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} at {self.source}>"


class Query(_Statement, Generic[P, R]):
    """A statement that returns rows of type `R` (a SELECT, or an INSERT ... RETURNING).

    Create one with the `query` decorator; call it with the declared parameters to get a
    `Bound` statement for `Tx.fetch`, `Tx.fetch_one` or `Tx.fetch_optional`.
    """

    row: type[R]

    def __init__(self, row: type[R], sql: str, fn: Callable[P, object]) -> None:
        super().__init__(sql, fn)
        self.row = row
        self._fields: tuple[str, ...] = row.__struct_fields__
        self._checked = False
        self._positional = _positional_fields(row)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Bound[R]:
        """Bind arguments to the `$n` placeholders in declared order."""
        return Bound(self, self._bind(args, kwargs))

    def rows(self, records: Sequence[asyncpg.Record]) -> list[R]:
        """Convert asyncpg records into `R`, checking the column names on first use."""
        if not records:
            return []
        if not self._checked:
            self.check_columns(tuple(records[0].keys()))
        row = self.row
        if self._positional:
            return [row(*record) for record in records]
        fields = self._fields
        return [row(**dict(zip(fields, record, strict=True))) for record in records]

    def check_columns(self, columns: Sequence[str]) -> None:
        """Raise `ContractError` unless `columns` equal the row type's fields, in order."""
        if tuple(columns) != self._fields:
            raise ContractError(_mismatch_message(self, tuple(columns)))
        self._checked = True


class Command(_Statement, Generic[P]):
    """A statement without rows (INSERT, UPDATE, DELETE, DDL).

    Create one with the `command` decorator; call it to get a `BoundCommand` for `Tx.execute`,
    or pass the command itself with argument tuples to `Tx.execute_many`.
    """

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> BoundCommand:
        """Bind arguments to the `$n` placeholders in declared order."""
        return BoundCommand(self, self._bind(args, kwargs))


class Bound(Generic[R]):
    """A `Query` together with its arguments, ready to run in a transaction."""

    __slots__ = ("args", "query")

    def __init__(self, query: Query[Any, R], args: tuple[object, ...]) -> None:
        self.query = query
        self.args = args

    def __repr__(self) -> str:
        return f"<Bound {self.query.name}{self.args!r}>"


class BoundCommand:
    """A `Command` together with its arguments, ready to run in a transaction."""

    __slots__ = ("args", "command")

    def __init__(self, command: Command[Any], args: tuple[object, ...]) -> None:
        self.command = command
        self.args = args

    def __repr__(self) -> str:
        return f"<BoundCommand {self.command.name}{self.args!r}>"


def query(row: type[R], sql: str) -> Callable[[Callable[P, object]], Query[P, R]]:
    """Declare a statement returning rows of `row`; the decorated stub gives the parameters.

    `@query(MachineRow, "SELECT machine, kind FROM machines WHERE site = $1")` on
    `def machines_of_site(site: str) -> None: ...` makes `machines_of_site("plant-1")` a
    `Bound[MachineRow]`. The stub's body is never run.
    """

    def declare(fn: Callable[P, object]) -> Query[P, R]:
        statement = Query(row, sql, fn)
        register(statement)
        return statement

    return declare


def command(sql: str) -> Callable[[Callable[P, object]], Command[P]]:
    """Declare a statement without rows; the decorated stub gives the parameters."""

    def declare(fn: Callable[P, object]) -> Command[P]:
        statement: Command[P] = Command(sql, fn)
        register(statement)
        return statement

    return declare


def _plain_signature(fn: Callable[..., object]) -> inspect.Signature:
    signature = inspect.signature(fn)
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ContractError(
                f"statement {fn.__qualname__} declares *{param.name}; declare one parameter "
                "per $n placeholder instead"
            )
    return signature


def _annotated_params(
    fn: Callable[..., object], signature: inspect.Signature
) -> tuple[tuple[str, object], ...]:
    try:
        # Resolve string annotations, so `tally check` can compare them to the prepared types.
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        hints = {}
    return tuple(
        (name, hints.get(name, param.annotation)) for name, param in signature.parameters.items()
    )


def _check_placeholders(sql: str, name: str, param_count: int) -> None:
    numbers = {int(n) for n in _PLACEHOLDER.findall(_NOT_CODE.sub(" ", sql))}
    if len(numbers) != param_count:
        raise ContractError(
            f"statement {name} has {len(numbers)} distinct $n placeholders in its SQL but "
            f"{param_count} parameters; declare one parameter per placeholder"
        )
    if numbers != set(range(1, param_count + 1)):
        raise ContractError(
            f"statement {name} uses placeholders {sorted(numbers)}; number them $1..${param_count}"
            " without gaps"
        )


def _positional_fields(row: type[msgspec.Struct]) -> bool:
    # kw_only Structs (the house style for contracts) refuse positional arguments.
    params = list(inspect.signature(row).parameters.values())
    return all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params) and tuple(
        p.name for p in params
    ) == tuple(row.__struct_fields__)


def _mismatch_message(statement: Query[Any, Any], columns: tuple[str, ...]) -> str:
    fields = statement.row.__struct_fields__
    missing = [f for f in fields if f not in columns]
    extra = [c for c in columns if c not in fields]
    details = []
    if missing:
        details.append(f"missing columns {missing}")
    if extra:
        details.append(f"unexpected columns {extra}")
    if not details:
        details.append("same names in another order")
    return (
        f"query {statement.name} ({statement.source}) returns columns {list(columns)} but "
        f"{statement.row.__name__} has fields {list(fields)}: {'; '.join(details)}. "
        "Alias or reorder the SELECT list to match the row type."
    )
