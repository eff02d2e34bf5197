"""The schema of the ground-truth file (`write_truth` / `read_truth`).

One row per machine and production day. `counters` holds the true increase of every counter the
machine sends (what a reset/rollover-aware `increase()` over its stream must give);
`packs_total`/`packs_good` are the packs the machine handled (on the checkweigher: weighed and
accepted; elsewhere both equal the packs it made); `kg` sums the net weight of every weighing,
`giveaway_g` sums net − Qn over accepted fixed-weight packs. `messages`/`datapoints` count
distinct messages generated (deliberate duplicates are in `duplicates_sent`, not in them).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class ArticleDayTruth(msgspec.Struct, frozen=True, kw_only=True):
    """One article on one checkweigher on one production day."""

    article: str
    nominal_g: float | None
    packs: int
    packs_good: int
    kg: float
    giveaway_g: float
    below_t1: int
    below_t2: int


class MachineDayTruth(msgspec.Struct, frozen=True, kw_only=True):
    """One machine on one production day (site-local, DST aware) by true time."""

    site: str
    line: str
    machine: str
    machine_type: str
    clock_skew_s: int
    production_day: date
    day_start: datetime
    day_end: datetime
    packs_total: int
    packs_good: int
    rejects: int
    rejects_by_reason: dict[str, int]
    kg: float
    kg_good: float
    giveaway_g: float
    counters: dict[str, int]
    state_seconds: dict[str, int]
    mode_seconds: dict[str, int]
    articles: list[ArticleDayTruth]
    messages: int
    datapoints: int
    duplicates_sent: int
    reboots: int
    counter_resets: int


class TenantTruth(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's totals and its machine-day rows."""

    tenant: str
    messages: int
    datapoints: int
    duplicates_sent: int
    days: list[MachineDayTruth]


class TruthFile(msgspec.Struct, frozen=True, kw_only=True):
    """What one run generated over [start, end) of true time."""

    seed: int
    start: datetime
    end: datetime
    tenants: list[TenantTruth]
