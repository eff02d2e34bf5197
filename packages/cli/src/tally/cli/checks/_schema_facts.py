"""What the migrated schema says about security: row-level security, policies and privileges.

Read from the catalogue of a scratch database at the head of db/migrations, and recorded in
sql.lock.json beside the statements, so that `tally check` without a database still compares
them with `_grants`. Partitions are made at run time: before reading, one day of partitions
of every declared partitioned table is created (by `tally_ensure_partitions`, as the recorder
does), so the security a new partition gets is checked too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import msgspec

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection[asyncpg.Record]

# A day far in the past, so that the partitions' names (and the lock) never change.
PARTITION_DAY = "2000-01-01"
_SYSTEM_SCHEMAS = """
    SELECT oid FROM pg_namespace
    WHERE nspname IN ('pg_catalog', 'information_schema') OR nspname LIKE 'pg\\_%'
"""


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    command: str  # "*" (all), "r" (SELECT), "a" (INSERT), "w" (UPDATE), "d" (DELETE)
    permissive: bool
    using: str | None
    check: str | None


class Relation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    # "r" table, "p" partitioned table, "v" view, "m" materialized view, "S" sequence,
    # "f" foreign table
    kind: str
    partition_of: str | None = None
    tenant: bool = False
    rls: bool = False
    forced: bool = False
    security_invoker: bool = False
    policies: list[Policy] = []
    # grantee ("PUBLIC" for everyone) → privileges, besides the owner's
    grants: dict[str, list[str]] = {}
    # "column" → grantee → privileges
    column_grants: dict[str, dict[str, list[str]]] = {}


class Function(msgspec.Struct, frozen=True, kw_only=True):
    security_definer: bool
    trigger: bool
    grants: dict[str, list[str]]


class SchemaFacts(msgspec.Struct, frozen=True, kw_only=True):
    relations: dict[str, Relation]
    functions: dict[str, Function]


async def read_schema_facts(connection: Connection) -> SchemaFacts:
    """Every relation and function outside the system schemas, with its security."""
    ensure = await connection.fetchval(
        "SELECT to_regprocedure('tally_ensure_partitions(date, date)') IS NOT NULL"
    )
    if ensure:
        day = f"DATE '{PARTITION_DAY}'"
        await connection.execute(f"SELECT tally_ensure_partitions({day}, {day})")
    relations = {
        row["name"]: await _relation(connection, row) for row in await _relations(connection)
    }
    functions = {row["name"]: _function(row) for row in await _functions(connection)}
    return SchemaFacts(relations=relations, functions=functions)


async def _relations(connection: Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""
        SELECT c.oid, {_qualified("c.relnamespace", "c.relname")} AS name, c.relkind::text AS kind,
               (SELECT {_qualified("p.relnamespace", "p.relname")}
                FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                WHERE i.inhrelid = c.oid AND c.relispartition) AS partition_of,
               EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                       AND a.attname = 'tenant' AND NOT a.attisdropped) AS tenant,
               c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
               coalesce(c.reloptions, '{{}}') AS options,
               {_grants("c.relacl", "CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END", "c.relowner")}
                 AS grants
        FROM pg_class c
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relnamespace NOT IN ({_SYSTEM_SCHEMAS})
        ORDER BY name
        """
    )


async def _relation(connection: Connection, row: asyncpg.Record) -> Relation:
    policies = await connection.fetch(
        """
        SELECT polname AS name, polcmd::text AS command, polpermissive AS permissive,
               pg_get_expr(polqual, polrelid) AS using, pg_get_expr(polwithcheck, polrelid) AS check
        FROM pg_policy WHERE polrelid = $1 ORDER BY polname
        """,
        row["oid"],
    )
    columns = await connection.fetch(
        f"""
        SELECT a.attname AS name, {_grants("a.attacl", "'c'", "c.relowner")} AS grants
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attrelid = $1 AND a.attacl IS NOT NULL AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        row["oid"],
    )
    return Relation(
        kind=row["kind"],
        partition_of=row["partition_of"],
        tenant=row["tenant"],
        rls=row["rls"],
        forced=row["forced"],
        security_invoker=_security_invoker(list(row["options"])),
        policies=[Policy(**dict(p)) for p in policies],
        grants=_by_grantee(row["grants"]),
        column_grants={c["name"]: _by_grantee(c["grants"]) for c in columns if c["grants"]},
    )


async def _functions(connection: Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""
        SELECT {_qualified("p.pronamespace", "p.oid::regprocedure::text")} AS name,
               p.prosecdef AS security_definer, p.prorettype = 'trigger'::regtype AS trigger,
               {_grants("p.proacl", "'f'", "p.proowner")} AS grants
        FROM pg_proc p
        WHERE p.pronamespace NOT IN ({_SYSTEM_SCHEMAS})
        ORDER BY name
        """
    )


def _function(row: asyncpg.Record) -> Function:
    return Function(
        security_definer=row["security_definer"],
        trigger=row["trigger"],
        grants=_by_grantee(row["grants"]),
    )


def _qualified(namespace: str, name: str) -> str:
    # Objects in public go by their bare name, as the migrations write them.
    return (
        f"CASE WHEN {namespace} = 'public'::regnamespace THEN {name}"
        f" ELSE {namespace}::regnamespace::text || '.' || {name} END"
    )


def _grants(acl: str, kind: str, owner: str) -> str:
    """(grantee, privilege) pairs of an ACL column, besides the owner's; NULL means the
    default, which for a function is EXECUTE for everyone."""
    return f"""
        ARRAY(SELECT ARRAY[CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE e.grantee::regrole::text
                           END, e.privilege_type]
              FROM aclexplode(coalesce({acl}, acldefault({kind}::"char", {owner}))) e
              WHERE e.grantee <> {owner}
              ORDER BY 1)
    """


def _by_grantee(pairs: list[list[str]] | None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for grantee, privilege in pairs or []:
        found.setdefault(grantee, []).append(privilege)
    return {grantee: sorted(privileges) for grantee, privileges in sorted(found.items())}


def _security_invoker(options: list[str]) -> bool:
    values = dict(option.partition("=")[::2] for option in options)
    return values.get("security_invoker", "false").lower() in ("true", "on", "yes", "1")
