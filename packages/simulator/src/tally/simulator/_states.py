"""Which PackML state each machine is in while the line is in a given segment.

The machines are coupled without buffers, so one culprit stops the line: the culprit is Held
(sub-state `equipment` or `external`, Weihenstephan-style) or, after a severe fault, Aborted in
maintenance mode; machines upstream of it are Suspended/`tailback` (blocked), machines downstream
Suspended/`lack` (starved). Planned downtime puts every machine in the same state:

| segment    | state   | mode       | sub_state | category (FIGURES.md's default rules) |
|------------|---------|------------|-----------|---------------------------------------|
| run        | Execute | production |           | running                               |
| changeover | Stopped | changeover |           | changeover                            |
| break      | Idle    | production | break     | no order / no shift                   |
| cleaning   | Stopped | cleaning   |           | cleaning                              |
| off        | Stopped | production | no_shift  | no order / no shift                   |

A held culprit is an equipment or external failure, an aborted one in maintenance mode is
maintenance (the mode rule comes first); its neighbours are blocked or starved. Each state
carries its category as the simulator means it, for the ground truth — never looked up through
the platform's rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from tally.contracts import AlarmCategory, Mode
from tally.simulator._timeline import Segment, SegmentKind


@dataclass(frozen=True, slots=True)
class MachineState:
    """A state as the machine reports it; `code` is the PackML state number, `category` what
    its seconds count as (not sent: the truth's own reading of FIGURES.md)."""

    name: str
    mode: Mode
    sub_state: str | None
    code: int
    category: str


EXECUTE = MachineState("Execute", Mode.PRODUCTION, None, 6, "running")
HELD_EQUIPMENT = MachineState("Held", Mode.PRODUCTION, "equipment", 11, "equipment_failure")
HELD_EXTERNAL = MachineState("Held", Mode.PRODUCTION, "external", 11, "external_failure")
ABORTED = MachineState("Aborted", Mode.MAINTENANCE, "equipment", 9, "maintenance")
STARVED = MachineState("Suspended", Mode.PRODUCTION, "lack", 5, "starved")
BLOCKED = MachineState("Suspended", Mode.PRODUCTION, "tailback", 5, "blocked")
CHANGEOVER = MachineState("Stopped", Mode.CHANGEOVER, None, 2, "changeover")
BREAK = MachineState("Idle", Mode.PRODUCTION, "break", 4, "no_order")
CLEANING = MachineState("Stopped", Mode.CLEANING, None, 2, "cleaning")
NO_SHIFT = MachineState("Stopped", Mode.PRODUCTION, "no_shift", 2, "no_order")

_WHOLE_LINE = {
    SegmentKind.RUN: EXECUTE,
    SegmentKind.CHANGEOVER: CHANGEOVER,
    SegmentKind.BREAK: BREAK,
    SegmentKind.CLEANING: CLEANING,
    SegmentKind.OFF: NO_SHIFT,
}


def line_states(segment: Segment, machines: int) -> tuple[MachineState, ...]:
    """The state of each machine, in flow order, during the segment."""
    same = _WHOLE_LINE.get(segment.kind)
    if same is not None:
        return (same,) * machines
    culprit = segment.culprit
    return tuple(
        BLOCKED if position < culprit else STARVED if position > culprit else _held(segment)
        for position in range(machines)
    )


def _held(segment: Segment) -> MachineState:
    if segment.severe:
        return ABORTED
    alarm = segment.alarm
    if segment.kind is SegmentKind.MICROSTOP or alarm is None:
        return HELD_EQUIPMENT
    external = alarm.category in (AlarmCategory.EXTERNAL, AlarmCategory.MATERIAL)
    return HELD_EXTERNAL if external else HELD_EQUIPMENT
