"""The contracts' front door, pinned: a change here is a change of the wire."""

from __future__ import annotations

import tally.contracts


def test_the_contracts_export_exactly_their_public_names() -> None:
    assert tally.contracts.__all__ == [
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
