"""The Python side of SQL statements against a description of their SQL, without a database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec
import pytest

from tally.cli.checks._sql_describe import Column
from tally.cli.checks._sql_types import check_params, check_row, unwrap
from tally.sdk import Query


class Tenant(msgspec.Struct, frozen=True):
    tenant: str
    rate_per_second: int
    retired_at: datetime | None


def tenant(tenant: str) -> None: ...


def statement(row: type[msgspec.Struct]) -> Query[..., msgspec.Struct]:
    # Built directly, not with @query, so the planted faults stay out of the SDK's registry.
    return Query(row, "SELECT tenant, rate_per_second, retired_at FROM t WHERE tenant = $1", tenant)


COLUMNS = [
    Column(name="tenant", type="text", nullable=False),
    Column(name="rate_per_second", type="int4", nullable=False),
    Column(name="retired_at", type="timestamptz", nullable=True),
]


def test_a_matching_row_type_passes() -> None:
    assert check_row(statement(Tenant), COLUMNS) == []


@pytest.mark.parametrize(
    ("declared", "pg_type"),
    [
        (str, "text"),
        (int, "int8"),
        (float, "float8"),
        (int, "float4"),
        (float, "numeric"),
        (Decimal, "numeric"),
        (bytes, "bytea"),
        (str | None, "text"),
        (Annotated[str, msgspec.Meta(max_length=3)], "varchar"),
        (list[str], "text[]"),
        (Sequence[int], "int8[]"),
    ],
)
def test_parameters_asyncpg_encodes_pass(declared: object, pg_type: str) -> None:
    assert check_params([("value", declared)], [pg_type]) == []


@pytest.mark.parametrize(
    ("declared", "pg_type"),
    [(str, "int4"), (int, "text"), (float, "int8"), (list[str], "int8[]"), (str, "text[]")],
)
def test_a_parameter_of_another_type_fails_naming_it(declared: object, pg_type: str) -> None:
    [problem] = check_params([("value", declared)], [pg_type])
    assert "parameter $1 `value`" in problem
    assert f"PostgreSQL expects {pg_type}" in problem
    assert "[rule: parameter type]" in problem


def test_a_wrong_parameter_count_fails() -> None:
    [problem] = check_params([("a", str)], ["text", "text"])
    assert "[rule: parameter count]" in problem


def test_a_field_for_another_column_type_fails() -> None:
    columns = [COLUMNS[0], Column(name="rate_per_second", type="numeric"), COLUMNS[2]]
    [problem] = check_row(statement(Tenant), columns)
    assert "Tenant.rate_per_second is int" in problem
    assert "numeric, which asyncpg returns as Decimal" in problem
    assert "[rule: column type]" in problem


def test_a_nullable_column_needs_an_optional_field() -> None:
    columns = [COLUMNS[0], Column(name="rate_per_second", type="int4", nullable=True), COLUMNS[2]]
    [problem] = check_row(statement(Tenant), columns)
    assert "rate_per_second" in problem
    assert "[rule: column nullability]" in problem


def test_unknown_nullability_accepts_either_declaration() -> None:
    columns = [COLUMNS[0], COLUMNS[1], Column(name="retired_at", type="timestamptz")]
    assert check_row(statement(Tenant), columns) == []


def test_columns_other_than_the_fields_fail() -> None:
    [problem] = check_row(statement(Tenant), [*COLUMNS[:2], Column(name="retired", type="text")])
    assert "[rule: result columns are the row type's fields, in order]" in problem


def test_a_query_without_rows_fails() -> None:
    [problem] = check_row(statement(Tenant), [])
    assert "[rule: query returns rows]" in problem


def test_unwrap_strips_annotated_and_none() -> None:
    assert unwrap(Annotated[int, msgspec.Meta(ge=0)] | None) == (int, True)
    assert unwrap(str) == (str, False)
