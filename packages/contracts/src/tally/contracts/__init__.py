"""tally.contracts: every message and topic that crosses a service boundary.

Evolution rules: a new field gets a default; a field's type never changes; removing or renaming
a field needs a new topic version, which runs beside the old one.
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
from tally.contracts._telemetry import MachineMessage, Telemetry, Upload, UploadResult
from tally.contracts._topics import TELEMETRY, TELEMETRY_STREAM

__all__ = [
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
    "Telemetry",
    "Upload",
    "UploadResult",
    "Weighing",
]
