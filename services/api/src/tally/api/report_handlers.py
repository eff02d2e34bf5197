"""The daily report endpoints' handlers: a line's or a site's production day as PDF or CSV,
and the list of its stored versions.

Without `?version=`, the answer is the report of the day's figures now: for a closed day the
stored latest version (a new version is stored first when late data changed the figures, the
same as the schedules do), for an open day a provisional report, rendered and not stored.
`?version=N` serves a stored version as it was produced. A line or site the caller's tenant
does not have — another tenant's included — is 404, like every figures endpoint.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from tally.api import report_production as production
from tally.api.admin import ApiDeps
from tally.api.problems import not_found
from tally.api.ranges import in_calendar
from tally.api.report_queries import site_by_id, site_of_line
from tally.contracts.reports import ReportVersion, ReportVersions
from tally.registry import Id
from tally.reports import StoredFile, line_csv, line_pdf, site_csv, site_pdf
from tally.sdk import Call, File, ScopedDatabase, TenantCaller, Tx, unavailable

Kind = Literal["pdf", "csv"]
_MEDIA = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


class LineReportPath(msgspec.Struct, frozen=True, kw_only=True):
    line: Id
    day: date


class SiteReportPath(msgspec.Struct, frozen=True, kw_only=True):
    site: Id
    day: date


class VersionQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # A stored version (1, 2, ...); none: the report of the day's figures now.
    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


LineCall = Call[TenantCaller, LineReportPath, VersionQuery]
SiteCall = Call[TenantCaller, SiteReportPath, VersionQuery]


def _reports(deps: ApiDeps) -> production.Reports:
    if deps.reports is None:
        raise unavailable("this api process produces no reports", retry_after=60)
    return deps.reports


async def _site_of_line(database: ScopedDatabase, tenant: str, line: str) -> str:
    async def read(tx: Tx) -> str | None:
        found = await tx.fetch_optional(site_of_line(tenant, line))
        return None if found is None else found.site

    site = await database.transaction(read, readonly=True)
    if site is None:
        raise not_found(f"there is no line {line!r}", "line", line)
    return site


async def _require_site(database: ScopedDatabase, tenant: str, site: str) -> None:
    async def read(tx: Tx) -> bool:
        return await tx.fetch_optional(site_by_id(tenant, site)) is not None

    if not await database.transaction(read, readonly=True):
        raise not_found(f"there is no site {site!r}", "site", site)


def _file(kind: Kind, name: str, day: date, found: StoredFile | None, query: VersionQuery) -> File:
    if found is None:
        detail = f"{name} has no report version {query.version} of {day.isoformat()}"
        raise not_found(detail, "version", str(query.version))
    content = found.pdf if kind == "pdf" else found.csv.encode()
    filename = f"report-{name}-{day.isoformat()}-v{found.version}.{kind}"
    return File(content, _MEDIA[kind], filename=filename)


def _provisional(kind: Kind, name: str, day: date, content: bytes) -> File:
    filename = f"report-{name}-{day.isoformat()}-provisional.{kind}"
    return File(content, _MEDIA[kind], filename=filename)


async def _line_report(deps: ApiDeps, call: LineCall, kind: Kind) -> File:
    reports, tenant, path = _reports(deps), call.caller.tenant, call.path
    in_calendar(path.day, "day", path.day.isoformat())
    database = call.database()
    if call.query.version is not None:
        site = await _site_of_line(database, tenant, path.line)
        key = (tenant, site, path.line, path.day)
        found = await production.stored(reports, database, key, call.query.version)
        return _file(kind, path.line, path.day, found, call.query)
    figures = await production.line_figures(reports, database, tenant, path.line, path.day)
    latest = await production.produce_line(reports, database, tenant, figures)
    if latest is not None:
        return _file(kind, path.line, path.day, latest, call.query)
    now = reports.clock()
    content = (
        line_pdf(figures, tenant=tenant, produced_at=now)
        if kind == "pdf"
        else line_csv(figures, tenant=tenant, produced_at=now).encode()
    )
    return _provisional(kind, path.line, path.day, content)


async def _site_report(deps: ApiDeps, call: SiteCall, kind: Kind) -> File:
    reports, tenant, path = _reports(deps), call.caller.tenant, call.path
    in_calendar(path.day, "day", path.day.isoformat())
    database = call.database()
    if call.query.version is not None:
        await _require_site(database, tenant, path.site)
        key = (tenant, path.site, None, path.day)
        found = await production.stored(reports, database, key, call.query.version)
        return _file(kind, path.site, path.day, found, call.query)
    figures = await production.site_figures(reports, database, tenant, path.site, path.day)
    latest = await production.produce_site(reports, database, tenant, figures)
    if latest is not None:
        return _file(kind, path.site, path.day, latest, call.query)
    now, (site, lines) = reports.clock(), figures
    content = (
        site_pdf(site, lines, tenant=tenant, produced_at=now)
        if kind == "pdf"
        else site_csv(site, lines, tenant=tenant, produced_at=now).encode()
    )
    return _provisional(kind, path.site, path.day, content)


async def line_report_pdf(deps: ApiDeps, call: LineCall) -> File:
    return await _line_report(deps, call, "pdf")


async def line_report_csv(deps: ApiDeps, call: LineCall) -> File:
    return await _line_report(deps, call, "csv")


async def site_report_pdf(deps: ApiDeps, call: SiteCall) -> File:
    return await _site_report(deps, call, "pdf")


async def site_report_csv(deps: ApiDeps, call: SiteCall) -> File:
    return await _site_report(deps, call, "csv")


async def _versions(
    deps: ApiDeps, database: ScopedDatabase, key: tuple[str, str, str | None, date]
) -> list[ReportVersion]:
    async def read(tx: Tx) -> list[ReportVersion]:
        rows = await _reports(deps).store.versions(tx, *key)
        return [
            ReportVersion(version=r.version, produced_at=r.produced_at,
                          completeness=r.completeness, figures_digest=r.figures_digest.hex())
            for r in rows
        ]  # fmt: skip

    return await database.transaction(read, readonly=True)


async def line_report_versions(
    deps: ApiDeps, call: Call[TenantCaller, LineReportPath]
) -> ReportVersions:
    tenant, path, database = call.caller.tenant, call.path, call.database()
    site = await _site_of_line(database, tenant, path.line)
    found = await _versions(deps, database, (tenant, site, path.line, path.day))
    return ReportVersions(site=site, line=path.line, day=path.day, versions=found)


async def site_report_versions(
    deps: ApiDeps, call: Call[TenantCaller, SiteReportPath]
) -> ReportVersions:
    tenant, path, database = call.caller.tenant, call.path, call.database()
    await _require_site(database, tenant, path.site)
    found = await _versions(deps, database, (tenant, path.site, None, path.day))
    return ReportVersions(site=path.site, line=None, day=path.day, versions=found)
