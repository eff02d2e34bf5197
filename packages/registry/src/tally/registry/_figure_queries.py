"""The registry's SQL for what the figures need: plans, settings, line memberships and article
versions (migration 0009), written by `Registry` and read whole per tenant by `SnapshotCache`.

Times of the history tables are read as epoch seconds (`float8`, '-infinity' since always);
weights as whole decigrams and prices as whole cents, so nothing downstream rounds a float.
"""

from __future__ import annotations

from datetime import date, datetime, time

import msgspec

from tally.sdk import command, query

# --- plans ---------------------------------------------------------------------------------


class DayStartRow(msgspec.Struct, frozen=True):
    day_start: time


@query(DayStartRow, "SELECT day_start FROM sites WHERE tenant = $1 AND site = $2")
def site_day_start(tenant: str, site: str) -> None: ...


class PlanRow(msgspec.Struct, frozen=True):
    site: str
    valid_from: date
    plan: str


@query(
    PlanRow,
    """
    SELECT site, valid_from, plan::text AS plan FROM site_plans
    WHERE tenant = $1 AND ($2::text IS NULL OR site = $2)
    ORDER BY site, valid_from
    """,
)
def plans_of_tenant(tenant: str, site: str | None) -> None: ...


@command(
    """
    INSERT INTO site_plans (tenant, site, valid_from, plan) VALUES ($1, $2, $3, $4::jsonb)
    ON CONFLICT (tenant, site, valid_from) DO UPDATE SET plan = excluded.plan
    """
)
def upsert_plan(tenant: str, site: str, valid_from: date, plan: str) -> None: ...


@command("DELETE FROM site_plans WHERE tenant = $1 AND site = $2 AND valid_from = $3")
def delete_plan(tenant: str, site: str, valid_from: date) -> None: ...


# --- line roles ----------------------------------------------------------------------------


class ExistsRow(msgspec.Struct, frozen=True):
    found: bool


@query(
    ExistsRow,
    "SELECT EXISTS (SELECT FROM machines WHERE tenant = $1 AND machine = $2) AS found",
)
def machine_exists(tenant: str, machine: str) -> None: ...


@query(
    ExistsRow,
    "SELECT EXISTS (SELECT FROM lines WHERE tenant = $1 AND line = $2) AS found",
)
def line_exists(tenant: str, line: str) -> None: ...


@command(
    """
    UPDATE lines SET constraint_machine = $3, end_of_line_machine = $4
    WHERE tenant = $1 AND line = $2
    """
)
def set_line_roles(
    tenant: str, line: str, constraint_machine: str | None, end_of_line_machine: str | None
) -> None: ...


# --- settings ------------------------------------------------------------------------------


class SettingsRow(msgspec.Struct, frozen=True):
    micro_stop_seconds: int
    gap_seconds: int
    changeover_is_loss: bool
    cleaning_is_loss: bool
    state_rules: str
    pack_counters: str
    good_counter: str


@query(
    SettingsRow,
    """
    SELECT micro_stop_seconds, gap_seconds, changeover_is_loss, cleaning_is_loss,
        state_rules::text AS state_rules, pack_counters::text AS pack_counters, good_counter
    FROM figure_settings WHERE tenant = $1
    """,
)
def settings_of_tenant(tenant: str) -> None: ...


@command(
    """
    INSERT INTO figure_settings (tenant, micro_stop_seconds, gap_seconds, changeover_is_loss,
        cleaning_is_loss, state_rules, pack_counters, good_counter)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)
    ON CONFLICT (tenant) DO UPDATE SET micro_stop_seconds = excluded.micro_stop_seconds,
        gap_seconds = excluded.gap_seconds, changeover_is_loss = excluded.changeover_is_loss,
        cleaning_is_loss = excluded.cleaning_is_loss, state_rules = excluded.state_rules,
        pack_counters = excluded.pack_counters, good_counter = excluded.good_counter
    """
)
def upsert_settings(
    tenant: str,
    micro_stop_seconds: int,
    gap_seconds: int,
    changeover_is_loss: bool,
    cleaning_is_loss: bool,
    state_rules: str,
    pack_counters: str,
    good_counter: str,
) -> None: ...


# --- line memberships ----------------------------------------------------------------------


@command(
    """
    INSERT INTO machine_lines (tenant, machine, valid_from, line)
    VALUES ($1, $2, coalesce($3::timestamptz, '-infinity'), $4)
    ON CONFLICT (tenant, machine, valid_from) DO UPDATE SET line = excluded.line
    """
)
def upsert_move(tenant: str, machine: str, valid_from: datetime | None, line: str) -> None: ...


@command(
    """
    DELETE FROM machine_lines
    WHERE tenant = $1 AND machine = $2 AND valid_from = coalesce($3::timestamptz, '-infinity')
    """
)
def delete_move(tenant: str, machine: str, valid_from: datetime | None) -> None: ...


