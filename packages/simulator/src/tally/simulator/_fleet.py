"""The fleet: tenants (machine vendors) → sites → lines → machines, plus each tenant's articles.

`build_fleet(seed)` makes the same fleet for the same seed; nothing here is random at run time.
Its tenants differ in their figure settings, so a platform's settings are exercised too:
alpenwerk keeps the defaults, nordslice counts no changeover as a loss and has a 90 s
micro-stop threshold, iberpack counts no cleaning as a loss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

from tally.calendar import ShiftPlan, SiteCalendar
from tally.contracts import StateModel
from tally.registry import FigureSettings
from tally.simulator._plans import THREE_SHIFTS, TWO_SHIFTS_AND_CLEANING

MachineType = Literal["slicer", "thermoformer", "checkweigher", "labeller"]
LINE_ORDER: tuple[MachineType, ...] = ("slicer", "thermoformer", "checkweigher", "labeller")
ROLLOVER_15_BIT = 32_767
ROLLOVER_16_BIT = 65_535
ROLLOVER_31_BIT = 2_147_483_647


@dataclass(frozen=True, slots=True)
class ArticleSpec:
    """A SKU. `nominal_g` is Qn; None means catch-weight (priced by actual weight, no Qn).
    `repriced` lists (epoch second, price per kg) from which a new price holds."""

    id: str
    name: str
    nominal_g: float | None
    price_per_kg: float
    ideal_rate_ppm: float
    repriced: tuple[tuple[int, float], ...] = ()

    def price_at(self, t: float) -> float:
        """The price per kg valid at instant t."""
        price = self.price_per_kg
        for since, later in self.repriced:
            if t < since:
                break
            price = later
        return price


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """One machine. `constrained` machines upload msgpack instead of JSON; `clock_skew_s` shifts
    every timestamp the machine sends (its clock is wrong, the truth is not)."""

    id: str
    type: MachineType
    state_model: StateModel
    counter_rollover: int
    ideal_rate_ppm: float
    resets_at_shift_start: bool = False
    constrained: bool = False
    clock_skew_s: int = 0
    # Packs/min beyond which an increase is implausible (FIGURES.md; written to the registry).
    max_rate_ppm: float = 0.0
    # A checkweigher rejects as underweight below T1, or (set loosely) only below T2.
    rejects_below: Literal["t1", "t2"] = "t1"


@dataclass(frozen=True, slots=True)
class LineSpec:
    """Machines in flow order (slicer → thermoformer → checkweigher → labeller), and the ids of
    the articles the line runs."""

    id: str
    name: str
    machines: tuple[MachineSpec, ...]
    articles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """A plant. Its production day starts at `production_day_start` local time (DST aware);
    `plan` is its shift plan."""

    id: str
    name: str
    timezone: str
    production_day_start: time
    plan: ShiftPlan
    lines: tuple[LineSpec, ...]

    def calendar(self) -> SiteCalendar:
        """A calendar of the site (each keeps its own cache of painted days)."""
        return SiteCalendar(self.timezone, self.production_day_start, self.plan)


@dataclass(frozen=True, slots=True)
class TenantSpec:
    """A machine vendor, its customers' sites, its article catalogue and figure settings."""

    id: str
    name: str
    sites: tuple[SiteSpec, ...]
    articles: tuple[ArticleSpec, ...]
    settings: FigureSettings = field(default_factory=FigureSettings)

    def article(self, article_id: str) -> ArticleSpec:
        """The article with this id; KeyError names the tenant when there is none."""
        for article in self.articles:
            if article.id == article_id:
                return article
        raise KeyError(f"tenant {self.id!r} has no article {article_id!r}")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a machine stands: tenant, site and line."""

    tenant: TenantSpec
    site: SiteSpec
    line: LineSpec
    machine: MachineSpec


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every tenant the simulator plays."""

    tenants: tuple[TenantSpec, ...]

    def placements(self) -> list[Placement]:
        """Every machine with its tenant, site and line, in a stable order."""
        return [
            Placement(tenant, site, line, machine)
            for tenant in self.tenants
            for site in tenant.sites
            for line in site.lines
            for machine in line.machines
        ]


_VENDORS = (
    ("alpenwerk", "Alpenwerk Schneidetechnik GmbH"),
    ("nordslice", "Nordslice A/S"),
    ("iberpack", "Iberpack Maquinaria S.L."),
    ("lakeshore", "Lakeshore Packaging Inc."),
    ("vistulapak", "Vistulapak Sp. z o.o."),
)
_PLANTS = (
    ("kempten", "Kempten", "Europe/Berlin"),
    ("zaragoza", "Zaragoza", "Europe/Madrid"),
    ("green-bay", "Green Bay", "America/Chicago"),
    ("leeds", "Leeds", "Europe/London"),
    ("lodz", "Łódź", "Europe/Warsaw"),
)
# (id, name, Qn, €/kg, ideal packs/min): rates are the slicer's limits for that portion.
_ARTICLES = (
    ("salami-100", "Salami 100 g", 100.0, 18.90, 140.0),
    ("ham-200", "Cooked ham 200 g", 200.0, 12.50, 110.0),
    ("gouda-150", "Gouda 150 g", 150.0, 11.80, 120.0),
    ("emmental-250", "Emmental 250 g", 250.0, 14.20, 90.0),
    ("wedge-cw", "Cheese wedge (catch-weight)", None, 16.40, 70.0),
)


