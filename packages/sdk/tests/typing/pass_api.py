"""Typing cases that must pass: the public API infers what a reader expects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_type

import msgspec

from tally.sdk import Broker, Consumer, Envelope, Published, Stream, Topic


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    machine: str
    value: float


READINGS = Topic("readings.{tenant}.{machine}", Reading, Stream("READINGS", ("readings.>",)))


class Deps:
    pass


async def handle(deps: Deps, batch: Sequence[Envelope[Reading]]) -> None:
    for envelope in batch:
        assert_type(envelope.message, Reading)
        assert_type(envelope.message.value, float)


async def publish(broker: Broker) -> None:
    receipt = await broker.publish(READINGS, Reading(tenant="a", machine="m", value=1.0))
    assert_type(receipt, Published)


assert_type(READINGS, Topic[Reading])
assert_type(Consumer("readings", READINGS, handle), Consumer[Deps, Reading])
