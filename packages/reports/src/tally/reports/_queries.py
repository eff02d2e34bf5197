"""The SQL of the stored reports (db/migrations/0014_reports.sql). `line` is NULL for a site's
report, hence `IS NOT DISTINCT FROM`. Every statement names the tenant as well as running under
its row-level security."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from tally.sdk import command, query


class VersionRow(msgspec.Struct, frozen=True):
    version: int
    produced_at: datetime
    completeness: float
    figures_digest: bytes


class FileRow(msgspec.Struct, frozen=True):
    version: int
    pdf: bytes
    csv: str


_KEY = "tenant = $1 AND site = $2 AND line IS NOT DISTINCT FROM $3 AND day = $4"


@query(
    VersionRow,
    f"""
    SELECT version, produced_at, completeness, figures_digest FROM reports
    WHERE {_KEY} ORDER BY version DESC LIMIT 1
    """,
)
def latest_version(tenant: str, site: str, line: str | None, day: date) -> None: ...


@query(
    VersionRow,
    f"""
    SELECT version, produced_at, completeness, figures_digest FROM reports
    WHERE {_KEY} ORDER BY version
    """,
)
def versions(tenant: str, site: str, line: str | None, day: date) -> None: ...


@query(
    FileRow,
    f"""
    SELECT version, pdf, csv FROM reports
    WHERE {_KEY} AND ($5::integer IS NULL OR version = $5)
    ORDER BY version DESC LIMIT 1
    """,
)
def report_file(
    tenant: str, site: str, line: str | None, day: date, version: int | None
) -> None: ...


@command(
    """
    INSERT INTO reports (tenant, site, line, day, version, produced_at, figures_digest,
                         completeness, pdf, csv)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    """
)
def insert_report(
    tenant: str,
    site: str,
    line: str | None,
    day: date,
    version: int,
    produced_at: datetime,
    figures_digest: bytes,
    completeness: float,
    pdf: bytes,
    csv: str,
) -> None: ...
