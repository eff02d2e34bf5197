"""Prometheus metrics every service exposes on /metrics.

Each service gets its own registry so several services can live in one test process. With
`--workers N` the processes share a PROMETHEUS_MULTIPROC_DIR and /metrics adds them up.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    """The SDK's own metrics; services add theirs to `registry`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.handled = Counter(
            "tally_messages_handled",
            "Messages acknowledged after their handler returned",
            ["consumer", "tenant"],
            registry=r,
        )
        self.retried = Counter(
            "tally_messages_retried",
            "Messages handed back for redelivery after a failure",
            ["consumer", "tenant"],
            registry=r,
        )
        self.dead_lettered = Counter(
            "tally_messages_dead_lettered",
            "Messages moved to the dead-letter stream",
            ["consumer", "tenant"],
            registry=r,
        )
        self.batch_size = Histogram(
            "tally_batch_size",
            "Messages per batch handed to a handler",
            ["consumer"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.handler_seconds = Histogram(
            "tally_handler_seconds",
            "Time a handler took for one batch",
            ["consumer"],
            buckets=_SECONDS_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "tally_consumer_lag",
            "Messages the durable consumer has not yet acknowledged",
            ["consumer"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.schedule_runs = Counter(
            "tally_schedule_runs",
            "Runs of scheduled jobs: done, failed (tried again), lost (another process had it)",
            ["schedule", "outcome"],
            registry=r,
        )
        self.schedule_checks = Counter(
            "tally_schedule_checks",
            "Times a schedule looked for due slots and ran them",
            ["schedule"],
            registry=r,
        )
        self.http_requests = Counter(
            "tally_http_requests",
            "HTTP requests answered",
            ["route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "tally_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=_SECONDS_BUCKETS,
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text format for /metrics, summed over worker processes when there are several."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            combined = CollectorRegistry()
            MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)
