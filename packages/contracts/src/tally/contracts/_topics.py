"""The streams and topics that cross service boundaries. Services name subjects only through
these constants."""

from __future__ import annotations

from tally.contracts._telemetry import Telemetry
from tally.sdk import Stream, Topic

TELEMETRY_STREAM = Stream(
    name="TELEMETRY",
    subjects=("telemetry.>",),
    # A week of buffer: consumers that are down for days catch up instead of losing data.
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
