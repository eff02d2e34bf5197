"""Publishing a message of another contract on a topic is a type error."""

from __future__ import annotations

import msgspec

from tally.sdk import Broker, Stream, Topic


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    value: float


class Alarm(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    code: str


READINGS = Topic("readings.{tenant}", Reading, Stream("READINGS", ("readings.>",)))


async def publish(broker: Broker) -> None:
    await broker.publish(READINGS, Alarm(tenant="a", code="E1"))  # E: misc Cannot infer
