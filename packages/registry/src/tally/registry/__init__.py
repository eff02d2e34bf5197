"""tally.registry: who and what — tenants, sites, lines, machines, articles, machine tokens.

A library used by the CLI's admin commands and the demo; the gateway only ever checks tokens.
The ℮ weight law (TNE, T1, T2) lives here because articles carry their limits.
"""

from tally.registry._provision import Registry, RegistryError, token_hash
from tally.registry._records import (
    Article,
    Line,
    Machine,
    MachineKind,
    Site,
    StateModel,
    Tenant,
)
from tally.registry._weight_law import WeightLimits, limits, tne_g

__all__ = [
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
