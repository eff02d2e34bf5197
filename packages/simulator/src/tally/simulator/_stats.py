"""What one run sent, per tenant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TenantStats:
    """Counts for one tenant. `messages_sent` includes deliberate duplicates
    (`duplicates_sent`); `accepted`/`duplicates` are what the gateway reported; `unsent` is what
    was generated but never confirmed by the gateway when the run ended."""

    uploads: int = 0
    messages_sent: int = 0
    datapoints_sent: int = 0
    duplicates_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    retries: int = 0
    unsent: int = 0
