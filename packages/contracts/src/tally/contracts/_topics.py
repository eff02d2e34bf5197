"""The streams and topics that cross service boundaries. Services name subjects only through
these constants."""

from __future__ import annotations

from tally.contracts._stored import Stored
from tally.contracts._telemetry import Telemetry
from tally.sdk import Stream, Topic

TELEMETRY_STREAM = Stream(
    name="TELEMETRY",
    subjects=("telemetry.>",),
    # A message is kept until every consumer below has acknowledged it, so what the recorder
    # has stored makes room, while a consumer that is down keeps its backlog: for a week at
    # most, and within the stream's byte limit (TALLY_STREAM_MAX_BYTES; when full the gateway
    # answers 503). Every durable consumer of the stream is listed here and created with it:
    # a message published while the stream has no consumer would be dropped.
    retention="interest",
    consumers=("recorder",),
    max_age_seconds=7 * 24 * 3600.0,
    # Machines replay after outages; JetStream drops a re-sent identity within this window and
    # the recorder's identity table catches anything older.
    duplicate_window_seconds=15 * 60.0,
)


def _telemetry_identity(message: Telemetry) -> str:
    return message.identity


TELEMETRY: Topic[Telemetry] = Topic(
    pattern="telemetry.{tenant}.{machine}",
    type=Telemetry,
    stream=TELEMETRY_STREAM,
    identity=_telemetry_identity,
)


STORED_STREAM = Stream(
    name="STORED",
    subjects=("stored.>",),
    # What the recorder committed, kept until the rollup has recomputed it. A notice is small
    # and a repeated one harmless (the recomputation is idempotent), so a short duplicate
    # window only saves work.
    retention="interest",
    consumers=("rollup",),
    max_age_seconds=7 * 24 * 3600.0,
    duplicate_window_seconds=60.0,
)

STORED: Topic[Stored] = Topic(
    pattern="stored.{tenant}.{machine}",
    type=Stored,
    stream=STORED_STREAM,
)
