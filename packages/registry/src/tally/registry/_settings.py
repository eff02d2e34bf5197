"""A tenant's figure settings (docs/FIGURES.md, the choices marked *setting*) and the mapping of
a state to its category.

A state maps to a category by the first rule that matches it: every condition a rule gives
(model, one of its names, mode, one of its sub-states) must hold. State names and sub-states are
compared ignoring case, spaces, `_` and `-`, so Weihenstephan's "External failure" matches a
machine that sends `external_failure` (the wire's names have no spaces). A state no rule matches
is `unknown`. The defaults are FIGURES.md's table for PackML and Weihenstephan.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

import msgspec

from tally.contracts import Mode
from tally.registry._records import MachineKind, StateModel
from tally.sdk import STORABLE_TEXT

CounterName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
]
# Free text like Weihenstephan's "External failure", stored as JSON: what PostgreSQL can hold.
StateName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=STORABLE_TEXT)]


class Category(enum.StrEnum):
    """What a second of a machine's history counts as."""

    RUNNING = "running"
    CHANGEOVER = "changeover"
    CLEANING = "cleaning"
    MAINTENANCE = "maintenance"
    BLOCKED = "blocked"
    STARVED = "starved"
    EXTERNAL_FAILURE = "external_failure"
    EQUIPMENT_FAILURE = "equipment_failure"
    NO_ORDER = "no_order"  # no order / no shift
    UNKNOWN = "unknown"
    NO_DATA = "no_data"  # not a state: a gap in the data


class StateRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Maps the states it matches to `category`; an empty condition matches anything."""

    category: Category
    model: StateModel | None = None
    names: tuple[StateName, ...] = ()
    mode: Mode | None = None
    sub_states: tuple[StateName, ...] = ()

    def __post_init__(self) -> None:
        if self.category is Category.NO_DATA:
            raise ValueError("category = no_data: no data is a gap, never a state's category")
        if self.model is None and not self.names and self.mode is None and not self.sub_states:
            raise ValueError(
                f"a rule for {self.category.value} names no model, name, mode or sub-state: "
                "it would match every state (unmatched states are unknown already)"
            )


def _rules() -> tuple[StateRule, ...]:
    packml, weihenstephan = StateModel.PACKML, StateModel.WEIHENSTEPHAN
    c = Category
    return (
        StateRule(category=c.RUNNING, model=packml, names=("Execute",)),
        StateRule(category=c.RUNNING, model=weihenstephan, names=("Operating",)),
        StateRule(category=c.CHANGEOVER, mode=Mode.CHANGEOVER),
        StateRule(category=c.CLEANING, mode=Mode.CLEANING),
        StateRule(category=c.MAINTENANCE, mode=Mode.MAINTENANCE),
        StateRule(category=c.BLOCKED, sub_states=("tailback",)),
        StateRule(category=c.BLOCKED, model=weihenstephan, names=("Tailback",)),
        StateRule(category=c.STARVED, sub_states=("lack",)),
        StateRule(
            category=c.STARVED, model=packml, names=("Suspended", "Suspending", "Unsuspending")
        ),
        StateRule(category=c.STARVED, model=weihenstephan, names=("Lack",)),
        StateRule(category=c.EXTERNAL_FAILURE, sub_states=("external",)),
        StateRule(category=c.EXTERNAL_FAILURE, model=weihenstephan, names=("External failure",)),
        StateRule(
            category=c.EQUIPMENT_FAILURE,
            model=packml,
            names=("Held", "Holding", "Unholding", "Aborted", "Aborting", "Clearing"),
        ),
        StateRule(
            category=c.EQUIPMENT_FAILURE,
            model=weihenstephan,
            names=("Equipment failure", "Emergency stop"),
        ),
        StateRule(category=c.NO_ORDER, sub_states=("no_shift", "break")),
        StateRule(
            category=c.NO_ORDER,
            model=packml,
            names=(
                "Stopped",
                "Stopping",
                "Idle",
                "Resetting",
                "Starting",
                "Complete",
                "Completing",
            ),
        ),
        StateRule(
            category=c.NO_ORDER, model=weihenstephan, names=("Stopped", "Prepared", "Paused")
        ),
    )


DEFAULT_STATE_RULES = _rules()


def _pack_counters() -> dict[MachineKind, CounterName]:
    # A slicer reports only cycles, one portion each.
    counters: dict[MachineKind, CounterName] = {kind: "packs_total" for kind in MachineKind}
    counters[MachineKind.SLICER] = "cycles"
    return counters


class FigureSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's choices in how figures are computed; every field has FIGURES.md's default."""

    micro_stop_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 120
    gap_seconds: Annotated[int, msgspec.Meta(ge=1, le=86_400)] = 60
    changeover_is_loss: bool = True
    cleaning_is_loss: bool = True
    state_rules: tuple[StateRule, ...] = DEFAULT_STATE_RULES
    pack_counters: dict[MachineKind, CounterName] = msgspec.field(default_factory=_pack_counters)
    good_counter: CounterName = "packs_good"

    def pack_counter(self, kind: MachineKind) -> str:
        """The counter that counts the packs of a machine of this kind."""
        return self.pack_counters.get(kind, "packs_total")


_IGNORED = re.compile(r"[\s_-]+")


def _folded(text: str) -> str:
    return _IGNORED.sub("", text).casefold()


class Categories:
    """The category of each state under a list of rules; remembers every answer (a tenant's
    machines send few distinct states)."""

    __slots__ = ("_known", "_rules")

    def __init__(self, rules: tuple[StateRule, ...]) -> None:
        self._rules = [
            (
                rule.model.value if rule.model else None,
                frozenset(_folded(n) for n in rule.names),
                rule.mode.value if rule.mode else None,
                frozenset(_folded(s) for s in rule.sub_states),
                rule.category,
            )
            for rule in rules
        ]
        self._known: dict[tuple[str, str, str, str | None], Category] = {}

    def of(self, model: str, name: str, mode: str, sub_state: str | None) -> Category:
        """The category of a state (model, name, mode and sub-state as the machine sent them)."""
        key = (model, name, mode, sub_state)
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = self._match(*key)
        return found

    def _match(self, model: str, name: str, mode: str, sub_state: str | None) -> Category:
        folded_name = _folded(name)
        folded_sub = _folded(sub_state) if sub_state is not None else None
        for rule_model, names, rule_mode, subs, category in self._rules:
            if rule_model is not None and rule_model != model:
                continue
            if names and folded_name not in names:
                continue
            if rule_mode is not None and rule_mode != mode:
                continue
            if subs and folded_sub not in subs:
                continue
            return category
        return Category.UNKNOWN
