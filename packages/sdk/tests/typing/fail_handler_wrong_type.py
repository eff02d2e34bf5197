"""A consumer whose handler takes another contract than its topic carries is a type error."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from tally.sdk import Consumer, Envelope, Stream, Topic


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    value: float


class Alarm(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    code: str


READINGS = Topic("readings.{tenant}", Reading, Stream("READINGS", ("readings.>",)))


async def handle_alarms(deps: object, batch: Sequence[Envelope[Alarm]]) -> None:
    return None


CONSUMER = Consumer("readings", READINGS, handle_alarms)  # E: arg-type
