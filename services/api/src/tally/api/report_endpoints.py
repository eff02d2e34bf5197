"""The declarations of the daily report endpoints (handlers: `report_handlers`).

    GET /v1/lines/{line}/days/{day}/report.pdf   [?version=N]   a line's production day
    GET /v1/lines/{line}/days/{day}/report.csv   [?version=N]
    GET /v1/lines/{line}/days/{day}/reports                     its stored versions
    GET /v1/sites/{site}/days/{day}/report.pdf   [?version=N]   a site's, line by line
    GET /v1/sites/{site}/days/{day}/report.csv   [?version=N]
    GET /v1/sites/{site}/days/{day}/reports

Callers: a user's session or a tenant API key (any role: reports are read-only for them).
"""

from __future__ import annotations

from typing import Any

from tally.api import report_handlers as handlers
from tally.api.admin import ApiDeps
from tally.contracts.reports import ReportVersions
from tally.sdk import AnyEndpoint, Auth, Endpoint, File

_ERRORS = {
    401: "No session or API key, or an expired, ended or revoked one.",
    404: "The caller's tenant has no such line or site (`field` names it), or no stored "
    "version N of the day's report.",
    422: "A malformed day (use YYYY-MM-DD) or version (1, 2, ...); `field` names it.",
    503: "The database cannot be reached right now; retry after Retry-After.",
}
_LINE = "/v1/lines/{line}/days/{day}"
_SITE = "/v1/sites/{site}/days/{day}"
_NOW = (
    "the stored latest version for a closed day (made first if late data changed the "
    "figures), a provisional one for an open day; ?version=N: that stored version"
)


def endpoints(tenant: Auth[ApiDeps, Any]) -> list[AnyEndpoint[ApiDeps]]:
    """Every endpoint of this module; `tenant` is the service's tenant callers' scheme."""
    return [
        Endpoint(
            "GET", f"{_LINE}/report.pdf", handlers.line_report_pdf, auth=tenant,
            params=handlers.LineReportPath, query=handlers.VersionQuery, response=File,
            produces=("application/pdf",), errors=_ERRORS,
            summary=f"The daily production report of a line as PDF: {_NOW}",
        ),
        Endpoint(
            "GET", f"{_LINE}/report.csv", handlers.line_report_csv, auth=tenant,
            params=handlers.LineReportPath, query=handlers.VersionQuery, response=File,
            produces=("text/csv",), errors=_ERRORS,
            summary=f"The daily production report of a line as CSV: {_NOW}",
        ),
        Endpoint(
            "GET", f"{_LINE}/reports", handlers.line_report_versions, auth=tenant,
            params=handlers.LineReportPath, response=ReportVersions, errors=_ERRORS,
            summary="The stored versions of a line's daily report, oldest first",
        ),
        Endpoint(
            "GET", f"{_SITE}/report.pdf", handlers.site_report_pdf, auth=tenant,
            params=handlers.SiteReportPath, query=handlers.VersionQuery, response=File,
            produces=("application/pdf",), errors=_ERRORS,
            summary=f"The daily production report of a site as PDF: {_NOW}",
        ),
        Endpoint(
            "GET", f"{_SITE}/report.csv", handlers.site_report_csv, auth=tenant,
            params=handlers.SiteReportPath, query=handlers.VersionQuery, response=File,
            produces=("text/csv",), errors=_ERRORS,
            summary=f"The daily production report of a site as CSV: {_NOW}",
        ),
        Endpoint(
            "GET", f"{_SITE}/reports", handlers.site_report_versions, auth=tenant,
            params=handlers.SiteReportPath, response=ReportVersions, errors=_ERRORS,
            summary="The stored versions of a site's daily report, oldest first",
        ),
    ]  # fmt: skip
