"""Typed statements: declaration checks, the registry, and rows converted to their Struct."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

import asyncpg
import msgspec
import pytest

from tally.sdk._errors import ContractError
from tally.sdk._queries import (
    Bound,
    BoundCommand,
    Command,
    Query,
    command,
    query,
    registered_statements,
)


class MachineRow(msgspec.Struct, frozen=True):
    machine: str
    kind: str


class KeywordRow(msgspec.Struct, frozen=True, kw_only=True):
    machine: str
    kind: str


@query(MachineRow, "SELECT machine, kind FROM machines WHERE tenant = $1 AND site = $2")
def machines_of_site(tenant: str, site: str) -> None: ...


@command("DELETE FROM machines WHERE tenant = $1 AND machine = $2")
def forget_machine(tenant: str, machine: str) -> None: ...


def test_query_binds_arguments_in_declared_order() -> None:
    bound = machines_of_site("acme", site="plant-1")
    assert_type(bound, Bound[MachineRow])
    assert bound.args == ("acme", "plant-1")
    assert bound.query is machines_of_site
    assert_type(forget_machine("acme", "slicer-7"), BoundCommand)


def test_statement_knows_its_sql_name_and_parameters() -> None:
    assert isinstance(machines_of_site, Query)
    assert_type(machines_of_site.row, type[MachineRow])
    assert machines_of_site.sql.startswith("SELECT machine, kind")
    assert machines_of_site.row is MachineRow
    assert machines_of_site.name == "machines_of_site"
    assert machines_of_site.params == (("tenant", str), ("site", str))


def test_registry_holds_statements_with_file_and_line() -> None:
    statements = registered_statements()
    assert machines_of_site in statements
    assert forget_machine in statements
    for statement in (machines_of_site, forget_machine):
        assert statement.file == __file__
        declared = Path(__file__).read_text().splitlines()[statement.line - 1]
        assert declared.startswith(("@query(MachineRow", "@command("))


def test_placeholder_count_mismatch_names_the_function() -> None:
    before = len(registered_statements())
    with pytest.raises(ContractError, match=r"too_few_params has 2 .* but 1 parameters"):

        @query(MachineRow, "SELECT machine, kind FROM machines WHERE tenant = $1 AND site = $2")
        def too_few_params(tenant: str) -> None: ...

    assert len(registered_statements()) == before  # a refused statement is not registered


def test_repeated_placeholder_counts_once_and_literals_do_not_count() -> None:
    @command("UPDATE t SET a = $1, note = 'costs $2' WHERE b = $1 -- not $3")
    def repeated(a: int) -> None: ...

    assert isinstance(repeated, Command)


def test_placeholder_gap_is_refused() -> None:
    with pytest.raises(ContractError, match=r"gapped uses placeholders \[1, 3\]"):

        @command("UPDATE t SET a = $1 WHERE b = $3")
        def gapped(a: int, b: int) -> None: ...


def test_variadic_parameters_are_refused() -> None:
    with pytest.raises(ContractError, match=r"variadic declares \*args"):

        @command("UPDATE t SET a = $1")
        def variadic(*args: int) -> None: ...


@pytest.mark.integration
async def test_rows_become_the_declared_struct(database_url: str) -> None:
    @query(KeywordRow, "SELECT $1::text AS machine, 'slicer' AS kind")
    def keyword_rows(machine: str) -> None: ...

    conn = await asyncpg.connect(database_url)
    try:
        positional = machines_of_site.rows(
            await conn.fetch("SELECT 'm1' AS machine, 'slicer' AS kind")
        )
        by_name = keyword_rows.rows(await conn.fetch(keyword_rows.sql, "m2"))
    finally:
        await conn.close()
    assert positional == [MachineRow(machine="m1", kind="slicer")]
    assert by_name == [KeywordRow(machine="m2", kind="slicer")]


@pytest.mark.integration
async def test_column_mismatch_names_query_and_columns(database_url: str) -> None:
    @query(MachineRow, "SELECT 'm1' AS machine, 'slicer' AS kinds")
    def misspelled() -> None: ...

    conn = await asyncpg.connect(database_url)
    try:
        records = await conn.fetch(misspelled.sql)
    finally:
        await conn.close()
    with pytest.raises(ContractError) as error:
        misspelled.rows(records)
    message = str(error.value)
    assert "misspelled" in message
    assert "missing columns ['kind']" in message
    assert "unexpected columns ['kinds']" in message
