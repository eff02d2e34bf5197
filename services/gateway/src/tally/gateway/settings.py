"""The gateway's settings, read once at start-up from TALLY_GATEWAY_*."""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[float, msgspec.Meta(gt=0)]


class GatewaySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Limits of the ingest endpoint; every one has a default that suits the demo."""

    # A full upload (500 messages) of typical size stays well below this; 413 above it.
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0)] = 1024 * 1024
    # Device clocks drift; beyond this ahead of the gateway's clock a timestamp is a wrong clock.
    max_future_seconds: Positive = 300.0
    # Replays after an outage are welcome for as long as the stream and the rollups can place
    # them (the stream keeps a week; the recorder's partitions a little over a month).
    max_age_days: Positive = 35.0
    # This process's share of each tenant's rate: with `--workers N` set it to 1/N, since every
    # worker process keeps its own token buckets.
    rate_share: Annotated[float, msgspec.Meta(gt=0, le=1)] = 1.0
    # Seconds of a tenant's rate it may send at once.
    burst_seconds: Positive = 2.0
    # Token lookups are cached: a valid token this long, an unknown one this long (short, so a
    # newly issued token works soon; nonzero, so a flood of bad tokens cannot hammer PostgreSQL).
    # Revocations are announced by the database and apply at once; the TTL bounds a revoked
    # token's life only while the gateway cannot listen for them (see auth.py).
    token_ttl_seconds: Positive = 30.0
    unknown_token_ttl_seconds: Positive = 5.0
    token_cache_size: Annotated[int, msgspec.Meta(gt=0)] = 10_000
    # While the database cannot answer, a token it confirmed this recently is still accepted
    # (availability over freshness: a token revoked meanwhile works until the database answers
    # again, or this long); other tokens get 503. 0 turns stale answers off.
    token_max_stale_seconds: Annotated[float, msgspec.Meta(ge=0)] = 900.0
    # A lookup slower than this counts as the database being away.
    token_lookup_timeout_seconds: Positive = 5.0
