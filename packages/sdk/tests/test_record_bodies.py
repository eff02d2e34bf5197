"""Bodies completed by the path's ids into records; every refusal names its field and value."""

from __future__ import annotations

import enum
from datetime import time
from typing import Annotated

import msgspec
import pytest

from tally.sdk import Rejected
from tally.sdk._record_bodies import RecordBody

Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class Kind(enum.StrEnum):
    SLICER = "slicer"


class Site(msgspec.Struct, frozen=True, kw_only=True):
    tenant: Id
    site: Id
    name: Annotated[str, msgspec.Meta(min_length=1)]
    timezone: str
    day_start: time = time(6, 0)


class Machine(msgspec.Struct, frozen=True, kw_only=True):
    tenant: Id
    machine: Id
    line: Id
    kind: Kind


SITES = RecordBody(Site, "send a JSON object of the entry's fields")
_SITE_PATH = {"tenant": "acme", "site": "p1"}


def _refusal(body: bytes, path: dict[str, str] | None = None) -> tuple[int, str, object]:
    with pytest.raises(Rejected) as caught:
        SITES.read(body, _SITE_PATH if path is None else path)
    problem = caught.value.problem
    return caught.value.status, str(problem.field), problem.value


def test_the_path_ids_and_the_body_make_the_record() -> None:
    site = SITES.read(b'{"name": "Kempten", "timezone": "Europe/Berlin"}', _SITE_PATH)

    assert site == Site(
        tenant="acme", site="p1", name="Kempten", timezone="Europe/Berlin", day_start=time(6, 0)
    )


def test_enums_are_read_from_their_names() -> None:
    path = {"tenant": "acme", "machine": "m1"}
    machine = RecordBody(Machine, "").read(b'{"line": "l1", "kind": "slicer"}', path)

    assert machine.kind is Kind.SLICER


def test_a_body_may_repeat_a_path_id_but_not_contradict_it() -> None:
    body = b'{"tenant": "acme", "name": "K", "timezone": "UTC"}'
    assert SITES.read(body, _SITE_PATH).tenant == "acme"

    assert _refusal(b'{"tenant": "other", "name": "K", "timezone": "UTC"}') == (
        422,
        "tenant",
        "other",
    )


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        (b'{"name": "K"}', "timezone", None),
        (b'{"name": "", "timezone": "UTC"}', "name", ""),
        (b'{"name": "K", "timezone": "UTC", "day_start": "6am"}', "day_start", "6am"),
        (b'{"name": "K", "timezone": "UTC", "zone": "x"}', "zone", "x"),
        (b"[1, 2]", "$", [1, 2]),
    ],
)
def test_a_broken_body_is_422_naming_field_and_value(
    body: bytes, field: str, value: object
) -> None:
    assert _refusal(body) == (422, field, value)


def test_a_path_id_breaking_its_constraint_is_named_like_a_body_field() -> None:
    path = {"tenant": "ACME!", "site": "p1"}

    assert _refusal(b'{"name": "K", "timezone": "UTC"}', path) == (422, "tenant", "ACME!")


def test_a_body_that_is_no_json_is_400_with_the_advice() -> None:
    with pytest.raises(Rejected) as caught:
        SITES.read(b'{"name": ', _SITE_PATH)

    assert caught.value.status == 400
    assert caught.value.problem.detail.endswith("send a JSON object of the entry's fields")


def test_a_body_may_hold_the_records_fields_less_the_paths() -> None:
    assert SITES.body_fields(_SITE_PATH) == ["name", "timezone", "day_start"]
