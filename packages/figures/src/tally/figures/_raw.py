"""The raw rows one machine's recomputation reads: bounded by time, one machine at a time, each
query served by its table's (tenant, machine, ..., ts) btree and the day partitions it names.

Times are read as epoch seconds (float8): the pass works in epoch seconds like tally.calendar.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from tally.sdk import query


class StateRow(msgspec.Struct, frozen=True):
    t: float
    name: str
    model: str
    mode: str
    sub_state: str | None


# The state carried in from before `start` (looked for within a day before it), then every
# state change in [start, end).
@query(
    StateRow,
    """
    (SELECT extract(epoch FROM ts)::float8 AS t, name, model, mode, sub_state
     FROM state_changes
     WHERE tenant = $1 AND machine = $2 AND ts < $3 AND ts >= $3 - interval '1 day'
     ORDER BY ts DESC LIMIT 1)
    UNION ALL
    (SELECT extract(epoch FROM ts)::float8, name, model, mode, sub_state
     FROM state_changes
     WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts < $4)
    ORDER BY 1
    """,
)
def states_between(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class InstantRow(msgspec.Struct, frozen=True):
    t: float


# Message stamps in [start, end), with the last one before and the first one after (within a
# day), so that a gap reaching over either bound is seen whole.
@query(
    InstantRow,
    """
    (SELECT extract(epoch FROM ts)::float8 AS t FROM telemetry_messages
     WHERE tenant = $1 AND machine = $2 AND ts < $3 AND ts >= $3 - interval '1 day'
     ORDER BY ts DESC LIMIT 1)
    UNION
    (SELECT extract(epoch FROM ts)::float8 FROM telemetry_messages
     WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts < $4)
    UNION
    (SELECT extract(epoch FROM ts)::float8 FROM telemetry_messages
     WHERE tenant = $1 AND machine = $2 AND ts >= $4 AND ts < $4 + interval '1 day'
     ORDER BY ts LIMIT 1)
    ORDER BY 1
    """,
)
def message_times(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class CounterRow(msgspec.Struct, frozen=True):
    t: float
    value: int
    boot_id: str
    seq: int


# One counter's samples in [start, end), with the one before and the one after (within a day):
# an increase reaching over a bound is split in proportion to time. Samples of equal time are
# ordered by message (boot, then sequence).
@query(
    CounterRow,
    """
    (SELECT extract(epoch FROM ts)::float8 AS t, value, boot_id, seq FROM counter_samples
     WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts < $4
       AND ts >= $4 - interval '1 day'
     ORDER BY ts DESC, boot_id DESC, seq DESC LIMIT 1)
    UNION ALL
    (SELECT extract(epoch FROM ts)::float8, value, boot_id, seq FROM counter_samples
     WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts >= $4 AND ts < $5)
    UNION ALL
    (SELECT extract(epoch FROM ts)::float8, value, boot_id, seq FROM counter_samples
     WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts >= $5
       AND ts < $5 + interval '1 day'
     ORDER BY ts, boot_id, seq LIMIT 1)
    ORDER BY 1, 3, 4
    """,
)
def counter_samples(
    tenant: str, machine: str, name: str, start: datetime, end: datetime
) -> None: ...


class AlarmRow(msgspec.Struct, frozen=True):
    t: float
    code: str
    text: str | None


@query(
    AlarmRow,
    """
    SELECT extract(epoch FROM ts)::float8 AS t, code, text FROM alarms
    WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts < $4 AND raised AND first_out
    ORDER BY ts
    """,
)
def first_out_alarms(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class ArticleRow(msgspec.Struct, frozen=True):
    t: float
    article: str


# The article in effect at `start` (looked for within a week) and every change in [start, end).
@query(
    ArticleRow,
    """
    (SELECT extract(epoch FROM ts)::float8 AS t, article FROM context_events
     WHERE tenant = $1 AND machine = $2 AND event = 'article_change' AND article IS NOT NULL
       AND ts < $3 AND ts >= $3 - interval '7 days'
     ORDER BY ts DESC LIMIT 1)
    UNION ALL
    (SELECT extract(epoch FROM ts)::float8, article FROM context_events
     WHERE tenant = $1 AND machine = $2 AND event = 'article_change' AND article IS NOT NULL
       AND ts >= $3 AND ts < $4)
    ORDER BY 1
    """,
)
def article_changes(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class InstantPairRow(msgspec.Struct, frozen=True):
    before: float | None
    after: float | None


# The machine's last message at or before `t` and its first at or after it (within a day).
@query(
    InstantPairRow,
    """
    SELECT
        (SELECT extract(epoch FROM max(ts))::float8 FROM telemetry_messages
         WHERE tenant = $1 AND machine = $2 AND ts <= $3 AND ts >= $3 - interval '1 day')
            AS before,
        (SELECT extract(epoch FROM min(ts))::float8 FROM telemetry_messages
         WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts < $3 + interval '1 day')
            AS after
    """,
)
def messages_around(tenant: str, machine: str, t: datetime) -> None: ...


# The machine's first and last message in [start, end].
@query(
    InstantPairRow,
    """
    SELECT extract(epoch FROM min(ts))::float8 AS before,
           extract(epoch FROM max(ts))::float8 AS after
    FROM telemetry_messages WHERE tenant = $1 AND machine = $2 AND ts >= $3 AND ts <= $4
    """,
)
def messages_within(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


# A counter's last sample strictly before `start` and first strictly after `end` (within a
# day): the increases reaching over the touched range's bounds.
@query(
    InstantPairRow,
    """
    SELECT
        (SELECT extract(epoch FROM max(ts))::float8 FROM counter_samples
         WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts < $4
           AND ts >= $4 - interval '1 day') AS before,
        (SELECT extract(epoch FROM min(ts))::float8 FROM counter_samples
         WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts > $5
           AND ts < $5 + interval '1 day') AS after
    """,
)
def counter_around(
    tenant: str, machine: str, name: str, start: datetime, end: datetime
) -> None: ...


# The state changes at or before `t` (newest first, within a day).
@query(
    StateRow,
    """
    SELECT extract(epoch FROM ts)::float8 AS t, name, model, mode, sub_state
    FROM state_changes
    WHERE tenant = $1 AND machine = $2 AND ts <= $3 AND ts >= $3 - interval '1 day'
    ORDER BY ts DESC LIMIT 500
    """,
)
def states_until(tenant: str, machine: str, t: datetime) -> None: ...


# The state changes after `t` (oldest first, within a day).
@query(
    StateRow,
    """
    SELECT extract(epoch FROM ts)::float8 AS t, name, model, mode, sub_state
    FROM state_changes
    WHERE tenant = $1 AND machine = $2 AND ts > $3 AND ts < $3 + interval '1 day'
    ORDER BY ts LIMIT 500
    """,
)
def states_after(tenant: str, machine: str, t: datetime) -> None: ...


class ReachRow(msgspec.Struct, frozen=True):
    t: float | None


# How far forward a state stored at or before `end` reaches: it holds until the next state
# change; without one (the live tail), as far as the machine's messages go (within a day).
@query(
    ReachRow,
    """
    SELECT coalesce(
        (SELECT extract(epoch FROM min(ts))::float8 FROM state_changes
         WHERE tenant = $1 AND machine = $2 AND ts > $3 AND ts < $3 + interval '1 day'),
        (SELECT extract(epoch FROM max(ts))::float8 FROM telemetry_messages
         WHERE tenant = $1 AND machine = $2 AND ts > $3 AND ts < $3 + interval '1 day')
    ) AS t
    """,
)
def reach_after(tenant: str, machine: str, end: datetime) -> None: ...
