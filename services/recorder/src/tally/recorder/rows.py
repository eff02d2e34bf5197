"""Turning a batch of telemetry into rows for each raw table.

Pure functions: no I/O, so the shape of what is stored is tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tally.contracts import Alarm, Context, Counter, Gauge, State, Telemetry, Weighing
from tally.sdk import utc_days

Row = tuple[object, ...]


@dataclass
class TableRows:
    """Rows per raw table for one tenant's new messages, ready for COPY."""

    counter_samples: list[Row] = field(default_factory=list)
    gauge_samples: list[Row] = field(default_factory=list)
    state_changes: list[Row] = field(default_factory=list)
    weighings: list[Row] = field(default_factory=list)
    alarms: list[Row] = field(default_factory=list)
    context_events: list[Row] = field(default_factory=list)

    def tables(self) -> list[tuple[str, list[Row]]]:
        return [(name, rows) for name, rows in vars(self).items() if rows]

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in vars(self).values())


COLUMNS: dict[str, tuple[str, ...]] = {
    "counter_samples": ("tenant", "machine", "name", "ts", "value", "boot_id", "seq"),
    "gauge_samples": ("tenant", "machine", "name", "ts", "value", "unit"),
    "state_changes": ("tenant", "machine", "ts", "name", "model", "mode", "sub_state", "code"),
    "weighings": (
        "tenant",
        "machine",
        "ts",
        "article",
        "net_g",
        "accepted",
        "zone",
        "reject_reason",
    ),
    "alarms": ("tenant", "machine", "ts", "code", "raised", "category", "first_out", "text"),
    "context_events": (
        "tenant",
        "machine",
        "ts",
        "event",
        "article",
        "batch",
        "order_id",
        "shift",
    ),
}


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
                        (tenant, machine, s.name, ts, s.value, m.boot_id, m.seq)
                    )
                case Gauge():
                    out.gauge_samples.append((tenant, machine, s.name, ts, s.value, s.unit))
                case Weighing():
                    out.weighings.append(
                        (
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
                        (
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
                        (
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
                        (
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
