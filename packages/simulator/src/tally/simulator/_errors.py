"""The simulator's errors. `SimulatorError` is the root of a shallow tree:

- `GatewayRejected`: the gateway refused an upload with a 4xx other than 429. The simulator sent
  something the contract does not allow, which is a bug in the simulator: never retried.
- `DeliveryFailed`: an upload was still not delivered after the sender's `max_attempts`.
- `UploadTooLarge`: a single message is larger than the gateway's body limit, so no way of
  cutting the upload could deliver it (a bug in the simulator's batching, or a tiny limit).
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


class UploadTooLarge(SimulatorError):
    """One message alone exceeds the gateway's body limit: it can never be delivered."""

    def __init__(self, tenant: str, machine: str, seq: int, size: int, limit: int) -> None:
        super().__init__(
            f"message seq {seq} of {tenant}/{machine} takes {size} bytes, more than the "
            f"gateway's body limit of {limit} bytes, so no upload can carry it; send fewer "
            "signals per message (TransportProfile.max_signals_per_message) or raise the "
            "gateway's TALLY_GATEWAY_MAX_BODY_BYTES"
        )
        self.seq = seq
        self.size = size
        self.limit = limit
