"""The registry's front door, pinned."""

from __future__ import annotations

import tally.registry


def test_the_registry_exports_exactly_its_public_names() -> None:
    assert tally.registry.__all__ == [
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
