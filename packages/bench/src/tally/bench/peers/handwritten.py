"""The recorder's job as a careful user would write it with nats-py, msgspec and asyncpg.

    python -m tally.bench.peers.handwritten --nats URL --database URL --durable NAME --expect N

Two fetch-decode-store loops share one pull consumer (as the recorder keeps two batches in
flight); each batch: decode every message with msgspec into the wire contract (which validates
it), claim the identities in the ledger, COPY the new messages' rows, commit, then ack.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import msgspec
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import FetchTimeoutError

from tally.bench.peers.protocol import (
    CLAIM,
    COLUMNS,
    STREAM,
    SUBJECTS,
    Clock,
    peer_arguments,
)
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

CONCURRENCY = 2
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Time = Annotated[datetime, msgspec.Meta(tz=True)]
Text = Annotated[str, msgspec.Meta(max_length=256)]


class _Signal(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind"
):
    ts: Time | None = None


class Counter(_Signal, frozen=True, tag="counter"):
    name: Name
    value: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class Gauge(_Signal, frozen=True, tag="gauge"):
    name: Name
    value: Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
    unit: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class State(_Signal, frozen=True, tag="state"):
    name: Name
    model: StateMachine
    mode: Mode = "production"
    sub_state: Name | None = None
    code: Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)] | None = None


class Weighing(_Signal, frozen=True, tag="weighing"):
    article: Name
    net_g: Annotated[float, msgspec.Meta(gt=0, le=100_000)]
    accepted: bool
    zone: Annotated[int, msgspec.Meta(ge=0, le=9)] = 0
    reject_reason: RejectReason | None = None


class Alarm(_Signal, frozen=True, tag="alarm"):
    code: Name
    raised: bool
    category: AlarmCategory
    first_out: bool = False
    text: Text | None = None


class Context(_Signal, frozen=True, tag="context"):
    event: ContextEvent
    article: Name | None = None
    batch: Name | None = None
    order: Name | None = None
    shift: Name | None = None


class Telemetry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
    machine: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=ID_PATTERN)]
    boot_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=BOOT_PATTERN)]
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
    ts: Time
    signals: Annotated[
        list[Counter | Gauge | State | Weighing | Alarm | Context],
        msgspec.Meta(min_length=1, max_length=2000),
    ]
    historical: bool = False


def rows(messages: list[Telemetry]) -> dict[str, list[tuple[Any, ...]]]:
    """Each signal as a row of its table."""
    out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    for m in messages:
        t, mc = m.tenant, m.machine
        for s in m.signals:
            ts = s.ts or m.ts
            if isinstance(s, Counter):
                out["counter_samples"].append((t, mc, s.name, ts, s.value, m.boot_id, m.seq))
            elif isinstance(s, Gauge):
                out["gauge_samples"].append((t, mc, s.name, ts, s.value, s.unit))
            elif isinstance(s, Weighing):
                reason = None if s.reject_reason is None else s.reject_reason
                out["weighings"].append((t, mc, ts, s.article, s.net_g, s.accepted, s.zone, reason))
            elif isinstance(s, State):
                out["state_changes"].append(
                    (t, mc, ts, s.name, s.model, s.mode, s.sub_state, s.code)
                )
            elif isinstance(s, Alarm):
                out["alarms"].append((t, mc, ts, s.code, s.raised, s.category, s.first_out, s.text))
            elif isinstance(s, Context):
                out["context_events"].append(
                    (t, mc, ts, s.event, s.article, s.batch, s.order, s.shift)
                )
    return out


async def store(pool: asyncpg.Pool[asyncpg.Record], messages: list[Telemetry]) -> list[Telemetry]:
    """One transaction: claim identities, COPY the new ones' rows; the new messages."""
    async with pool.acquire() as connection, connection.transaction():
        tenants: dict[str, list[Telemetry]] = {}
        for m in messages:
            tenants.setdefault(m.tenant, []).append(m)
        new: list[Telemetry] = []
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
    return new


async def main() -> None:
    args = peer_arguments(__doc__ or "")
    client = await nats.connect(args.nats)
    pool = await asyncpg.create_pool(args.database, min_size=CONCURRENCY, max_size=CONCURRENCY)
    js = client.jetstream()
    subscription = await js.pull_subscribe(
        SUBJECTS,
        durable=args.durable,
        stream=STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=60,
            max_ack_pending=CONCURRENCY * args.batch * 2,
        ),
    )
    decode = msgspec.json.Decoder(Telemetry).decode
    clock = Clock()
    finished = asyncio.Event()
    lock = asyncio.Lock()

    async def loop() -> None:
        while not finished.is_set():
            try:
                # One fetch at a time on the shared subscription; work overlaps with the other
                # loop's database round trips.
                async with lock:
                    batch = await subscription.fetch(args.batch, timeout=0.25)
            except (FetchTimeoutError, TimeoutError):
                continue
            clock.first()
            messages = [decode(msg.data) for msg in batch]
            new = await store(pool, messages)
            for msg in batch:
                await msg.ack()
            clock.done(len(batch), len(new), sum(len(m.signals) for m in new))
            if clock.messages >= args.expect:
                finished.set()

    await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
    await client.flush()
    sys.stdout.buffer.write(clock.report() + b"\n")
    await pool.close()
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
