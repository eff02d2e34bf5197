"""The gateway's own Prometheus metrics, beside the SDK's request counts and latencies."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class GatewayMetrics:
    """What went in, per tenant, and what was refused, per status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.datapoints = Counter(
            "tally_gateway_datapoints",
            "Signals of newly stored messages",
            ["tenant"],
            registry=registry,
        )
        self.messages = Counter(
            "tally_gateway_messages",
            "Messages stored by the broker (accepted) or already stored before (duplicate)",
            ["tenant", "outcome"],
            registry=registry,
        )
        self.rejected = Counter(
            "tally_gateway_rejected",
            "Uploads refused, by HTTP status",
            ["status"],
            registry=registry,
        )
