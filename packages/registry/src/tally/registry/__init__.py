"""tally.registry: who and what — tenants, sites, lines, machines, articles, machine tokens.

A library used by the CLI's admin commands and the demo; the gateway only ever checks tokens.
The ℮ weight law (TNE, T1, T2) lives here because articles carry their limits.
"""

from tally.registry._provision import Registry, RegistryError
from tally.registry._records import (
    Article,
    ArticleId,
    Id,
    Line,
    Machine,
    MachineKind,
    Site,
    StateModel,
    Tenant,
    TenantId,
)
from tally.registry._weight_law import WeightLimits, limits, tne_g

__all__ = [
    "Article",
    "ArticleId",
    "Id",
    "Line",
    "Machine",
    "MachineKind",
    "Registry",
    "RegistryError",
    "Site",
    "StateModel",
    "Tenant",
    "TenantId",
    "WeightLimits",
    "limits",
    "tne_g",
]
