"""Typing cases that must pass: the public API infers what a reader expects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_type

import msgspec

from tally.sdk import Broker, Consumer, Database, Envelope, Published, Stream, Topic, Tx, query


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


class MachineRow(msgspec.Struct, frozen=True):
    machine: str
    kind: str


@query(MachineRow, "SELECT machine, kind FROM machines WHERE tenant = $1 AND line = $2")
def machines_of_line(tenant: str, line: str) -> None: ...


async def read(database: Database) -> None:
    async def work(tx: Tx) -> list[MachineRow]:
        rows = await tx.fetch(machines_of_line("acme", "l1"))
        assert_type(rows, list[MachineRow])
        assert_type(await tx.fetch_optional(machines_of_line("acme", "l1")), MachineRow | None)
        return rows

    assert_type(await database.transaction(work, tenant="acme"), list[MachineRow])
