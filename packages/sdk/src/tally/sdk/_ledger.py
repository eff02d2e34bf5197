"""Exactly-once handling for any consumer: a ledger of the messages it has handled.

JetStream delivers at least once, and machines re-send; a consumer that writes what a message
says must write it once. The ledger holds one row per message identity. In the transaction that
does a batch's work, `claim` inserts the batch's identities with ``ON CONFLICT DO NOTHING`` and
returns only the items whose identity was new; the consumer does the work of those alone. Work
and ledger commit together or not at all, so a redelivery after a crash — before the commit or
after it — changes nothing::

    class ReadingEntry(msgspec.Struct, frozen=True):      # the ledger's columns, but tenant
        machine: str
        seq: int
        ts: datetime

    def reading_entry(reading: Reading) -> ReadingEntry:  # an item's entry
        return ReadingEntry(reading.machine, reading.seq, reading.ts)

    READINGS_LEDGER = Ledger(
        "readings_ledger", ReadingEntry, reading_entry,
        key=("machine", "seq"),                            # its identity, within the tenant
    )

    new = await READINGS_LEDGER.claim(tx, tenant, readings)   # the readings not seen before

**One tenant per claim**, in a transaction scoped to that tenant: a batch may mix tenants, so
group it (`by_tenant`) and, for each tenant, either run a transaction of its own
(`database.transaction(work, tenant=t)`) or scope one transaction to each tenant in turn
(`tx.set_tenant(t)`) before that tenant's claim and writes. Row-level security then holds the
ledger and the work to the tenant. (A role that bypasses row-level security, such as the
recorder's, needs no scope; the tenant column is still written per claim.)

**The table** is partitioned by day on the entry's time and declared with
`tally_declare_partitioned`, so it gets partitions with the data it protects and is expired with
it by `tally_expire_datapoints`. A true duplicate carries the same time, so it meets its
original in the same partition. `table_sql()` gives the migration to paste::

    CREATE TABLE readings_ledger (
        tenant text NOT NULL, machine text NOT NULL, seq bigint NOT NULL,
        ts timestamptz NOT NULL,
        PRIMARY KEY (tenant, machine, seq, ts)
    ) PARTITION BY RANGE (ts);
    SELECT tally_declare_partitioned('readings_ledger');
    GRANT SELECT, INSERT ON readings_ledger TO tally_app;

Its day partitions must exist before a claim writes that day: `DayPartitions.ensure(
ledger.days(items))` before the transaction. The claim's statement is registered like any
`@query`, so `tally check` prepares it against the migrated schema.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from types import FrameType
from typing import Any, Generic, TypeVar

import msgspec

from tally.sdk._database import Tx
from tally.sdk._errors import ContractError
from tally.sdk._partitions import utc_days
from tally.sdk._queries import Bound, Query, query

X = TypeVar("X")
E = TypeVar("E", bound=msgspec.Struct)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,53}$")
_PG_TYPES: dict[type, str] = {
    str: "text",
    int: "bigint",
    float: "double precision",
    bool: "boolean",
    datetime: "timestamptz",
    date: "date",
    bytes: "bytea",
}


class Ledger(Generic[X, E]):
    """The identities a consumer has handled, in `table`; see the module docstring.

    `entry` is a msgspec Struct whose fields are the table's columns besides `tenant`; `of`
    turns an item (a message, an envelope) into its entry; `key` names the fields that identify
    an item within its tenant; `time` the field the table is partitioned on (a datetime).
    """

    def __init__(
        self,
        table: str,
        entry: type[E],
        of: Callable[[X], E],
        *,
        key: Sequence[str],
        time: str = "ts",
    ) -> None:
        self.table = _identifier(table, "table")
        self.entry = entry
        self._of = of
        self.columns = tuple(_identifier(f, "column") for f in entry.__struct_fields__)
        self.types = _column_types(entry)
        self.key = tuple(key)
        self.time = time
        self._check()
        self._claim = self._declare(inspect.currentframe())

    async def claim(self, tx: Tx, tenant: str, items: Sequence[X]) -> list[X]:
        """Record the identities of `items` (all of `tenant`) in `tx`; return the items whose
        identity was new, each once, in their order. Do only their work, in the same `tx`."""
        unique = self._unique(items)
        if not unique:
            return []
        rows = await tx.fetch(self._bind(tenant, [entry for _, entry in unique.values()]))
        new = {tuple(getattr(row, name) for name in self.key) for row in rows}
        return [item for identity, (item, _) in unique.items() if identity in new]

    def statement(self, tenant: str, items: Sequence[X]) -> Bound[Any]:
        """The claim's statement for `items`, for a benchmark that runs it on a bare connection;
        its rows are the new identities."""
        return self._bind(tenant, [entry for _, entry in self._unique(items).values()])

    def days(self, items: Iterable[X]) -> set[date]:
        """The UTC days the entries of `items` fall on: the partitions a claim needs."""
        return utc_days(getattr(self._of(item), self.time) for item in items)

    def table_sql(self) -> str:
        """The migration that creates this ledger's table (paste it into a numbered file)."""
        optional = _optional_fields(self.entry)
        columns = ",\n".join(
            f"    {name} {self.types[name]}{'' if name in optional else ' NOT NULL'}"
            for name in ("tenant", *self.columns)
        )
        primary = ", ".join(dict.fromkeys(("tenant", *self.key, self.time)))
        return (
            f"CREATE TABLE {self.table} (\n{columns},\n    PRIMARY KEY ({primary})\n"
            f") PARTITION BY RANGE ({self.time});\n"
            f"SELECT tally_declare_partitioned('{self.table}');\n"
            f"GRANT SELECT, INSERT ON {self.table} TO tally_app;\n"
        )

    def _identity(self, entry: E) -> tuple[object, ...]:
        return tuple(getattr(entry, name) for name in self.key)

    def _unique(self, items: Sequence[X]) -> dict[tuple[object, ...], tuple[X, E]]:
        # The same identity twice in one claim is one item: the first.
        unique: dict[tuple[object, ...], tuple[X, E]] = {}
        for item in items:
            entry = self._of(item)
            unique.setdefault(self._identity(entry), (item, entry))
        return unique

    def _bind(self, tenant: str, entries: list[E]) -> Bound[Any]:
        columns = [[getattr(e, name) for e in entries] for name in self.columns]
        return self._claim(tenant, *columns)

    def _check(self) -> None:
        missing = [n for n in (*self.key, self.time) if n not in self.columns]
        if missing or not self.key:
            raise ContractError(
                f"ledger {self.table}: key {list(self.key)} and time {self.time!r} must name "
                f"fields of {self.entry.__name__} ({list(self.columns)}); missing {missing}"
            )
        if self.types[self.time] != "timestamptz":
            raise ContractError(f"ledger {self.table}: time field {self.time!r} is no datetime")
        if "tenant" in self.columns:
            raise ContractError(
                f"ledger {self.table}: {self.entry.__name__} has a tenant field; the claim "
                "writes the tenant it is given"
            )

    def _declare(self, frame: FrameType | None) -> Query[..., Any]:
        names = ", ".join(self.columns)
        arrays = ", ".join(f"${n}::{self.types[c]}[]" for n, c in enumerate(self.columns, start=2))
        sql = (
            f"INSERT INTO {self.table} (tenant, {names})\n"
            f"SELECT $1, {', '.join(f'e.{c}' for c in self.columns)}\n"
            f"FROM unnest({arrays}) AS e({names})\n"
            f"ON CONFLICT DO NOTHING\n"
            f"RETURNING {', '.join(self.key)}"
        )
        hints = typing.get_type_hints(self.entry)
        row = msgspec.defstruct(
            f"{self.entry.__name__}Key", [(k, hints[k]) for k in self.key], frozen=True
        )
        params = [("tenant", str), *((c, list.__class_getitem__(hints[c])) for c in self.columns)]
        statement = query(row, sql)(_stub(f"Ledger({self.table!r}).claim", params))
        # Point `tally check` at the ledger's declaration, not at this module.
        caller = frame.f_back if frame is not None else None
        if caller is not None:
            statement.file, statement.line = caller.f_code.co_filename, caller.f_lineno
        return statement


