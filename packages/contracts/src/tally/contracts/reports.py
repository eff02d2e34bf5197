"""The stored daily production reports, as the API lists them.

GET /v1/lines/{line}/days/{day}/reports and GET /v1/sites/{site}/days/{day}/reports answer
with every version of the day's report, oldest first; `report.pdf` and `report.csv` of the day
serve the latest, or the one `?version=N` names. A new version is produced when late data
changed the figures of a closed day; the earlier ones are kept.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

__all__ = ["ReportVersion", "ReportVersions"]


class ReportVersion(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: int
    produced_at: datetime
    # The fraction of planned time the data covered (a site's: its least complete line's).
    completeness: float
    # SHA-256 (hex) of the figures the version was made from.
    figures_digest: str


class ReportVersions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: str
    # None for the site's report.
    line: str | None
    day: date
    versions: list[ReportVersion]
