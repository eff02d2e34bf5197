"""Consumer and schedule options from the environment, for one of them or for all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import msgspec
import pytest

from tally.sdk import (
    Consumer,
    Envelope,
    Runtime,
    Schedule,
    ScheduledRun,
    Service,
    SettingsError,
    Stream,
    Topic,
    every,
)
from tally.sdk._tuning import tuned


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str


PINGS = Topic(
    "pings.{tenant}", Ping, Stream("PINGS", ("pings.>",), consumers=("fast-lane", "slow"))
)


async def handle(deps: object, batch: Sequence[Envelope[Ping]]) -> None:
    return None


async def tick(deps: object, run: ScheduledRun[object]) -> None:
    return None


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    consumer_note: str = ""  # a setting of its own that starts like an option


@asynccontextmanager
async def _deps(runtime: Runtime, settings: Settings) -> AsyncIterator[object]:
    yield object()


SERVICE = Service(
    name="pinger",
    settings=Settings,
    deps=_deps,
    consumers=[
        Consumer("fast-lane", PINGS, handle, batch_size=100, ack_wait=30.0),
        Consumer("slow", PINGS, handle, batch_size=10, concurrency=2),
    ],
    schedules=[Schedule("tick", tick, every(timedelta(hours=1)), each_process=True)],
)


def test_options_come_from_the_consumers_variable_before_the_one_for_every_consumer() -> None:
    service = tuned(
        SERVICE,
        {
            "TALLY_PINGER_CONSUMER_FAST_LANE_BATCH_SIZE": "7",
            "TALLY_PINGER_CONSUMER_FAST_LANE_ACK_WAIT_SECONDS": "2.5",
            "TALLY_CONSUMERS_ACK_WAIT_SECONDS": "1.5",
            "TALLY_CONSUMERS_MAX_DELIVERIES": "9",
            "TALLY_PINGER_SCHEDULE_TICK_LOOK_BACK_SECONDS": "86400",
            "TALLY_SCHEDULES_TICK_SECONDS": "5",
            "TALLY_PINGER_CONSUMER_NOTE": "its own setting, not an option",
        },
    )
    fast, slow = service.consumers
    assert (fast.batch_size, fast.ack_wait, fast.max_deliver) == (7, 2.5, 9)
    assert (slow.batch_size, slow.ack_wait, slow.max_deliver, slow.concurrency) == (10, 1.5, 9, 2)
    (schedule,) = service.schedules
    assert (schedule.look_back, schedule.tick) == (timedelta(days=1), timedelta(seconds=5))
    # The declaration itself is untouched: the code's values are the defaults.
    assert SERVICE.consumers[0].batch_size == 100
    assert tuned(SERVICE, {}) == SERVICE


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("TALLY_PINGER_CONSUMER_FAST_LANE_BATCHSIZE", "no consumer of service pinger"),
        ("TALLY_PINGER_CONSUMER_FAST_BATCH_SIZE", "no consumer of service pinger"),
        ("TALLY_PINGER_SCHEDULE_TOCK_TICK_SECONDS", "no schedule of service pinger"),
        ("TALLY_CONSUMERS_BATCH", "no such option"),
    ],
)
def test_a_misspelt_option_stops_start_up_naming_it(variable: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        tuned(SERVICE, {variable: "3"})
    assert variable in str(raised.value)


def test_a_value_out_of_range_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"TALLY_CONSUMERS_ACK_WAIT_SECONDS='0' is not valid"):
        tuned(SERVICE, {"TALLY_CONSUMERS_ACK_WAIT_SECONDS": "0"})
    with pytest.raises(SettingsError, match=r"TALLY_PINGER_CONSUMER_SLOW_CONCURRENCY='0'"):
        tuned(SERVICE, {"TALLY_PINGER_CONSUMER_SLOW_CONCURRENCY": "0"})