def _stub(name: str, params: list[tuple[str, object]]) -> Callable[..., None]:
    def claim(*args: object) -> None:
        """The claim's parameters, for the statement registry."""

    signature = inspect.Signature(
        [
            inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=t)
            for p, t in params
        ]
    )
    claim.__signature__ = signature  # type: ignore[attr-defined]
    claim.__annotations__ = dict(params)
    claim.__qualname__ = name
    return claim


def _column_types(entry: type[msgspec.Struct]) -> dict[str, str]:
    types = {"tenant": "text"}
    for name, hint in typing.get_type_hints(entry).items():
        core = _core(hint)
        pg = _PG_TYPES.get(core) if isinstance(core, type) else None
        if pg is None:
            raise ContractError(
                f"ledger entry {entry.__name__}.{name}: {hint} has no column type; use one of "
                f"{', '.join(t.__name__ for t in _PG_TYPES)}"
            )
        types[name] = pg
    return types


def _optional_fields(entry: type[msgspec.Struct]) -> set[str]:
    return {
        name
        for name, hint in typing.get_type_hints(entry).items()
        if type(None) in typing.get_args(hint)
    }


def _core(hint: object) -> object:
    # `X | None` is stored as X; no other generic has a column type.
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _identifier(name: str, what: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ContractError(f"ledger {what} {name!r}: lower-case letters, digits and '_'")
    return name
