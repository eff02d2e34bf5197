"""Turning a batch of telemetry into rows for each raw table.

Pure functions: no I/O, so the shape of what is stored is tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from tally.contracts import (
    Alarm,
    Context,
    Counter,
    Gauge,
    State,
    Stored,
    StoredRange,
    Telemetry,
    Weighing,
)
from tally.sdk import Copy, copy_into, utc_days


class CounterSample(NamedTuple):
    tenant: str
    machine: str
    name: str
    ts: datetime
    value: int
    boot_id: str
    seq: int


class GaugeSample(NamedTuple):
    tenant: str
    machine: str
    name: str
    ts: datetime
    value: float
    unit: str | None


class StateChange(NamedTuple):
    tenant: str
    machine: str
    ts: datetime
    name: str
    model: str
    mode: str
    sub_state: str | None
    code: int | None


class WeighingRow(NamedTuple):
    tenant: str
    machine: str
    ts: datetime
    article: str
    net_g: float
    accepted: bool
    zone: int
    reject_reason: str | None


class AlarmRow(NamedTuple):
    tenant: str
    machine: str
    ts: datetime
    code: str
    raised: bool
    category: str
    first_out: bool
    text: str | None


class ContextEvent(NamedTuple):
    tenant: str
    machine: str
    ts: datetime
    event: str
    article: str | None
    batch: str | None
    order_id: str | None
    shift: str | None


# The raw tables, each with the row type whose fields are the columns COPY fills, in order:
# `tally check` verifies them against the migrated schema.
COUNTER_SAMPLES = copy_into("counter_samples", CounterSample)
GAUGE_SAMPLES = copy_into("gauge_samples", GaugeSample)
STATE_CHANGES = copy_into("state_changes", StateChange)
WEIGHINGS = copy_into("weighings", WeighingRow)
ALARMS = copy_into("alarms", AlarmRow)
CONTEXT_EVENTS = copy_into("context_events", ContextEvent)
RAW_TABLES: tuple[Copy[Any], ...] = (
    COUNTER_SAMPLES,
    GAUGE_SAMPLES,
    STATE_CHANGES,
    WEIGHINGS,
    ALARMS,
    CONTEXT_EVENTS,
)


@dataclass
class TableRows:
    """Rows per raw table for one tenant's new messages, ready for COPY."""

    counter_samples: list[CounterSample] = field(default_factory=list)
    gauge_samples: list[GaugeSample] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)
    weighings: list[WeighingRow] = field(default_factory=list)
    alarms: list[AlarmRow] = field(default_factory=list)
    context_events: list[ContextEvent] = field(default_factory=list)

    def copies(self) -> list[tuple[Copy[Any], list[Any]]]:
        """Each table's COPY with its rows, for the tables that have any."""
        found = [(copy, getattr(self, copy.table)) for copy in RAW_TABLES]
        return [(copy, rows) for copy, rows in found if rows]

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in vars(self).values())


def table_rows(messages: Sequence[Telemetry]) -> TableRows:
    """Every signal of the messages as a row of its table; a signal without its own time takes
    the message's."""
    out = TableRows()
    for m in messages:
        tenant, machine = m.tenant, m.machine
        for s in m.signals:
            ts = s.ts or m.ts
            match s:
                case Counter():
                    out.counter_samples.append(
                        CounterSample(tenant, machine, s.name, ts, s.value, m.boot_id, m.seq)
                    )
                case Gauge():
                    out.gauge_samples.append(
                        GaugeSample(tenant, machine, s.name, ts, s.value, s.unit)
                    )
                case Weighing():
                    out.weighings.append(
                        WeighingRow(
                            tenant,
                            machine,
                            ts,
                            s.article,
                            s.net_g,
                            s.accepted,
                            s.zone,
                            None if s.reject_reason is None else s.reject_reason.value,
                        )
                    )
                case State():
                    out.state_changes.append(
                        StateChange(
                            tenant,
                            machine,
                            ts,
                            s.name,
                            s.model.value,
                            s.mode.value,
                            s.sub_state,
                            s.code,
                        )
                    )
                case Alarm():
                    out.alarms.append(
                        AlarmRow(
                            tenant,
                            machine,
                            ts,
                            s.code,
                            s.raised,
                            s.category.value,
                            s.first_out,
                            s.text,
                        )
                    )
                case Context():
                    out.context_events.append(
                        ContextEvent(
                            tenant,
                            machine,
                            ts,
                            s.event.value,
                            s.article,
                            s.batch,
                            s.order,
                            s.shift,
                        )
                    )
    return out


def days_touched(messages: Sequence[Telemetry]) -> set[date]:
    """UTC days of every message and signal time: the partitions the batch needs."""
    times = [m.ts for m in messages]
    times += [s.ts for m in messages for s in m.signals if s.ts is not None]
    return utc_days(times)


_KINDS: dict[type, str] = {
    Counter: "counter",
    Gauge: "gauge",
    State: "state",
    Weighing: "weighing",
    Alarm: "alarm",
    Context: "context",
}


def stored_notices(messages: Sequence[Telemetry]) -> list[Stored]:
    """Per tenant and machine, the device-time range of each signal kind and of the messages'
    own stamps (which decide data gaps): what the rollup must recompute."""
    spans: dict[tuple[str, str], dict[str, list[datetime]]] = {}
    historical: dict[tuple[str, str], bool] = {}
    for message in messages:
        key = (message.tenant, message.machine)
        kinds = spans.setdefault(key, {})
        historical[key] = historical.get(key, True) and message.historical
        _widen(kinds, "message", message.ts)
        for signal in message.signals:
            _widen(kinds, _KINDS[type(signal)], signal.ts or message.ts)
    return [
        Stored(
            tenant=tenant,
            machine=machine,
            ranges=[
                StoredRange(kind=kind, first=first, last=last)
                for kind, (first, last) in sorted(kinds.items())
            ],
            historical=historical[(tenant, machine)],
        )
        for (tenant, machine), kinds in sorted(spans.items())
    ]


def _widen(kinds: dict[str, list[datetime]], kind: str, ts: datetime) -> None:
    span = kinds.get(kind)
    if span is None:
        kinds[kind] = [ts, ts]
    elif ts < span[0]:
        span[0] = ts
    elif ts > span[1]:
        span[1] = ts