# `machines.line` is where the machine stands now: its latest membership that has begun.
@command(
    """
    UPDATE machines m SET line = current.line
    FROM (
        SELECT line FROM machine_lines
        WHERE tenant = $1 AND machine = $2 AND valid_from <= now()
        ORDER BY valid_from DESC LIMIT 1
    ) current
    WHERE m.tenant = $1 AND m.machine = $2
    """
)
def sync_machine_line(tenant: str, machine: str) -> None: ...


class MembershipRow(msgspec.Struct, frozen=True):
    machine: str
    valid_from: float
    line: str


@query(
    MembershipRow,
    """
    SELECT machine, extract(epoch FROM valid_from)::float8 AS valid_from, line
    FROM machine_lines
    WHERE tenant = $1 AND ($2::text IS NULL OR machine = $2)
    ORDER BY machine, valid_from
    """,
)
def memberships_of_tenant(tenant: str, machine: str | None) -> None: ...


# --- article versions ----------------------------------------------------------------------


@command(
    """
    INSERT INTO article_versions
        (tenant, article, valid_from, nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg)
    VALUES ($1, $2, coalesce($3::timestamptz, '-infinity'), $4, $5, $6, $7, $8)
    ON CONFLICT (tenant, article, valid_from) DO UPDATE SET nominal_g = excluded.nominal_g,
        t1_g = excluded.t1_g, t2_g = excluded.t2_g, ideal_rate_ppm = excluded.ideal_rate_ppm,
        price_per_kg = excluded.price_per_kg
    """
)
def upsert_article_version(
    tenant: str,
    article: str,
    valid_from: datetime | None,
    nominal_g: float | None,
    t1_g: float | None,
    t2_g: float | None,
    ideal_rate_ppm: float,
    price_per_kg: float,
) -> None: ...


@command(
    """
    DELETE FROM article_versions
    WHERE tenant = $1 AND article = $2 AND valid_from = coalesce($3::timestamptz, '-infinity')
    """
)
def delete_article_version(tenant: str, article: str, valid_from: datetime | None) -> None: ...


# The `articles` row shows the version in force now.
@command(
    """
    UPDATE articles a SET nominal_g = v.nominal_g, t1_g = v.t1_g, t2_g = v.t2_g,
        ideal_rate_ppm = v.ideal_rate_ppm, price_per_kg = v.price_per_kg
    FROM (
        SELECT nominal_g, t1_g, t2_g, ideal_rate_ppm, price_per_kg FROM article_versions
        WHERE tenant = $1 AND article = $2 AND valid_from <= now()
        ORDER BY valid_from DESC LIMIT 1
    ) v
    WHERE a.tenant = $1 AND a.article = $2
    """
)
def sync_article(tenant: str, article: str) -> None: ...


class ArticleVersionRow(msgspec.Struct, frozen=True):
    article: str
    valid_from: float
    nominal_dg: int | None
    t1_dg: int | None
    t2_dg: int | None
    ideal_rate_ppm: float
    price_cents: int


@query(
    ArticleVersionRow,
    """
    SELECT article, extract(epoch FROM valid_from)::float8 AS valid_from,
        (nominal_g * 10)::int4 AS nominal_dg, (t1_g * 10)::int4 AS t1_dg,
        (t2_g * 10)::int4 AS t2_dg, ideal_rate_ppm::float8 AS ideal_rate_ppm,
        (price_per_kg * 100)::int8 AS price_cents
    FROM article_versions
    WHERE tenant = $1 AND ($2::text IS NULL OR article = $2)
    ORDER BY article, valid_from
    """,
)
def article_versions_of_tenant(tenant: str, article: str | None) -> None: ...


# --- the rest of a tenant's snapshot -------------------------------------------------------


class VersionRow(msgspec.Struct, frozen=True):
    version: int


@query(
    VersionRow,
    "SELECT coalesce((SELECT version FROM registry_versions WHERE tenant = $1), 0) AS version",
)
def registry_version(tenant: str) -> None: ...


class SiteRow(msgspec.Struct, frozen=True):
    site: str
    timezone: str
    day_start: time


@query(
    SiteRow,
    "SELECT site, timezone, day_start FROM sites WHERE tenant = $1 ORDER BY site",
)
def sites_of_tenant(tenant: str) -> None: ...


class LineRow(msgspec.Struct, frozen=True):
    line: str
    site: str
    constraint_machine: str | None
    end_of_line_machine: str | None


@query(
    LineRow,
    """
    SELECT line, site, constraint_machine, end_of_line_machine FROM lines
    WHERE tenant = $1 ORDER BY line
    """,
)
def lines_of_tenant(tenant: str) -> None: ...


class MachineSpecRow(msgspec.Struct, frozen=True):
    machine: str
    kind: str
    position: int
    state_model: str
    counter_rollover: int
    max_rate_ppm: float | None


@query(
    MachineSpecRow,
    """
    SELECT machine, kind, position::int4 AS position, state_model, counter_rollover,
        max_rate_ppm::float8 AS max_rate_ppm
    FROM machines WHERE tenant = $1 ORDER BY machine
    """,
)
def machine_specs_of_tenant(tenant: str) -> None: ...
