"""The stored versions of the daily reports: produce a day's report when its figures are new,
keep every earlier version, serve any of them.

    store = ReportStore()
    await store.produce_line(scoped, tenant, line_day, now)   # → 1, 2, ... or None (unchanged)
    await store.produce_site(scoped, tenant, site_day, line_days, now)
    await store.file(tx, tenant, site, line, day, version=None)   # the latest, or version N

A version is made only when the digest of the day's figures (SHA-256 of their canonical JSON)
differs from the latest version's: running the same day again changes nothing. Producing runs in
one serializable transaction (read the latest, render, insert), so two processes that produce
the same day at once make one version, the other's transaction retried and finding it there.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import msgspec

from tally.contracts.figures import LineDay, SiteDay
from tally.reports import _queries as sql
from tally.reports._csv_layout import line_csv, site_csv
from tally.reports._line_report import line_pdf, site_pdf
from tally.sdk import ScopedDatabase, Tx

Render = Callable[[int, datetime], tuple[bytes, str]]


@dataclass(frozen=True)
class StoredFile:
    version: int
    pdf: bytes
    csv: str


def figures_digest(*figures: msgspec.Struct | Sequence[msgspec.Struct]) -> bytes:
    """SHA-256 of the figures' JSON with sorted keys: equal figures, equal digest."""
    return hashlib.sha256(msgspec.json.encode(figures, order="sorted")).digest()


def site_completeness(site: SiteDay) -> float:
    return min((line.completeness for line in site.lines), default=0.0)


class ReportStore:
    """Produces and reads the stored versions; see the module docstring."""

    async def produce_line(
        self, database: ScopedDatabase, tenant: str, day: LineDay, now: datetime
    ) -> int | None:
        """Store a new version of the line's day if its figures changed; its number, or None."""

        def render(version: int, at: datetime) -> tuple[bytes, str]:
            return (
                line_pdf(day, tenant=tenant, produced_at=at, version=version),
                line_csv(day, tenant=tenant, produced_at=at, version=version),
            )

        key = (tenant, day.site, day.line, day.day)
        return await self._produce(
            database, key, figures_digest(day), day.completeness.fraction, render, now
        )

    async def produce_site(
        self,
        database: ScopedDatabase,
        tenant: str,
        site: SiteDay,
        lines: Sequence[LineDay],
        now: datetime,
    ) -> int | None:
        """Store a new version of the site's day if its figures (or any line's) changed."""

        def render(version: int, at: datetime) -> tuple[bytes, str]:
            return (
                site_pdf(site, lines, tenant=tenant, produced_at=at, version=version),
                site_csv(site, lines, tenant=tenant, produced_at=at, version=version),
            )

        key = (tenant, site.site, None, site.day)
        digest = figures_digest(site, list(lines))
        return await self._produce(database, key, digest, site_completeness(site), render, now)

    async def _produce(
        self,
        database: ScopedDatabase,
        key: tuple[str, str, str | None, date],
        digest: bytes,
        completeness: float,
        render: Render,
        now: datetime,
    ) -> int | None:
        async def work(tx: Tx) -> int | None:
            latest = await tx.fetch_optional(sql.latest_version(*key))
            if latest is not None and latest.figures_digest == digest:
                return None
            version = 1 if latest is None else latest.version + 1
            # fpdf2 is pure Python: in a thread, the event loop still answers requests.
            pdf, csv = await asyncio.to_thread(render, version, now)
            await tx.execute(sql.insert_report(*key, version, now, digest, completeness, pdf, csv))
            return version

        result: int | None = await database.transaction(work, isolation="serializable")
        return result

    async def versions(
        self, tx: Tx, tenant: str, site: str, line: str | None, day: date
    ) -> list[sql.VersionRow]:
        return await tx.fetch(sql.versions(tenant, site, line, day))

    async def file(
        self, tx: Tx, tenant: str, site: str, line: str | None, day: date, version: int | None
    ) -> StoredFile | None:
        row = await tx.fetch_optional(sql.report_file(tenant, site, line, day, version))
        return None if row is None else StoredFile(row.version, row.pdf, row.csv)
