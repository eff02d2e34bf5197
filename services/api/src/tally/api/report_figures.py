"""The daily reports' figures in the api: the very builders of GET /v1/lines/{line}/days/{day}
and GET /v1/sites/{site}/days/{day} (`figures_api.line_day_of`, `site_day_of`), so a report
shows exactly what the API answers for that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tally.api.figures_api import line_day_of, site_day_of
from tally.contracts.figures import LineDay, SiteDay
from tally.registry import SnapshotCache
from tally.sdk import Tx


@dataclass(frozen=True)
class ApiFigureDays:
    """`report_production.ReportDays` over the figures API's builders."""

    snapshots: SnapshotCache

    async def line_day(self, tx: Tx, tenant: str, line: str, day: date) -> LineDay:
        return await line_day_of(tx, await self.snapshots.of(tenant), line, day)

    async def site_day(self, tx: Tx, tenant: str, site: str, day: date) -> SiteDay:
        return await site_day_of(tx, await self.snapshots.of(tenant), site, day)
