"""The result of one check step: errors fail it, notes are reported and pass."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    """Errors name the place (file:line, topic, field) and the rule that was broken."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors
