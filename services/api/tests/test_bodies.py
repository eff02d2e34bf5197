"""Bodies and path ids into registry records; every refusal names its field and value."""

from __future__ import annotations

from datetime import time

import pytest

from tally.api.bodies import path_id, to_record
from tally.registry import Machine, MachineKind, Site
from tally.sdk import Rejected

_SITE_PATH = {"tenant": "acme", "site": "p1"}


def _refusal(body: bytes, path: dict[str, str] | None = None) -> tuple[int, str, object]:
    with pytest.raises(Rejected) as caught:
        to_record(body, Site, _SITE_PATH if path is None else path)
    problem = caught.value.problem
    return caught.value.status, str(problem.field), problem.value


def test_the_path_ids_and_the_body_make_the_record() -> None:
    site = to_record(b'{"name": "Kempten", "timezone": "Europe/Berlin"}', Site, _SITE_PATH)

    assert site == Site(
        tenant="acme", site="p1", name="Kempten", timezone="Europe/Berlin", day_start=time(6, 0)
    )


def test_enums_are_read_from_their_names() -> None:
    path = {"tenant": "acme", "machine": "m1"}
    machine = to_record(b'{"line": "l1", "kind": "slicer"}', Machine, path)

    assert machine.kind is MachineKind.SLICER


def test_a_body_may_repeat_a_path_id_but_not_contradict_it() -> None:
    body = b'{"tenant": "acme", "name": "K", "timezone": "UTC"}'
    assert to_record(body, Site, _SITE_PATH).tenant == "acme"

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
    with pytest.raises(Rejected) as caught:
        path_id("a b", Machine, "machine")
    assert (caught.value.problem.field, caught.value.problem.value) == ("machine", "a b")
    assert path_id("l1-cw", Machine, "machine") == "l1-cw"


def test_a_body_that_is_no_json_is_400() -> None:
    status, _, _ = _refusal(b'{"name": ')

    assert status == 400
