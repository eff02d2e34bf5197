"""What a peer is told (its arguments) and what it says back (one JSON line)."""

from __future__ import annotations

import argparse
import time

import msgspec

STREAM = "TELEMETRY"
SUBJECTS = "telemetry.>"
# The ledger statement both peers run, once per tenant of a batch: one row per identity, the
# new ones returned (tally_ingest may read back only machine, boot_id and seq).
CLAIM = """
INSERT INTO telemetry_messages (tenant, machine, boot_id, seq, ts, historical, signals)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[],
                         $6::boolean[], $7::integer[])
ON CONFLICT DO NOTHING
RETURNING machine, boot_id, seq
"""
COLUMNS = {
    "counter_samples": ("tenant", "machine", "name", "ts", "value", "boot_id", "seq"),
    "gauge_samples": ("tenant", "machine", "name", "ts", "value", "unit"),
    "state_changes": ("tenant", "machine", "ts", "name", "model", "mode", "sub_state", "code"),
    "weighings": (
        "tenant",
        "machine",
        "ts",
        "article",
        "net_g",
        "accepted",
        "zone",
        "reject_reason",
    ),
    "alarms": ("tenant", "machine", "ts", "code", "raised", "category", "first_out", "text"),
    "context_events": (
        "tenant",
        "machine",
        "ts",
        "event",
        "article",
        "batch",
        "order_id",
        "shift",
    ),
}


class PeerReport(msgspec.Struct, frozen=True):
    messages: int
    stored: int
    datapoints: int
    # From the first batch received to the last one acknowledged.
    seconds: float
    # This process's CPU time over the same stretch (its RSS is sampled by the benchmark).
    cpu_seconds: float


def peer_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--database", required=True, help="the tally_ingest login")
    parser.add_argument("--durable", required=True)
    parser.add_argument("--expect", type=int, required=True, help="messages to handle")
    parser.add_argument("--batch", type=int, default=500)
    return parser.parse_args()


class Clock:
    """Wall and CPU time from the first batch to the last, and the count of what was done."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.cpu_started = 0.0
        self.ended = 0.0
        self.cpu_ended = 0.0
        self.messages = 0
        self.stored = 0
        self.datapoints = 0

    def first(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()
            self.cpu_started = time.process_time()

    def done(self, messages: int, stored: int, datapoints: int) -> None:
        self.messages += messages
        self.stored += stored
        self.datapoints += datapoints
        self.ended = time.perf_counter()
        self.cpu_ended = time.process_time()

    def report(self) -> bytes:
        return msgspec.json.encode(
            PeerReport(
                messages=self.messages,
                stored=self.stored,
                datapoints=self.datapoints,
                seconds=self.ended - (self.started or self.ended),
                cpu_seconds=self.cpu_ended - self.cpu_started,
            )
        )
