"""What the registry holds, as typed records. Ids follow the subject-token alphabet because
tenant and machine ids become parts of broker subjects."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Annotated

import msgspec

from tally.calendar import ShiftPlan
from tally.sdk import STORABLE_TEXT

TenantId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# Article numbers may hold "/" (the api's path carries it as %2F), but no "." or ".." between
# slashes: every HTTP client resolves those segments away, so no URL could name the article.
ArticleId = Annotated[
    str, msgspec.Meta(pattern=r"^(?!(?:.*/)?\.{1,2}(?:/|$))[A-Za-z0-9_.:/-]{1,64}$")
]
# Free text: any characters the database can hold (no NUL, no lone surrogate).
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)]
# The alphabet of IANA zone names ("Europe/Berlin", "Etc/GMT+5"); the registry checks the name
# against the zone database too.
ZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
# A local time of day, "HH:MM:SS[.ffffff]", without an offset: the site's zone gives it one.
# (msgspec's JSON Schema says only "string" for a time; the pattern says what it reads.)
LocalTime = Annotated[
    time,
    msgspec.Meta(
        tz=False,
        extra_json_schema={"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$"},
    ),
]


class MachineKind(enum.StrEnum):
    SLICER = "slicer"
    THERMOFORMER = "thermoformer"
    CHECKWEIGHER = "checkweigher"
    LABELLER = "labeller"
    OTHER = "other"


class StateModel(enum.StrEnum):
    PACKML = "packml"
    WEIHENSTEPHAN = "weihenstephan"
    VENDOR = "vendor"


class Tenant(msgspec.Struct, frozen=True, kw_only=True):
    tenant: TenantId
    name: Name
    # Bounded like its integer column: too large is refused on decode, naming the field,
    # instead of failing the insert.
    rate_per_second: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)] = 20_000
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 400


class Site(msgspec.Struct, frozen=True, kw_only=True):
    tenant: TenantId
    site: Id
    name: Name
    timezone: ZoneName
    day_start: LocalTime = time(6, 0)


class Line(msgspec.Struct, frozen=True, kw_only=True):
    tenant: TenantId
    line: Id
    site: Id
    name: Name


class LineRoles(msgspec.Struct, frozen=True, kw_only=True):
    """Where a line's figures are taken: availability and performance at its constraint
    machine, good packs and quality at its end-of-line machine; None means its thermoformer and
    its checkweigher (whichever stands on the line at the time)."""

    tenant: TenantId
    line: Id
    constraint_machine: Id | None = None
    end_of_line_machine: Id | None = None


class Machine(msgspec.Struct, frozen=True, kw_only=True):
    tenant: TenantId
    machine: Id
    line: Id
    kind: MachineKind
    position: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    state_model: StateModel = StateModel.PACKML
    # Bounded like its bigint column (and the contracts' counter values).
    counter_rollover: Annotated[int, msgspec.Meta(gt=0, le=2**63 - 1)] = 2_147_483_647
    # Packs/min; None: twice the highest ideal rate of the tenant's articles. At least 0.01:
    # its numeric(8, 2) column would round less to a refused 0.
    max_rate_ppm: Annotated[float, msgspec.Meta(ge=0.01, le=100_000)] | None = None


class Article(msgspec.Struct, frozen=True, kw_only=True):
    """An article (SKU). `nominal_g` None means catch-weight: no Qn, no giveaway."""

    tenant: TenantId
    article: ArticleId
    name: Name
    nominal_g: Annotated[float, msgspec.Meta(ge=5, le=10_000)] | None
    ideal_rate_ppm: Annotated[float, msgspec.Meta(ge=0.01, le=10_000)]
    price_per_kg: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0.0


class SitePlan(msgspec.Struct, frozen=True, kw_only=True):
    """A site's shift plan from the production day `valid_from` on (None: since always)."""

    tenant: TenantId
    site: Id
    plan: ShiftPlan
    valid_from: date | None = None


class MachineMove(msgspec.Struct, frozen=True, kw_only=True):
    """Machine `machine` stands on `line` from `valid_from` on (its past stays where it was);
    None: since always."""

    tenant: TenantId
    machine: Id
    line: Id
    valid_from: Annotated[datetime, msgspec.Meta(tz=True)] | None


class ArticleVersion(msgspec.Struct, frozen=True, kw_only=True):
    """An article's Qn, ideal rate and price from `valid_from` on (None: since always); T1 and
    T2 follow from Qn."""

    tenant: TenantId
    article: ArticleId
    valid_from: Annotated[datetime, msgspec.Meta(tz=True)] | None
    nominal_g: Annotated[float, msgspec.Meta(ge=5, le=10_000)] | None
    # Like Article's: its numeric(8, 2) column would round less than 0.01 to a refused 0.
    ideal_rate_ppm: Annotated[float, msgspec.Meta(ge=0.01, le=10_000)]
    price_per_kg: Annotated[float, msgspec.Meta(ge=0, le=100_000)] = 0.0
