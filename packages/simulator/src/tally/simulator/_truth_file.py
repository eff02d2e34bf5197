"""The schema of the ground-truth file (`write_truth` / `read_truth`), by docs/FIGURES.md.

Time basis: DEVICE time. Every row is placed by the timestamps the machines sent (true time +
the machine's clock skew), in its site's production days and local hours, because that is all a
platform can know; a platform that is right matches these rows exactly. `start`/`end` of the run
are true time. A row is `complete` when the run covered its whole day (in the machine's device
time); compare complete rows only.

Units are in the names: `_seconds`, `_g`, `_dg` (decigrams, exact integers), `_kg`; money is in
the article's currency (`giveaway_value`, from exact integer cents × decigrams). Ratios (A, P,
Q, OEE) are fractions in [0, 1] (P may exceed 1), None where FIGURES.md says null.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class StopTruth(msgspec.Struct, frozen=True, kw_only=True):
    """A stop that is not a micro-stop and has planned time (listed on the production day of
    its first planned second). `seconds` is its whole length, `planned_seconds` its seconds in
    planned time (not excluded), `category` the one that held longest in those, `reason_*` the
    first-out alarm raised in it or within 5 s before it."""

    start: datetime
    end: datetime
    seconds: float
    planned_seconds: float
    category: str
    reason_code: str | None
    reason_text: str | None


class WeighingsTruth(msgspec.Struct, frozen=True, kw_only=True):
    """Weighings of one article on one checkweigher, over a day or an ℮ lot. Weights are of
    accepted packs; giveaway and declared weight of accepted fixed-weight packs only."""

    article: str
    nominal_g: float | None
    packs: int
    accepted: int
    rejects: int
    rejects_by_reason: dict[str, int]
    net_dg: int
    net_sq_dg: int
    kg: float
    kg_declared: float
    min_g: float | None
    max_g: float | None
    mean_g: float | None
    sigma_g: float | None
    below_t1: int
    below_t2: int
    giveaway_dg: int
    giveaway_g: float
    giveaway_value: float
    compliant: bool | None


class ArticleDayTruth(WeighingsTruth, frozen=True, kw_only=True):
    """An article's weighings on one checkweigher over a production day (by each weighing's
    time), and its ℮ lots that start in the day: it complies when every lot with a verdict
    does (None: no lot has a verdict)."""

    lots: int
    lots_compliant: int


class LotTruth(WeighingsTruth, frozen=True, kw_only=True):
    """An ℮ lot: one article on one checkweigher in one local hour [hour_start, hour_end),
    told apart by its UTC offset (`local_hour`, e.g. "2025-10-26T02:00+01:00")."""

    site: str
    line: str
    machine: str
    production_day: date
    hour_start: datetime
    hour_end: datetime
    local_hour: str
    t1_g: float | None
    t2_g: float | None


class LossesTruth(msgspec.Struct, frozen=True, kw_only=True):
    """Losses in seconds; they add up to ppt_seconds − fpt_seconds."""

    availability_seconds: dict[str, float]
    micro_stop_seconds: float
    speed_seconds: float
    quality_seconds: float


class OeeTruth(msgspec.Struct, frozen=True, kw_only=True):
    """Planned time and OEE of a machine (or a line) over a day."""

    ppt_seconds: float
    run_seconds: float
    ideal_seconds: float
    fpt_seconds: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    losses: LossesTruth


class MachineDayTruth(msgspec.Struct, frozen=True, kw_only=True):
    """One machine on one production day, in device time."""

    site: str
    line: str
    machine: str
    machine_type: str
    clock_skew_s: int
    production_day: date
    day_start: datetime
    day_end: datetime
    complete: bool
    # Packs: the machine's pack counter (a slicer's cycles), good = packs_good where it has one.
    packs_total: int
    packs_good: int
    counters: dict[str, int]
    counter_resets: int
    reboots: int
    # Seconds of the day by state name, mode and category; no data apart (not a state).
    state_seconds: dict[str, float]
    mode_seconds: dict[str, float]
    category_seconds: dict[str, float]
    no_data_seconds: float
    # The share of planned time with data (FIGURES.md, "Completeness").
    completeness: float
    # The plan: planned (shift windows less breaks and cleaning), excluded (changeover or
    # cleaning in planned time that the tenant does not count as a loss), PPT = the difference.
    planned_seconds: float
    excluded_seconds: float
    running_seconds: float
    micro_stops: int
    stops: list[StopTruth]
    packs_in_ppt: int
    good_in_ppt: int
    figures: OeeTruth
    articles: list[ArticleDayTruth]
    messages: int
    datapoints: int
    duplicates_sent: int


class LineDayTruth(msgspec.Struct, frozen=True, kw_only=True):
    """One line on one production day: A and P at its constraint machine, Q and good packs at
    its end-of-line machine (each in its own device time)."""

    site: str
    line: str
    production_day: date
    complete: bool
    constraint_machine: str
    end_of_line_machine: str
    packs_total: int
    packs_good: int
    rejects_by_reason: dict[str, int]
    kg: float
    kg_declared: float
    giveaway_dg: int
    giveaway_g: float
    giveaway_value: float
    figures: OeeTruth


class TenantTruth(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's totals, settings and rows."""

    tenant: str
    micro_stop_seconds: int
    gap_seconds: int
    changeover_is_loss: bool
    cleaning_is_loss: bool
    messages: int
    datapoints: int
    duplicates_sent: int
    days: list[MachineDayTruth]
    lines: list[LineDayTruth]
    lots: list[LotTruth]


class TruthFile(msgspec.Struct, frozen=True, kw_only=True):
    """What one run generated over [start, end) of true time."""

    seed: int
    start: datetime
    end: datetime
    time_basis: str
    tenants: list[TenantTruth]
