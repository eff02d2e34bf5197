"""The recorder's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec

from tally.contracts import Telemetry
from tally.sdk import Bound, query


class NewMessage(msgspec.Struct, frozen=True):
    machine: str
    boot_id: str
    seq: int


# The ledger insert reports which identities are new; everything else in the batch is a
# duplicate (redelivered, or re-sent by a machine) and adds nothing.
@query(
    NewMessage,
    """
    INSERT INTO telemetry_messages (tenant, machine, boot_id, seq, ts, historical, signals)
    SELECT $1, m.machine, m.boot_id, m.seq, m.ts, m.historical, m.signals
    FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::boolean[],
                $7::integer[]) AS m(machine, boot_id, seq, ts, historical, signals)
    ON CONFLICT DO NOTHING
    RETURNING machine, boot_id, seq
    """,
)
def record_messages(
    tenant: str,
    machines: list[str],
    boot_ids: list[str],
    seqs: list[int],
    times: list[datetime],
    historical: list[bool],
    signals: list[int],
) -> None: ...


def ledger_entries(tenant: str, messages: Sequence[Telemetry]) -> Bound[NewMessage]:
    """`record_messages` for one tenant's messages."""
    return record_messages(
        tenant,
        [m.machine for m in messages],
        [m.boot_id for m in messages],
        [m.seq for m in messages],
        [m.ts for m in messages],
        [m.historical for m in messages],
        [len(m.signals) for m in messages],
    )


class Partitions(msgspec.Struct, frozen=True):
    partitions: int


@query(Partitions, "SELECT tally_ensure_partitions($1, $2) AS partitions")
def ensure_partitions(first: date, last: date) -> None: ...


@query(Partitions, "SELECT tally_expire_datapoints($1) AS partitions")
def expire_datapoints(today: date) -> None: ...
