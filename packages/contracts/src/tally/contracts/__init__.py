"""tally.contracts: every message and topic that crosses a service boundary.

Every reader is strict: an unknown field is refused, never dropped. At the gateway a misspelt
field (`historicl`) is a 422 naming it instead of a silent default; on the broker a field the
recorder does not know yet is dead-lettered (and replayed once it does) instead of being lost
for good behind a ledger entry that says "stored". Free text holds only what PostgreSQL can
store (no NUL, no lone surrogate), so what the gateway accepts, the recorder can write.

Evolution rules: a new field gets a default, and its readers are deployed before its writers
(the recorder before the gateway, the gateway before machines send it), like a new enum value;
a field's type never changes; removing or renaming a field needs a new topic version, which runs
beside the old one. `tally check` applies these rules against contracts.lock.json.
"""

from tally.contracts._signals import (
    Alarm,
    AlarmCategory,
    Context,
    ContextEvent,
    Counter,
    Gauge,
    Mode,
    RejectReason,
    Signal,
    State,
    StateModel,
    Weighing,
)
from tally.contracts._stored import Stored, StoredRange
from tally.contracts._telemetry import MachineMessage, Telemetry, Upload, UploadResult
from tally.contracts._topics import STORED, STORED_STREAM, TELEMETRY, TELEMETRY_STREAM

__all__ = [
    "STORED",
    "STORED_STREAM",
    "TELEMETRY",
    "TELEMETRY_STREAM",
    "Alarm",
    "AlarmCategory",
    "Context",
    "ContextEvent",
    "Counter",
    "Gauge",
    "MachineMessage",
    "Mode",
    "RejectReason",
    "Signal",
    "State",
    "StateModel",
    "Stored",
    "StoredRange",
    "Telemetry",
    "Upload",
    "UploadResult",
    "Weighing",
]
