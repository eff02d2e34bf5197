"""The signal kinds a machine sends (DOMAIN.md, "Signal kinds"), as tagged msgspec Structs.

Validation lives in the types: every number is bounded and finite, every name has a length and
an alphabet, every closed vocabulary is an enum, free text is what PostgreSQL can store, and an
unknown field is refused. A value that decodes is a value services may trust and store; nothing
downstream re-checks ranges.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from tally.sdk import STORABLE_TEXT

# Names of signals ("packs_total", "speed") and vendor codes: short, printable, no spaces.
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")]
# Free text: any characters the database can hold (no NUL, no lone surrogate).
Text = Annotated[str, msgspec.Meta(max_length=256, pattern=STORABLE_TEXT)]
Unit = Annotated[str, msgspec.Meta(max_length=16, pattern=STORABLE_TEXT)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
# A cumulative counter: 64-bit non-negative; vendors roll over at 2^15-1, 2^16-1 or 2^31-1.
CounterValue = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
# msgspec rejects NaN and infinities for bounded floats, so the bounds are the finiteness check.
GaugeValue = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
Grams = Annotated[float, msgspec.Meta(gt=0, le=100_000)]


class StateModel(enum.StrEnum):
    """Which state machine a state name belongs to: vendors number states differently."""

    PACKML = "packml"
    WEIHENSTEPHAN = "weihenstephan"
    VENDOR = "vendor"


class Mode(enum.StrEnum):
    PRODUCTION = "production"
    MAINTENANCE = "maintenance"
    MANUAL = "manual"
    CHANGEOVER = "changeover"
    CLEANING = "cleaning"


class AlarmCategory(enum.StrEnum):
    EQUIPMENT = "equipment"
    EXTERNAL = "external"
    MATERIAL = "material"
    OPERATOR = "operator"
    QUALITY = "quality"


class RejectReason(enum.StrEnum):
    UNDERWEIGHT = "underweight"
    OVERWEIGHT = "overweight"
    METAL = "metal"
    FOREIGN_BODY = "foreign_body"
    DISTANCE_FAULT = "distance_fault"
    SEAL = "seal"
    LABEL = "label"
    OTHER = "other"


class ContextEvent(enum.StrEnum):
    ARTICLE_CHANGE = "article_change"
    BATCH_CHANGE = "batch_change"
    ORDER_START = "order_start"
    ORDER_END = "order_end"
    SHIFT_START = "shift_start"


class _Signal(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
    tag_field="kind",
):
    """Common to every signal: when it happened, if not at the message's timestamp."""

    ts: Timestamp | None = None


class Counter(_Signal, frozen=True, tag="counter"):
    """A cumulative count (packs_total, packs_good, rejects, cycles); only rises, except on
    reset and rollover."""

    name: Name
    value: CounterValue


class Gauge(_Signal, frozen=True, tag="gauge"):
    """An instantaneous value: speed in packs/min, temperatures, vacuum, gas %, film left."""

    name: Name
    value: GaugeValue
    unit: Unit | None = None


class State(_Signal, frozen=True, tag="state"):
    """A state change; it holds until the next one. The name is stored, never only the code."""

    name: Name
    model: StateModel
    mode: Mode = Mode.PRODUCTION
    sub_state: Name | None = None
    code: Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)] | None = None


class Weighing(_Signal, frozen=True, tag="weighing"):
    """One pack on the checkweigher."""

    article: Name
    net_g: Grams
    accepted: bool
    zone: Annotated[int, msgspec.Meta(ge=0, le=9)] = 0
    reject_reason: RejectReason | None = None


class Alarm(_Signal, frozen=True, tag="alarm"):
    """An alarm raised or cleared; the first-out alarm explains a stop."""

    code: Name
    raised: bool
    category: AlarmCategory
    first_out: bool = False
    text: Text | None = None


class Context(_Signal, frozen=True, tag="context"):
    """Article or batch change, order start or end, shift start."""

    event: ContextEvent
    article: Name | None = None
    batch: Name | None = None
    order: Name | None = None
    shift: Name | None = None


Signal = Counter | Gauge | State | Weighing | Alarm | Context
