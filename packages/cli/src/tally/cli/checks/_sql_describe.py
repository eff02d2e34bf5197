"""What PostgreSQL says about one SQL statement, prepared against a scratch migrated database.

Parameter and column types come from preparing the statement (the extended protocol's Describe,
through asyncpg). Nullability comes from the plan: asyncpg does not expose which table column a
result column comes from, so `EXPLAIN (VERBOSE)` of the generic plan is read instead. A result
column that is a plain reference to a table column (`m.machine`, or a RETURNING column) takes
that column's NOT NULL; on the nullable side of an outer join it may be NULL whatever the table
says; anything else (an expression, a function's result) is unknown, and then either
declaration is accepted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from tally.cli._endpoints import with_database
from tally.sdk import migrate, owner_database_url
from tally.sdk.embedded import EmbeddedPostgres

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection[asyncpg.Record]
_COLUMN = re.compile(r'^(?:"?(\w+)"?\.)?"?(\w+)"?$')
_NULLABLE_SIDES = {"Left": (1,), "Right": (0,), "Full": (0, 1)}


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    # None: PostgreSQL cannot say (an expression); then T and T | None are both accepted.
    nullable: bool | None = None


class TableColumn(msgspec.Struct, frozen=True, kw_only=True):
    """A column of a COPY's table: whether it takes NULL, and whether it fills itself."""

    name: str
    nullable: bool
    # A default, an identity or a generated column: a COPY may leave it out.
    default: bool


class Description(msgspec.Struct, frozen=True, kw_only=True):
    params: list[str]
    columns: list[Column]
    # For a COPY: every column of its table, in the table's order.
    table: list[TableColumn] | None = None


class Unprepared(msgspec.Struct, frozen=True):
    """The statement does not prepare: PostgreSQL's message, and where in the SQL it points."""

    message: str
    sql_line: int | None = None


@contextlib.contextmanager
def database_server(state_dir: Path) -> Iterator[str]:
    """TALLY_OWNER_DATABASE_URL's server, or an embedded one (fsync off) under `state_dir`."""
    given = owner_database_url(os.environ)
    if given:
        yield given
        return
    with EmbeddedPostgres(state_dir, fast=True) as server:
        yield server.url


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, migrations: Path) -> AsyncIterator[Connection]:
    """A new database on `server_url`, migrated to head; dropped when the block ends."""
    name = f"tally_check_{secrets.token_hex(6)}"
    url = with_database(server_url, name)
    admin = await asyncpg.connect(server_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await migrate(url, migrations)
            connection = await asyncpg.connect(url, timeout=10)
            try:
                # The plan then keeps $n as parameters instead of folding the NULLs in.
                await connection.execute("SET plan_cache_mode = force_generic_plan")
                yield connection
            finally:
                await connection.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def describe_copy(connection: Connection, sql: str, table: str) -> Description | Unprepared:
    """A COPY into `table` (quoted, as in `sql`), by `sql`, the INSERT one of its rows amounts
    to: the parameters' types are the copied columns' types. And every column of the table."""
    described = await describe(connection, sql)
    if isinstance(described, Unprepared):
        return described
    rows = await connection.fetch(
        """
        SELECT attname AS name, NOT attnotnull AS nullable,
               atthasdef OR attidentity <> '' OR attgenerated <> '' AS default
        FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
        ORDER BY attnum
        """,
        table,
    )
    columns = [
        TableColumn(name=r["name"], nullable=r["nullable"], default=r["default"]) for r in rows
    ]
    return Description(params=described.params, columns=[], table=columns)


async def describe(connection: Connection, sql: str) -> Description | Unprepared:
    try:
        statement = await connection.prepare(sql)
    except asyncpg.PostgresError as error:
        return _unprepared(error, sql)
    params = [_type_name(t) for t in statement.get_parameters()]
    attributes = statement.get_attributes()
    nullable = await _nullability(connection, sql, len(params)) if attributes else []
    columns = [
        Column(
            name=a.name,
            type=_type_name(a.type),
            nullable=nullable[i] if i < len(nullable) else None,
        )
        for i, a in enumerate(attributes)
    ]
    return Description(params=params, columns=columns)


def _type_name(kind: Any) -> str:
    # asyncpg names arrays "text[]" already; types outside pg_catalog keep their schema.
    name = str(kind.name)
    return name if kind.schema == "pg_catalog" else f"{kind.schema}.{name}"


def _unprepared(error: asyncpg.PostgresError, sql: str) -> Unprepared:
    # asyncpg's message carries PostgreSQL's DETAIL and HINT lines; one line reads better.
    message = " ".join(str(error).split())
    position = getattr(error, "position", None)
    line = sql[: int(position) - 1].count("\n") + 1 if position else None
    return Unprepared(message, line)


async def _nullability(connection: Connection, sql: str, params: int) -> list[bool | None]:
    name = f"tally_check_{secrets.token_hex(4)}"
    try:
        await connection.execute(f"PREPARE {name} AS {sql}")
    except asyncpg.PostgresError:
        return []  # utility statements cannot be planned; their columns stay unknown
    try:
        nulls = ", ".join(["NULL"] * params)
        explain = f"EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {name}({nulls})"
        plan = json.loads(await connection.fetchval(explain))[0]["Plan"]
    except asyncpg.PostgresError:
        return []
    finally:
        await connection.execute(f"DEALLOCATE {name}")
    relations: dict[str, str] = {}
    nullable_aliases: set[str] = set()
    _walk(plan, relations, nullable_aliases, nullable_side=False)
    outputs = [str(o) for o in plan.get("Output", [])]
    found: list[bool | None] = []
    for output in outputs:
        match = _COLUMN.match(output)
        if match is None:
            found.append(None)
            continue
        alias, column = match.group(1), match.group(2)
        if alias is None and len(relations) == 1 and not _has_other_scans(plan):
            alias = next(iter(relations))
        if alias in nullable_aliases:
            found.append(True)
        elif alias in relations:
            found.append(await _column_nullable(connection, relations[alias], column))
        else:
            found.append(None)
    return found


def _walk(
    node: dict[str, Any], relations: dict[str, str], nullable: set[str], *, nullable_side: bool
) -> None:
    """Collect alias → table of every scanned table, and the aliases an outer join may null."""
    alias = node.get("Alias")
    if "Relation Name" in node and alias:
        relations[str(alias)] = f'"{node.get("Schema", "public")}"."{node["Relation Name"]}"'
        if nullable_side:
            nullable.add(str(alias))
    sides = _NULLABLE_SIDES.get(str(node.get("Join Type")), ())
    for index, child in enumerate(node.get("Plans", [])):
        _walk(child, relations, nullable, nullable_side=nullable_side or index in sides)


def _has_other_scans(node: dict[str, Any]) -> bool:
    if "Alias" in node and "Relation Name" not in node:
        return True
    return any(_has_other_scans(child) for child in node.get("Plans", []))


async def _column_nullable(connection: Connection, relation: str, column: str) -> bool | None:
    not_null = await connection.fetchval(
        "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2"
        " AND NOT attisdropped",
        relation,
        column,
    )
    return None if not_null is None else not bool(not_null)
