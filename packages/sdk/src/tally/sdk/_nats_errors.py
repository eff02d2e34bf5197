"""What nats-py raises, sorted into the SDK's broker errors.

    BrokerFull          JetStream refused to store: the server's store, or the stream's byte or
                        message limit, is full (discard=new). Nothing was stored.
    BrokerUnavailable   the server is away, did not answer in time, or answered 503 (no stream
                        leader during an election, JetStream not ready).

The codes are nats-server's own (server/errors.json); the store-full answer of a stream with
discard=new carries the generic code 10077 ("stream store failed") and the store's error text.
"""

from __future__ import annotations

import nats.errors
import nats.js.errors

from tally.sdk._errors import BrokerFull, BrokerUnavailable

# What nats-py raises when the server is away or does not answer in time.
UNAVAILABLE = (
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    TimeoutError,  # nats-py's own TimeoutError is a subclass
    OSError,
)

_STORE_FULL_CODES = {
    10002: "resource limits exceeded for account",
    10023: "insufficient resources (the server's JetStream store is full)",
    10028: "insufficient memory resources available",
    10047: "insufficient storage resources available",
}
_STREAM_STORE_FAILED = 10077
# server/store.go: the errors of a stream with discard=new at one of its limits.
_STREAM_FULL_TEXTS = {
    "maximum bytes exceeded",
    "maximum messages exceeded",
    "maximum messages per subject exceeded",
}


def refusal(error: nats.js.errors.APIError, what: str) -> BrokerUnavailable | None:
    """The SDK error for a JetStream API error, or None when it is no broker condition (a
    bad request, say) and the caller should let the original error through."""
    code, description = error.err_code, (error.description or "").strip()
    if code in _STORE_FULL_CODES or (
        code == _STREAM_STORE_FAILED and description.lower() in _STREAM_FULL_TEXTS
    ):
        reason = _STORE_FULL_CODES.get(code or 0, description)
        return BrokerFull(f"JetStream is full and refused {what}: {reason} (error {code})")
    if error.code == 503:
        return BrokerUnavailable(f"JetStream could not take {what} now: {error}")
    return None
