"""The recorder's SQL."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from tally.sdk import command, query


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


class Created(msgspec.Struct, frozen=True):
    created: int


@query(Created, "SELECT tally_ensure_partitions($1, $2) AS created")
def ensure_partitions(first: date, last: date) -> None: ...


@query(Created, "SELECT tally_expire_datapoints($1) AS created")
def expire_datapoints(today: date) -> None: ...


@command("SELECT set_config('tally.tenant', $1, true)")
def scope_to_tenant(tenant: str) -> None: ...
