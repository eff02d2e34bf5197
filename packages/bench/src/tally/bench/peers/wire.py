"""The wire contract as a peer's author would copy it from tally's docs: the values each enum
field takes. The peers import nothing of tally (not even tally.contracts, which brings the SDK
and its web stack along), so their memory and start-up are their own."""

from __future__ import annotations

from typing import Literal

StateMachine = Literal["packml", "weihenstephan", "vendor"]
Mode = Literal["production", "maintenance", "manual", "changeover", "cleaning"]
AlarmCategory = Literal["equipment", "external", "material", "operator", "quality"]
RejectReason = Literal[
    "underweight",
    "overweight",
    "metal",
    "foreign_body",
    "distance_fault",
    "seal",
    "label",
    "other",
]
ContextEvent = Literal["article_change", "batch_change", "order_start", "order_end", "shift_start"]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
BOOT_PATTERN = r"^[A-Za-z0-9_.:-]+$"
NAME_PATTERN = r"^[A-Za-z0-9_.:/-]+$"
