"""A topic declared as carrying one contract cannot be bound to another."""

from __future__ import annotations

import msgspec

from tally.sdk import Stream, Topic


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str


class Alarm(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str


READINGS: Topic[Reading] = Topic("readings.{tenant}", Alarm, Stream("R", ("readings.>",)))  # E: arg-type
