"""Where uploads go: the `Sender` protocol, and `MemorySender` for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tally.contracts import MachineMessage, Upload
from tally.simulator._fleet import MachineSpec


@dataclass(frozen=True, slots=True)
class SendResult:
    """The gateway's answer to one upload, and how many retries it took to get it."""

    accepted: int
    duplicates: int
    retries: int = 0


class Sender(Protocol):
    """Delivers one machine's upload. It returns only once the upload is stored (retrying as it
    sees fit) and raises `GatewayRejected` when the upload itself is wrong."""

    async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
        """Deliver `upload` for `machine` of `tenant`."""
        ...


@dataclass(frozen=True, slots=True)
class SentUpload:
    """One upload as `MemorySender` received it, with the wall-clock time it arrived."""

    tenant: str
    machine: str
    upload: Upload
    received_at: float


class MemorySender:
    """Records uploads and answers like the gateway: a message identity seen before counts as a
    duplicate."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.uploads: list[SentUpload] = []
        self._clock = clock
        self._seen: set[tuple[str, str, str, int]] = set()

    async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
        """Record the upload; count new and already-seen messages."""
        self.uploads.append(SentUpload(tenant, machine.id, upload, self._clock()))
        accepted = 0
        for message in upload.messages:
            identity = (tenant, machine.id, message.boot_id, message.seq)
            if identity not in self._seen:
                self._seen.add(identity)
                accepted += 1
        return SendResult(accepted=accepted, duplicates=len(upload.messages) - accepted)

    def messages(
        self, tenant: str | None = None, machine: str | None = None
    ) -> list[MachineMessage]:
        """Every message received, in arrival order, optionally for one tenant and machine."""
        return [
            message
            for sent in self.uploads
            if (tenant is None or sent.tenant == tenant)
            and (machine is None or sent.machine == machine)
            for message in sent.upload.messages
        ]
