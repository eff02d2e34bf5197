"""The recorder's SQL: its ledger of the messages it has stored."""

from __future__ import annotations

from datetime import datetime

import msgspec

from tally.contracts import Telemetry
from tally.sdk import Ledger


class TelemetryEntry(msgspec.Struct, frozen=True):
    """A row of `telemetry_messages`, besides its tenant."""

    machine: str
    boot_id: str
    seq: int
    ts: datetime
    historical: bool
    signals: int


def telemetry_entry(message: Telemetry) -> TelemetryEntry:
    return TelemetryEntry(
        message.machine,
        message.boot_id,
        message.seq,
        message.ts,
        message.historical,
        len(message.signals),
    )


# One row per message identity (db/migrations/0003): a message re-sent by a machine or
# redelivered by the broker conflicts there, and its signals are not stored again.
TELEMETRY_LEDGER = Ledger(
    "telemetry_messages", TelemetryEntry, telemetry_entry, key=("machine", "boot_id", "seq")
)
