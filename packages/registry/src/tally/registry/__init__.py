"""tally.registry: who and what — tenants, sites, lines, machines, articles, machine tokens —
and what the production figures need from it: shift plans, figure settings, line memberships
and article versions over time.

    Registry        writes (and the admin's reads); every write is scoped to its tenant
    SnapshotCache   a tenant's whole registry as a `RegistrySnapshot`, reloaded only when it
                    changed (one version lookup per second at most): what the rollup asks per
                    batch — line of a machine at t, article terms at t, a line's calendar and
                    roles, the figure settings, a state's category — answered in memory
    FigureSettings  thresholds, losses, state → category rules, pack counters; the defaults are
                    docs/FIGURES.md's

A library used by the CLI's admin commands, the api, the demo and the rollup; the gateway only
ever checks tokens. The ℮ weight law (TNE, T1, T2) lives here because articles carry their
limits. Errors: `RegistryError` (a `TallyError`) names the field and value at fault.
"""

from tally.registry._errors import RegistryError
from tally.registry._records import (
    Article,
    ArticleId,
    ArticleVersion,
    Id,
    Line,
    LineRoles,
    Machine,
    MachineKind,
    MachineMove,
    Site,
    SitePlan,
    StateModel,
    Tenant,
    TenantId,
)
from tally.registry._registry import Registry
from tally.registry._settings import (
    DEFAULT_STATE_RULES,
    Categories,
    Category,
    FigureSettings,
    StateRule,
)
from tally.registry._snapshot import (
    ArticleTerms,
    LineView,
    MachineView,
    Membership,
    RegistrySnapshot,
    SiteView,
)
from tally.registry._snapshot_cache import SnapshotCache, load_snapshot
from tally.registry._weight_law import WeightLimits, limits, tne_g

__all__ = [
    "DEFAULT_STATE_RULES",
    "Article",
    "ArticleId",
    "ArticleTerms",
    "ArticleVersion",
    "Categories",
    "Category",
    "FigureSettings",
    "Id",
    "Line",
    "LineRoles",
    "LineView",
    "Machine",
    "MachineKind",
    "MachineMove",
    "MachineView",
    "Membership",
    "Registry",
    "RegistryError",
    "RegistrySnapshot",
    "Site",
    "SitePlan",
    "SiteView",
    "SnapshotCache",
    "StateModel",
    "StateRule",
    "Tenant",
    "TenantId",
    "WeightLimits",
    "limits",
    "load_snapshot",
    "tne_g",
]
