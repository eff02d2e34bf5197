"""Topics: subjects come from the message, tenancy is part of every pattern."""

from __future__ import annotations

import msgspec
import pytest

from tally.sdk import ContractError, Stream, Topic

STREAM = Stream("READINGS", ("readings.>",))


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    machine: str
    value: float = 0.0


def test_the_subject_is_computed_from_the_message() -> None:
    topic = Topic("readings.{tenant}.{machine}", Reading, STREAM, identity=lambda r: r.machine)
    reading = Reading(tenant="acme", machine="cw-1")
    assert topic.subject(reading) == "readings.acme.cw-1"
    assert topic.message_id(reading) == "cw-1"
    assert topic.filter() == "readings.*.*"
    assert topic.filter(tenant="acme") == "readings.acme.*"
    assert topic.tenant_of("readings.acme.cw-1") == "acme"
    assert topic.tenant_of("other.acme.cw-1") is None
    assert topic.name == "readings.{tenant}.{machine}@v1"


def test_a_pattern_without_tenant_is_refused() -> None:
    with pytest.raises(ContractError, match=r"must contain \{tenant\}"):
        Topic("readings.{machine}", Reading, STREAM)


def test_a_placeholder_that_is_not_a_field_is_refused() -> None:
    with pytest.raises(ContractError, match=r"names \['line'\] which are not fields of Reading"):
        Topic("readings.{tenant}.{line}", Reading, STREAM)


@pytest.mark.parametrize("machine", ["a.b", "*", ">", "", "x" * 65, "white space"])
def test_a_value_that_would_change_the_subject_shape_is_refused(machine: str) -> None:
    topic = Topic("readings.{tenant}.{machine}", Reading, STREAM)
    with pytest.raises(ContractError, match="cannot be a subject token"):
        topic.subject(Reading(tenant="acme", machine=machine))
