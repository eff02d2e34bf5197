"""The registry's front door, pinned."""

from __future__ import annotations

import tally.registry


def test_the_registry_exports_exactly_its_public_names() -> None:
    assert tally.registry.__all__ == [
        "Article",
        "Line",
        "Machine",
        "MachineKind",
        "Registry",
        "RegistryError",
        "Site",
        "StateModel",
        "Tenant",
        "WeightLimits",
        "limits",
        "tne_g",
        "token_hash",
    ]
