"""The registry's SQL. Writes are upserts, so provisioning the same fleet twice is harmless."""

from __future__ import annotations

from datetime import time

import msgspec

from tally.sdk import command, query


@command(
    """
    INSERT INTO tenants (tenant, name, rate_per_second, retention_days) VALUES ($1, $2, $3, $4)
    ON CONFLICT (tenant) DO UPDATE SET name = excluded.name,
        rate_per_second = excluded.rate_per_second, retention_days = excluded.retention_days
    """
)
def upsert_tenant(tenant: str, name: str, rate_per_second: int, retention_days: int) -> None: ...


@command(
    """
    INSERT INTO sites (tenant, site, name, timezone, day_start) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (tenant, site) DO UPDATE SET name = excluded.name,
        timezone = excluded.timezone, day_start = excluded.day_start
    """
)
def upsert_site(tenant: str, site: str, name: str, timezone: str, day_start: time) -> None: ...


@command(
    """
    INSERT INTO lines (tenant, line, site, name) VALUES ($1, $2, $3, $4)
    ON CONFLICT (tenant, line) DO UPDATE SET site = excluded.site, name = excluded.name
    """
)
def upsert_line(tenant: str, line: str, site: str, name: str) -> None: ...


@command(
    """
    INSERT INTO machines (tenant, machine, line, kind, position, state_model, counter_rollover,
                          max_rate_ppm)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (tenant, machine) DO UPDATE SET line = excluded.line, kind = excluded.kind,
        position = excluded.position, state_model = excluded.state_model,
        counter_rollover = excluded.counter_rollover, max_rate_ppm = excluded.max_rate_ppm
    """
)
def upsert_machine(
    tenant: str,
    machine: str,
    line: str,
    kind: str,
    position: int,
    state_model: str,
    counter_rollover: int,
    max_rate_ppm: float | None,
) -> None: ...


# A machine's first line holds since always; another line than the one it stands on now is a
# move from now on.
@command(
    """
    INSERT INTO machine_lines (tenant, machine, valid_from, line)
    SELECT $1, $2,
        CASE WHEN EXISTS (SELECT FROM machine_lines WHERE tenant = $1 AND machine = $2)
             THEN now() ELSE '-infinity'::timestamptz END,
        $3
    WHERE (
        SELECT line FROM machine_lines
        WHERE tenant = $1 AND machine = $2 AND valid_from <= now()
        ORDER BY valid_from DESC LIMIT 1
    ) IS DISTINCT FROM $3
    ON CONFLICT (tenant, machine, valid_from) DO UPDATE SET line = excluded.line
    """
)
def record_membership(tenant: str, machine: str, line: str) -> None: ...


@command(
    """
    INSERT INTO articles (tenant, article, name, nominal_g, t1_g, t2_g, ideal_rate_ppm,
                          price_per_kg)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (tenant, article) DO UPDATE SET name = excluded.name,
        nominal_g = excluded.nominal_g, t1_g = excluded.t1_g, t2_g = excluded.t2_g,
        ideal_rate_ppm = excluded.ideal_rate_ppm, price_per_kg = excluded.price_per_kg
    """
)
def upsert_article(
    tenant: str,
    article: str,
    name: str,
    nominal_g: float | None,
    t1_g: float | None,
    t2_g: float | None,
    ideal_rate_ppm: float,
    price_per_kg: float,
) -> None: ...


# An article's first values hold since always; values other than those in force now are a new
# version from now on.
@command(
    """
    INSERT INTO article_versions
        (tenant, article, valid_from, nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg)
    SELECT $1, $2,
        CASE WHEN EXISTS (SELECT FROM article_versions WHERE tenant = $1 AND article = $2)
             THEN now() ELSE '-infinity'::timestamptz END,
        $3, $4, $5, $6, $7
    WHERE NOT EXISTS (
        SELECT FROM (
            SELECT nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg FROM article_versions
            WHERE tenant = $1 AND article = $2 AND valid_from <= now()
            ORDER BY valid_from DESC LIMIT 1
        ) v
        WHERE (v.nominal_g, v.t1_g, v.t2_g, v.ideal_rate_ppm, v.price_per_kg)
            IS NOT DISTINCT FROM ($3::numeric(10, 1), $4::numeric(10, 1), $5::numeric(10, 1),
                                  $6::numeric(8, 2), $7::numeric(10, 2))
    )
    ON CONFLICT (tenant, article, valid_from) DO UPDATE SET nominal_g = excluded.nominal_g,
        t1_g = excluded.t1_g, t2_g = excluded.t2_g, ideal_rate_ppm = excluded.ideal_rate_ppm,
        price_per_kg = excluded.price_per_kg
    """
)
def record_article_version(
    tenant: str,
    article: str,
    nominal_g: float | None,
    t1_g: float | None,
    t2_g: float | None,
    ideal_rate_ppm: float,
    price_per_kg: float,
) -> None: ...


@command("INSERT INTO machine_tokens (token_sha256, tenant, machine) VALUES ($1, $2, $3)")
def insert_token(token_sha256: bytes, tenant: str, machine: str) -> None: ...


@command(
    """
    UPDATE machine_tokens SET revoked_at = now()
    WHERE tenant = $1 AND machine = $2 AND revoked_at IS NULL
    """
)
def revoke_tokens(tenant: str, machine: str) -> None: ...


class MachineRow(msgspec.Struct, frozen=True):
    machine: str
    line: str
    site: str
    kind: str


@query(
    MachineRow,
    """
    SELECT m.machine, m.line, l.site, m.kind
    FROM machines m JOIN lines l USING (tenant, line)
    WHERE m.tenant = $1
    ORDER BY l.site, m.line, m.position, m.machine
    """,
)
def machines_of_tenant(tenant: str) -> None: ...
