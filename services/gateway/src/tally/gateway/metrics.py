"""The gateway's own Prometheus metrics, beside the SDK's request counts and latencies."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter


@dataclass(slots=True)
class TenantCounters:
    """One tenant's counters, looked up once: `labels()` takes a lock on every call, which the
    hot path would pay three times per upload."""

    tenant: str
    accepted: Counter
    datapoints: Counter
    # Made with the tenant's first duplicate: the series shows only once there was one.
    _duplicates: Counter | None = None

    def duplicates(self, metrics: GatewayMetrics) -> Counter:
        if self._duplicates is None:
            self._duplicates = metrics.messages.labels(self.tenant, "duplicate")
        return self._duplicates


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
        # One entry per tenant with a valid token, so this stays small.
        self._tenants: dict[str, TenantCounters] = {}

    def of(self, tenant: str) -> TenantCounters:
        """The tenant's counters, created on first use."""
        counters = self._tenants.get(tenant)
        if counters is None:
            counters = self._tenants[tenant] = TenantCounters(
                tenant,
                accepted=self.messages.labels(tenant, "accepted"),
                datapoints=self.datapoints.labels(tenant),
            )
        return counters
