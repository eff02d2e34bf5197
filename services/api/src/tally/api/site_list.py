"""GET /v1/sites: the caller's sites and their lines, from the registry (no figures needed)."""

from __future__ import annotations

from tally.api.places import SitePlace, sites_from
from tally.api.queries import places_of_tenant
from tally.contracts.figures import LineRef, SiteInfo, Sites
from tally.sdk import Tx


async def tenant_sites(tx: Tx, tenant: str) -> list[SitePlace]:
    return sites_from(await tx.fetch(places_of_tenant(tenant)))


def sites_view(places: list[SitePlace]) -> Sites:
    return Sites(
        sites=[
            SiteInfo(
                site=place.site,
                name=place.name,
                timezone=place.timezone,
                lines=[LineRef(line=line.line, name=line.name) for line in place.lines],
            )
            for place in places
        ]
    )
