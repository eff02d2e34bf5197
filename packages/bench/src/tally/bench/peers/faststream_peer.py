"""The recorder's job in FastStream, the most used Python framework for it: its documented batch
pull subscriber (`pull_sub=PullSub(batch_size=…, batch=True)`) with pydantic models.

    python -m tally.bench.peers.faststream_peer --nats URL --database URL --durable NAME --expect N

FastStream decodes and validates each message into the models below (the wire contract,
written as a pydantic user would), calls the handler with the batch, and acknowledges every
message of it after the handler returns (`AckPolicy.NACK_ON_ERROR`: a failed batch is
redelivered). The handler claims the identities and COPYs the new rows in one transaction.
FastStream's batch pull subscriber runs one batch at a time (it takes no `max_workers`).

One fix is applied to FastStream 0.7.8 here, so that it is measured at its best: its batch loop
keeps fetching after a partial batch and catches `nats.errors.TimeoutError`, but nats-py's
`fetch` raises the built-in `TimeoutError` when the second fetch times out. The fetched partial
batch is then dropped unacknowledged and the consume task restarts: every partial batch (the
tail of a backlog, any quiet moment) waits a whole `ack_wait` for its redelivery. Catching the
built-in class (which nats-py's subclasses) is the fix.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
import faststream.nats.subscriber.usecases.stream_pull_subscriber as pull_subscriber
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tally.bench.peers.protocol import CLAIM, COLUMNS, STREAM, SUBJECTS, Clock, peer_arguments
from tally.bench.peers.wire import (
    BOOT_PATTERN,
    ID_PATTERN,
    NAME_PATTERN,
    AlarmCategory,
    ContextEvent,
    Mode,
    RejectReason,
    StateMachine,
)

# The fix described above: the module's `except TimeoutError` catches the built-in class.
setattr(pull_subscriber, "TimeoutError", TimeoutError)  # noqa: B010 (a module constant, replaced)

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
BootId = Annotated[str, Field(min_length=1, max_length=64, pattern=BOOT_PATTERN)]
Text = Annotated[str, Field(max_length=256)]


class _Signal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ts: AwareDatetime | None = None


class CounterModel(_Signal):
    kind: Literal["counter"]
    name: Name
    value: Annotated[int, Field(ge=0, le=2**63 - 1)]


class GaugeModel(_Signal):
    kind: Literal["gauge"]
    name: Name
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
    unit: Annotated[str, Field(max_length=16)] | None = None


class StateModel(_Signal):
    kind: Literal["state"]
    name: Name
    model: StateMachine
    mode: Mode = "production"
    sub_state: Name | None = None
    code: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None


class WeighingModel(_Signal):
    kind: Literal["weighing"]
    article: Name
    net_g: Annotated[float, Field(allow_inf_nan=False, gt=0, le=100_000)]
    accepted: bool
    zone: Annotated[int, Field(ge=0, le=9)] = 0
    reject_reason: RejectReason | None = None


class AlarmModel(_Signal):
    kind: Literal["alarm"]
    code: Name
    raised: bool
    category: AlarmCategory
    first_out: bool = False
    text: Text | None = None


class ContextModel(_Signal):
    kind: Literal["context"]
    event: ContextEvent
    article: Name | None = None
    batch: Name | None = None
    order: Name | None = None
    shift: Name | None = None


Signal = Annotated[
    CounterModel | GaugeModel | StateModel | WeighingModel | AlarmModel | ContextModel,
    Field(discriminator="kind"),
]


class TelemetryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenant: Id
    machine: Id
    boot_id: BootId
    seq: Annotated[int, Field(ge=0, le=2**63 - 1)]
    ts: AwareDatetime
    signals: Annotated[list[Signal], Field(min_length=1, max_length=2000)]
    historical: bool = False


def rows(messages: list[TelemetryModel]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    for m in messages:
        t, mc = m.tenant, m.machine
        for s in m.signals:
            ts: datetime = s.ts or m.ts
            match s:
                case CounterModel():
                    out["counter_samples"].append((t, mc, s.name, ts, s.value, m.boot_id, m.seq))
                case GaugeModel():
                    out["gauge_samples"].append((t, mc, s.name, ts, s.value, s.unit))
                case WeighingModel():
                    reason = s.reject_reason
                    out["weighings"].append(
                        (t, mc, ts, s.article, s.net_g, s.accepted, s.zone, reason)
                    )
                case StateModel():
                    out["state_changes"].append(
                        (t, mc, ts, s.name, s.model, s.mode, s.sub_state, s.code)
                    )
                case AlarmModel():
                    out["alarms"].append(
                        (t, mc, ts, s.code, s.raised, s.category, s.first_out, s.text)
                    )
                case ContextModel():
                    out["context_events"].append(
                        (t, mc, ts, s.event, s.article, s.batch, s.order, s.shift)
                    )
    return out


async def main() -> None:
    args = peer_arguments(__doc__ or "")
    broker = NatsBroker(args.nats)
    pool = await asyncpg.create_pool(args.database, min_size=1, max_size=1)
    clock = Clock()
    finished = asyncio.Event()

    @broker.subscriber(
        SUBJECTS,
        stream=JStream(STREAM, declare=False),
        durable=args.durable,
        deliver_policy=DeliverPolicy.ALL,
        config=ConsumerConfig(ack_wait=60, max_ack_pending=2 * args.batch),
        pull_sub=PullSub(batch_size=args.batch, timeout=0.25, batch=True),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def handle(messages: list[TelemetryModel]) -> None:
        clock.first()
        async with pool.acquire() as connection, connection.transaction():
            tenants: dict[str, list[TelemetryModel]] = {}
            for m in messages:
                tenants.setdefault(m.tenant, []).append(m)
            new: list[TelemetryModel] = []
            for tenant, mine in tenants.items():
                claimed = await connection.fetch(
                    CLAIM,
                    tenant,
                    [m.machine for m in mine],
                    [m.boot_id for m in mine],
                    [m.seq for m in mine],
                    [m.ts for m in mine],
                    [m.historical for m in mine],
                    [len(m.signals) for m in mine],
                )
                fresh = {(r["machine"], r["boot_id"], r["seq"]) for r in claimed}
                new += [m for m in mine if (m.machine, m.boot_id, m.seq) in fresh]
            for table, records in rows(new).items():
                if records:
                    await connection.copy_records_to_table(
                        table, records=records, columns=COLUMNS[table]
                    )
        # FastStream acks after this returns; counted here, the ack follows at once.
        clock.done(len(messages), len(new), sum(len(m.signals) for m in new))
        if clock.messages >= args.expect:
            finished.set()

    await broker.start()
    await finished.wait()
    # Let the last batch's acks go out before stopping.
    await broker.stop()
    sys.stdout.buffer.write(clock.report() + b"\n")
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
