"""Declared consumer and schedule options, tuned from the environment without editing code.

A consumer's or schedule's options in the code are its defaults; a variable overrides them, for
one of them or for every one in the process (the one wins over the every)::

    TALLY_<SERVICE>_CONSUMER_<NAME>_<OPTION>    TALLY_CONSUMERS_<OPTION>
    TALLY_<SERVICE>_SCHEDULE_<NAME>_<OPTION>    TALLY_SCHEDULES_<OPTION>

    TALLY_RECORDER_CONSUMER_RECORDER_BATCH_SIZE=200     # the recorder's consumer "recorder"
    TALLY_CONSUMERS_ACK_WAIT_SECONDS=2                  # every consumer (a fault test, say)
    TALLY_RECORDER_SCHEDULE_MAINTENANCE_LOOK_BACK_SECONDS=86400

Names are upper case with '-' as '_'. Consumer options: BATCH_SIZE, MAX_WAIT_SECONDS,
ACK_WAIT_SECONDS, MAX_DELIVERIES, CONCURRENCY. Schedule options: LOOK_BACK_SECONDS,
TICK_SECONDS, LEASE_SECONDS. A variable under a service's CONSUMER_ or SCHEDULE_ prefix that
names no declared consumer or schedule and option stops start-up, naming it: a typo must not
pass for a setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import msgspec

from tally.sdk._consumer import Consumer
from tally.sdk._errors import SettingsError
from tally.sdk._schedules import Schedule
from tally.sdk._service import Service
from tally.sdk._settings import load_settings

S = TypeVar("S", bound=msgspec.Struct)
D = TypeVar("D")
Opts = TypeVar("Opts", bound=msgspec.Struct)

Count = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]

CONSUMERS_PREFIX = "TALLY_CONSUMERS_"
SCHEDULES_PREFIX = "TALLY_SCHEDULES_"


class ConsumerOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What the environment may set for a consumer; None keeps what the code declares."""

    batch_size: Count | None = None
    max_wait_seconds: Seconds | None = None
    ack_wait_seconds: Seconds | None = None
    max_deliveries: Count | None = None
    concurrency: Count | None = None

    def over(self, other: ConsumerOptions) -> ConsumerOptions:
        """These options, with `other`'s where these have none."""
        return _over(self, other)

    def applied(self, consumer: Consumer[D, Any]) -> Consumer[D, Any]:
        changes: dict[str, Any] = {
            "batch_size": self.batch_size,
            "max_wait": self.max_wait_seconds,
            "ack_wait": self.ack_wait_seconds,
            "max_deliver": self.max_deliveries,
            "concurrency": self.concurrency,
        }
        return dataclasses.replace(consumer, **_given(changes))


class ScheduleOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What the environment may set for a schedule; None keeps what the code declares."""

    look_back_seconds: Seconds | None = None
    tick_seconds: Seconds | None = None
    lease_seconds: Seconds | None = None

    def over(self, other: ScheduleOptions) -> ScheduleOptions:
        return _over(self, other)

    def applied(self, schedule: Schedule[D, Any]) -> Schedule[D, Any]:
        changes: dict[str, Any] = {
            "look_back": _span(self.look_back_seconds),
            "tick": _span(self.tick_seconds),
            "lease": _span(self.lease_seconds),
        }
        return dataclasses.replace(schedule, **_given(changes))


def tuned(service: Service[S, D], environ: Mapping[str, str]) -> Service[S, D]:
    """`service` with the options of its consumers and schedules from `environ`."""
    _refuse_unknown(service, environ)
    every_consumer = load_settings(ConsumerOptions, CONSUMERS_PREFIX, environ)
    every_schedule = load_settings(ScheduleOptions, SCHEDULES_PREFIX, environ)
    consumers = [
        load_settings(ConsumerOptions, _prefix(service, "CONSUMER", c.name), environ)
        .over(every_consumer)
        .applied(c)
        for c in service.consumers
    ]
    schedules = [
        load_settings(ScheduleOptions, _prefix(service, "SCHEDULE", s.name), environ)
        .over(every_schedule)
        .applied(s)
        for s in service.schedules
    ]
    return dataclasses.replace(service, consumers=consumers, schedules=schedules)


def _prefix(service: Service[Any, Any], kind: str, name: str) -> str:
    return f"{service.settings_prefix}{kind}_{name.upper().replace('-', '_')}_"


def _refuse_unknown(service: Service[Any, Any], environ: Mapping[str, str]) -> None:
    own = {f"{service.settings_prefix}{f.upper()}" for f in service.settings.__struct_fields__}
    known = {
        f"{_prefix(service, kind, name)}{option.upper()}"
        for kind, names, options in (
            ("CONSUMER", [c.name for c in service.consumers], ConsumerOptions),
            ("SCHEDULE", [s.name for s in service.schedules], ScheduleOptions),
        )
        for name in names
        for option in options.__struct_fields__
    }
    for kind, options in (("CONSUMER", ConsumerOptions), ("SCHEDULE", ScheduleOptions)):
        prefix = f"{service.settings_prefix}{kind}_"
        unknown = sorted(v for v in environ if v.startswith(prefix) and v not in known | own)
        if unknown:
            raise SettingsError(
                f"{', '.join(unknown)}: no {kind.lower()} of service {service.name} and option "
                f"by that name; options are {_options(options)} after {prefix}<NAME>_"
            )
    for prefix, options in (
        (CONSUMERS_PREFIX, ConsumerOptions),
        (SCHEDULES_PREFIX, ScheduleOptions),
    ):
        names = {f"{prefix}{option.upper()}" for option in options.__struct_fields__}
        unknown = sorted(v for v in environ if v.startswith(prefix) and v not in names)
        if unknown:
            raise SettingsError(
                f"{', '.join(unknown)}: no such option; options are {_options(options)} after "
                f"{prefix}"
            )


def _options(options: type[msgspec.Struct]) -> str:
    return ", ".join(name.upper() for name in options.__struct_fields__)


def _over(mine: Opts, other: Opts) -> Opts:
    fields = {name: getattr(mine, name) for name in mine.__struct_fields__}
    fallback = {name: getattr(other, name) for name in other.__struct_fields__}
    return msgspec.structs.replace(
        mine, **{name: fallback[name] for name, value in fields.items() if value is None}
    )


def _given(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in changes.items() if value is not None}


def _span(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)
