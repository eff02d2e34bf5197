"""The simulator's errors. `SimulatorError` is the root of a shallow tree:

- `GatewayRejected`: the gateway refused an upload with a 4xx other than 429. The simulator sent
  something the contract does not allow, which is a bug in the simulator: never retried.
- `DeliveryFailed`: an upload was still not delivered after the sender's `max_attempts`.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Root of the simulator's errors."""


class GatewayRejected(SimulatorError):
    """The gateway answered 4xx (not 429) to an upload; `body` says why."""

    def __init__(self, tenant: str, machine: str, status: int, body: str) -> None:
        super().__init__(
            f"gateway rejected an upload of {tenant}/{machine} with HTTP {status}: {body[:2000]}"
            " — the simulator produced an invalid upload; fix the simulator, not the gateway"
        )
        self.status = status
        self.body = body


class DeliveryFailed(SimulatorError):
    """An upload could not be delivered within the sender's attempts."""
