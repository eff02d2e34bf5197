"""The API's reads of the registry (its writes are `tally.registry`'s). Every statement runs in
a transaction scoped to its tenant, so row-level security filters it as well as the SQL does.

numeric columns are read as float8: asyncpg returns numeric as Decimal, which JSON would carry
as a string.
"""

from __future__ import annotations

from datetime import time

import msgspec

from tally.sdk import query


class TenantRow(msgspec.Struct, frozen=True):
    tenant: str
    name: str
    rate_per_second: int
    retention_days: int


class SiteRow(msgspec.Struct, frozen=True):
    tenant: str
    site: str
    name: str
    timezone: str
    day_start: time


class LineRow(msgspec.Struct, frozen=True):
    tenant: str
    line: str
    site: str
    name: str


class MachineRow(msgspec.Struct, frozen=True):
    tenant: str
    machine: str
    line: str
    kind: str
    position: int
    state_model: str
    counter_rollover: int


class ArticleRow(msgspec.Struct, frozen=True):
    tenant: str
    article: str
    name: str
    nominal_g: float | None
    ideal_rate_ppm: float
    price_per_kg: float


@query(
    TenantRow,
    "SELECT tenant, name, rate_per_second, retention_days FROM tenants WHERE tenant = $1",
)
def tenant_by_id(tenant: str) -> None: ...


# Row-level security shows a transaction only its own tenant; tally_tenants (running with its
# owner's rights, db/migrations/0004_tenant_directory.sql) lists them all, and nothing below.
@query(
    TenantRow,
    "SELECT tenant, name, rate_per_second, retention_days FROM tally_tenants() ORDER BY tenant",
)
def all_tenants() -> None: ...


@query(
    SiteRow,
    "SELECT tenant, site, name, timezone, day_start FROM sites WHERE tenant = $1 ORDER BY site",
)
def sites_of_tenant(tenant: str) -> None: ...


@query(
    LineRow,
    "SELECT tenant, line, site, name FROM lines WHERE tenant = $1 ORDER BY site, line",
)
def lines_of_tenant(tenant: str) -> None: ...


@query(
    MachineRow,
    """
    SELECT tenant, machine, line, kind, position, state_model, counter_rollover
    FROM machines WHERE tenant = $1 ORDER BY line, position, machine
    """,
)
def machines_of_tenant(tenant: str) -> None: ...


@query(
    MachineRow,
    """
    SELECT tenant, machine, line, kind, position, state_model, counter_rollover
    FROM machines WHERE tenant = $1 AND machine = $2
    """,
)
def machine_by_id(tenant: str, machine: str) -> None: ...


@query(
    ArticleRow,
    """
    SELECT tenant, article, name, nominal_g::float8 AS nominal_g,
           ideal_rate_ppm::float8 AS ideal_rate_ppm, price_per_kg::float8 AS price_per_kg
    FROM articles WHERE tenant = $1 ORDER BY article
    """,
)
def articles_of_tenant(tenant: str) -> None: ...


class Exists(msgspec.Struct, frozen=True):
    found: bool


@query(Exists, "SELECT EXISTS (SELECT FROM sites WHERE tenant = $1 AND site = $2) AS found")
def site_exists(tenant: str, site: str) -> None: ...


@query(Exists, "SELECT EXISTS (SELECT FROM lines WHERE tenant = $1 AND line = $2) AS found")
def line_exists(tenant: str, line: str) -> None: ...


@query(Exists, "SELECT EXISTS (SELECT FROM machines WHERE tenant = $1 AND machine = $2) AS found")
def machine_exists(tenant: str, machine: str) -> None: ...


@query(Exists, "SELECT EXISTS (SELECT FROM articles WHERE tenant = $1 AND article = $2) AS found")
def article_exists(tenant: str, article: str) -> None: ...


# --- the figures' places: a tenant's sites and lines with their calendars' zone ------------


class PlaceRow(msgspec.Struct, frozen=True):
    """A line (or, with `line` and `line_name` null, a site without lines) and its site."""

    site: str
    site_name: str
    timezone: str
    day_start: time
    line: str | None
    line_name: str | None


@query(
    PlaceRow,
    """
    SELECT s.site, s.name AS site_name, s.timezone, s.day_start,
           l.line, l.name AS line_name
    FROM sites s LEFT JOIN lines l ON l.tenant = s.tenant AND l.site = s.site
    WHERE s.tenant = $1
    ORDER BY s.site, l.line
    """,
)
def places_of_tenant(tenant: str) -> None: ...


@query(
    PlaceRow,
    """
    SELECT s.site, s.name AS site_name, s.timezone, s.day_start,
           l.line, l.name AS line_name
    FROM sites s LEFT JOIN lines l ON l.tenant = s.tenant AND l.site = s.site
    WHERE s.tenant = $1 AND s.site = $2
    ORDER BY l.line
    """,
)
def places_of_site(tenant: str, site: str) -> None: ...


@query(
    PlaceRow,
    """
    SELECT s.site, s.name AS site_name, s.timezone, s.day_start,
           l.line, l.name AS line_name
    FROM lines l JOIN sites s ON s.tenant = l.tenant AND s.site = l.site
    WHERE l.tenant = $1 AND l.line = $2
    """,
)
def place_of_line(tenant: str, line: str) -> None: ...
