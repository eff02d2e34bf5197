"""The registry's one error: `RegistryError`, an entry that is invalid (it names the field and
the value), a `TallyError` like every tally error."""

from __future__ import annotations

from tally.sdk import TallyError


class RegistryError(TallyError):
    """A registry entry is invalid (names the field and value)."""