_SETTINGS = (
    FigureSettings(),
    FigureSettings(micro_stop_seconds=90, changeover_is_loss=False),
    FigureSettings(cleaning_is_loss=False),
)
# A machine may run up to this many times its tenant's highest ideal rate (FIGURES.md).
MAX_RATE_FACTOR = 2.0
REPRICING = 1.05


def build_fleet(
    seed: int,
    tenants: int = 3,
    lines_per_site: int = 2,
    *,
    repriced_at: datetime | None = None,
) -> Fleet:
    """A deterministic fleet: `tenants` vendors (at least one, at most five), each with one or
    two sites in different time zones, each site with `lines_per_site` lines of four machines.
    With `repriced_at`, every article's price rises by 5 % from that instant on."""
    if not 1 <= tenants <= len(_VENDORS):
        raise ValueError(f"tenants must be 1..{len(_VENDORS)}, got {tenants}")
    if lines_per_site < 1:
        raise ValueError(f"lines_per_site must be at least 1, got {lines_per_site}")
    rng = random.Random(f"fleet:{seed}")
    repricing = None if repriced_at is None else int(repriced_at.timestamp())
    return Fleet(tuple(_tenant(rng, index, lines_per_site, repricing) for index in range(tenants)))


def _tenant(
    rng: random.Random, index: int, lines_per_site: int, repricing: int | None
) -> TenantSpec:
    tenant_id, name = _VENDORS[index]
    # Prices differ by customer; the catalogue itself is the same five articles.
    articles = tuple(
        _article(aid, aname, qn, round(price * rng.uniform(0.9, 1.1), 2), rate, repricing)
        for aid, aname, qn, price, rate in _ARTICLES
    )
    max_rate = MAX_RATE_FACTOR * max(article.ideal_rate_ppm for article in articles)
    site_count = 2 if index == 0 else rng.choice((1, 2))
    plants = [_PLANTS[(index + offset * 2) % len(_PLANTS)] for offset in range(site_count)]
    sites = []
    line_number = 0
    for site_id, site_name, zone in plants:
        lines = []
        for _ in range(lines_per_site):
            line_number += 1
            lines.append(_line(rng, index, line_number, articles, max_rate))
        plan = THREE_SHIFTS if rng.random() < 0.5 else TWO_SHIFTS_AND_CLEANING
        sites.append(SiteSpec(site_id, site_name, zone, time(6), plan, tuple(lines)))
    settings = _SETTINGS[index % len(_SETTINGS)]
    return TenantSpec(tenant_id, name, tuple(sites), articles, settings)


def _article(
    aid: str, name: str, qn: float | None, price: float, rate: float, repricing: int | None
) -> ArticleSpec:
    repriced = () if repricing is None else ((repricing, round(price * REPRICING, 2)),)
    return ArticleSpec(aid, name, qn, price, rate, repriced)


def _line(
    rng: random.Random,
    tenant_index: int,
    number: int,
    articles: tuple[ArticleSpec, ...],
    max_rate: float,
) -> LineSpec:
    # Round-robin over the catalogue so that two lines already run every article.
    picks = [articles[(number * 2 + k) % len(articles)].id for k in range(rng.choice((2, 3)))]
    prefix = f"l{number}"
    wide_checkweigher = tenant_index % 2 == 1
    skewed = rng.randrange(len(LINE_ORDER)) if rng.random() < 0.5 else -1
    machines = []
    for position, kind in enumerate(LINE_ORDER):
        rollover, ideal, resets = _MACHINE_DEFAULTS[kind]
        if kind == "checkweigher" and wide_checkweigher:
            # A newer controller: 31-bit counters, reset by the operator at every shift start.
            rollover, resets = ROLLOVER_31_BIT, True
        machines.append(
            MachineSpec(
                id=f"{prefix}-{kind}",
                type=kind,
                state_model=StateModel.PACKML,
                counter_rollover=rollover,
                ideal_rate_ppm=ideal,
                resets_at_shift_start=resets,
                # Labellers of the third vendor sit behind a metered cellular link.
                constrained=kind == "labeller" and tenant_index == 2,
                clock_skew_s=rng.choice((-7, -4, -3, 3, 5)) if position == skewed else 0,
                max_rate_ppm=max_rate,
                # The second vendor's customers set their checkweighers loosely: packs below
                # T1 pass (the ℮ rule allows 2.5 % of them), only those below T2 are rejected.
                rejects_below="t2" if tenant_index == 1 else "t1",
            )
        )
    return LineSpec(prefix, f"Line {number}", tuple(machines), tuple(picks))


# type → (counter rollover, ideal packs/min, operator reset at shift start)
_MACHINE_DEFAULTS: dict[MachineType, tuple[int, float, bool]] = {
    # An old slicer PLC with signed 16-bit counters: wraps several times a day.
    "slicer": (ROLLOVER_15_BIT, 200.0, False),
    # The thermoformer is the line's constraint (line OEE is taken there).
    "thermoformer": (ROLLOVER_31_BIT, 150.0, False),
    "checkweigher": (ROLLOVER_16_BIT, 250.0, False),
    "labeller": (ROLLOVER_16_BIT, 220.0, True),
}
