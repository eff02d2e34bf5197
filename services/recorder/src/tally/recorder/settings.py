"""The recorder's settings, from TALLY_RECORDER_*."""

from __future__ import annotations

import msgspec


class RecorderSettings(msgspec.Struct, frozen=True, kw_only=True):
    # How often partitions ahead are created and expired data is dropped.
    maintenance_seconds: float = 3600.0
    partitions_ahead_days: int = 2
