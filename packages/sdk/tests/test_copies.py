"""COPY targets: the row type's fields are the columns, declared where `tally check` sees them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple, assert_type

import msgspec
import pytest

from tally.sdk._copies import Copy, copy_into
from tally.sdk._errors import ContractError
from tally.sdk._queries import registered_statements


class Sample(NamedTuple):
    tenant: str
    ts: datetime
    value: int | None
    order: str


SAMPLES = copy_into("raw.samples", Sample)


def test_the_row_type_gives_the_columns_in_order_and_their_types() -> None:
    assert_type(SAMPLES, Copy[Sample])
    assert SAMPLES.columns == ("tenant", "ts", "value", "order")
    assert SAMPLES.params == (
        ("tenant", str),
        ("ts", datetime),
        ("value", int | None),
        ("order", str),
    )
    assert SAMPLES.schema_and_name == ("raw", "samples")
    assert SAMPLES.name == "Sample"


def test_check_prepares_the_insert_one_row_amounts_to_with_quoted_names() -> None:
    # "order" is a reserved word: COPY quotes column names, and so must the INSERT.
    assert SAMPLES.sql == (
        'INSERT INTO "raw"."samples" ("tenant", "ts", "value", "order") VALUES ($1, $2, $3, $4)'
    )
    assert copy_into("plain", Sample).sql.startswith('INSERT INTO "plain" (')


def test_a_copy_is_registered_with_the_file_and_line_of_its_declaration() -> None:
    assert SAMPLES in registered_statements()
    assert SAMPLES.file == __file__
    declared = Path(__file__).read_text().splitlines()[SAMPLES.line - 1]
    assert declared == 'SAMPLES = copy_into("raw.samples", Sample)'


def test_a_row_type_that_is_no_named_tuple_is_refused() -> None:
    class Struct(msgspec.Struct):
        tenant: str

    before = len(registered_statements())
    with pytest.raises(ContractError, match=r"copy into t: .*Struct is not a NamedTuple"):
        copy_into("t", Struct)  # type: ignore[type-var]
    assert len(registered_statements()) == before
