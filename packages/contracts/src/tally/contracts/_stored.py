"""What the recorder has committed: one machine's stored time range per signal kind.

Published by the recorder after each commit (and again for a redelivered batch, whose signals
are already stored: a repeated notice only repeats an idempotent recomputation, while a notice
lost to a crash between commit and publish would leave buckets stale for good). The rollup
recomputes the buckets these ranges touch from the raw rows, which stay the source of truth.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from tally.contracts._signals import Timestamp
from tally.contracts._telemetry import Id

Kind = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,32}$")]


class StoredRange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[first, last] of device time of one signal kind (or "message", the messages' own
    stamps, which decide data gaps) among what was stored."""

    kind: Kind
    first: Timestamp
    last: Timestamp


class Stored(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """One tenant's machine: the device-time ranges a commit (or a redelivery) covered."""

    tenant: Id
    machine: Id
    ranges: Annotated[list[StoredRange], msgspec.Meta(min_length=1, max_length=16)]
    # Every message of the range was replayed after an outage: figures of the past change.
    historical: bool = False

    @property
    def first(self) -> float:
        """The earliest instant of any range, epoch seconds."""
        return min(r.first.timestamp() for r in self.ranges)

    @property
    def last(self) -> float:
        """The latest instant of any range, epoch seconds."""
        return max(r.last.timestamp() for r in self.ranges)
