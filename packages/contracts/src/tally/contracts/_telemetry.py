"""What a machine says, on the wire to the gateway and inside the broker.

A machine uploads `MachineMessage`s; it never names its tenant or itself — the gateway takes both
from the machine's token and builds the `Telemetry` that crosses the broker. So a machine cannot
publish under another tenant or machine, whatever its body says.

`(tenant, machine, boot_id, seq)` identifies a message; a duplicate must change nothing.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from tally.contracts._signals import Signal, Timestamp

# Tenant and machine ids become subject tokens, so their alphabet is the subject's alphabet.
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
BootId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
MAX_SIGNALS = 2000
Signals = Annotated[list[Signal], msgspec.Meta(min_length=1, max_length=MAX_SIGNALS)]


class MachineMessage(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """One message as a machine sends it: identity within the machine, time, signals."""

    boot_id: BootId
    seq: Seq
    ts: Timestamp
    signals: Signals
    # Set when a machine replays what it buffered during an outage: the figures of the time it
    # describes change, "now" does not.
    historical: bool = False


class Upload(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """The body of one ingest request: one or more messages of the authenticated machine."""

    messages: Annotated[list[MachineMessage], msgspec.Meta(min_length=1, max_length=500)]


class Telemetry(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """A machine message as it crosses the broker, with the tenant and machine the gateway
    authenticated."""

    tenant: Id
    machine: Id
    boot_id: BootId
    seq: Seq
    ts: Timestamp
    signals: Signals
    historical: bool = False

    @property
    def identity(self) -> str:
        """The message identity, also the broker's de-duplication id."""
        return f"{self.tenant}.{self.machine}.{self.boot_id}.{self.seq}"

    @classmethod
    def of(cls, tenant: str, machine: str, message: MachineMessage) -> Telemetry:
        """`message` as it crosses the broker, under the tenant and machine it came from."""
        return cls(
            tenant=tenant,
            machine=machine,
            boot_id=message.boot_id,
            seq=message.seq,
            ts=message.ts,
            signals=message.signals,
            historical=message.historical,
        )


class UploadResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The gateway's answer once every message of an upload is stored by the broker."""

    accepted: int
    duplicates: int
