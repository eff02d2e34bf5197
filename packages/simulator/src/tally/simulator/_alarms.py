"""The alarm catalogue: what each machine type raises when it stops, with vendor-style codes."""

from __future__ import annotations

from dataclasses import dataclass

from tally.contracts import AlarmCategory
from tally.simulator._fleet import MachineType


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One alarm a machine can raise; `category` decides Held/equipment vs Held/external."""

    code: str
    category: AlarmCategory
    text: str


_EQ = AlarmCategory.EQUIPMENT
_EX = AlarmCategory.EXTERNAL
_MAT = AlarmCategory.MATERIAL

FAULTS: dict[MachineType, tuple[AlarmSpec, ...]] = {
    "slicer": (
        AlarmSpec("SL-214", _EQ, "Portion feeder jam"),
        AlarmSpec("SL-231", _EQ, "Blade drive overcurrent"),
        AlarmSpec("SL-305", _EX, "Product supply interrupted"),
    ),
    "thermoformer": (
        AlarmSpec("TF-301", _EQ, "Sealing temperature below set point"),
        AlarmSpec("TF-355", _EQ, "Vacuum pump fault"),
        AlarmSpec("TF-377", _EQ, "Forming die position error"),
        AlarmSpec("TF-390", _EX, "Compressed air pressure low"),
    ),
    "checkweigher": (
        AlarmSpec("CW-120", _EQ, "Load cell error"),
        AlarmSpec("CW-205", _EQ, "Metal detector self-test failed"),
        AlarmSpec("CW-230", _EQ, "Reject bin full"),
    ),
    "labeller": (
        AlarmSpec("LB-540", _EQ, "Applicator fault"),
        AlarmSpec("LB-560", _EQ, "Printer head temperature"),
        AlarmSpec("LB-590", _EX, "Label data missing from ERP"),
    ),
}

# Consumables run out on the thermoformer (film) and the labeller (labels, ribbon).
REELS: dict[MachineType, tuple[AlarmSpec, ...]] = {
    "thermoformer": (
        AlarmSpec("TF-410", _MAT, "Bottom film reel empty"),
        AlarmSpec("TF-411", _MAT, "Top film reel empty"),
    ),
    "labeller": (
        AlarmSpec("LB-510", _MAT, "Label reel empty"),
        AlarmSpec("LB-520", _MAT, "Printer ribbon empty"),
    ),
}
