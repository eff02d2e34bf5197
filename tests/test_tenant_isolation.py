"""No application role reaches another tenant's rows: every table and partition, read from the
catalogue, so a table added later is covered without touching this file.

Two tenants' rows are written as the owner; then each application login role, with no tenant
set and with the other tenant set, must see none of tenant A's rows (or be refused), change
none of them, add none for it, and be refused at every partition. Every table with a `tenant`
column must have row-level security enabled and forced, with the tenant policy.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import pytest

from tally.sdk.testing import LoginUrl

pytestmark = pytest.mark.integration

if TYPE_CHECKING:  # asyncpg's classes are generic only in its stubs
    Connection = asyncpg.Connection[asyncpg.Record]

# Tables with a `tenant` column that may go without row-level security, and why. None may:
# even the expiry marks, which only a SECURITY DEFINER function touches, carry the policy.
EXEMPT_FROM_ROW_LEVEL_SECURITY: dict[str, str] = {}

# The raw tables, into which the recorder (tally_ingest, BYPASSRLS because PostgreSQL refuses
# COPY under row-level security) writes every tenant's rows: the one trusted multi-tenant
# writer. It may add rows for any tenant there — and only there, and only through the parents.
RAW_TABLES = frozenset(
    {
        "telemetry_messages",
        "counter_samples",
        "gauge_samples",
        "state_changes",
        "weighings",
        "alarms",
        "context_events",
    }
)
INGEST_ROLE = "tally_ingest"

# The roles the services log in as (their `Service.database_role`); the catalogue may add more.
SERVICE_ROLES = frozenset({"tally_app", "tally_gateway", "tally_ingest"})

_SEED = (
    "INSERT INTO tenants (tenant, name) VALUES ($1, $1)",
    "INSERT INTO sites (tenant, site, name, timezone) VALUES ($1, 'p1', 'Plant', 'Europe/Berlin')",
    "INSERT INTO lines (tenant, line, site, name) VALUES ($1, 'l1', 'p1', 'Line')",
    "INSERT INTO machines (tenant, machine, line, kind) VALUES ($1, 'cw-1', 'l1', 'checkweigher')",
    "INSERT INTO articles (tenant, article, name, nominal_g, t1_g, t2_g, ideal_rate_ppm)"
    " VALUES ($1, 'salami-100', 'Salami', 100, 95.5, 91, 120)",
    "INSERT INTO machine_tokens (token_sha256, tenant, machine)"
    " VALUES (sha256(convert_to($1, 'UTF8')), $1, 'cw-1')",
    "INSERT INTO tally_expiry_marks (tenant, trimmed_before) VALUES ($1, DATE '2000-01-01')",
    "INSERT INTO site_plans (tenant, site, valid_from, plan)"
    " VALUES ($1, 'p1', DATE '2025-01-01', '{}')",
    "INSERT INTO figure_settings (tenant, state_rules, pack_counters) VALUES ($1, '[]', '{}')",
    "INSERT INTO machine_lines (tenant, machine, valid_from, line)"
    " VALUES ($1, 'cw-1', '-infinity', 'l1')",
    "INSERT INTO article_versions (tenant, article, valid_from, nominal_g, t1_g, t2_g,"
    " ideal_rate_ppm) VALUES ($1, 'salami-100', '-infinity', 100, 95.5, 91, 120)",
    "INSERT INTO users (tenant, email, name, role, password_hash)"
    " VALUES ($1, 'ana@example.com', 'Ana', 'admin', '$argon2id$v=19$m=65536,t=3,p=4$x$y')",
    "INSERT INTO user_sessions (session_sha256, tenant, email, csrf_token, expires_at)"
    " VALUES (sha256(convert_to($1, 'UTF8')), $1, 'ana@example.com', 'c', now() + interval '1h')",
    "INSERT INTO api_keys (key_id, tenant, name, role, secret_sha256, created_by)"
    " VALUES (substr(md5($1), 1, 16), $1, 'ERP', 'viewer', sha256(convert_to($1, 'UTF8')), 'x')",
    "INSERT INTO telemetry_messages (tenant, machine, boot_id, seq, ts, historical, signals)"
    " VALUES ($1, 'cw-1', 'b1', 1, $2, false, 6)",
    "INSERT INTO counter_samples (tenant, machine, name, ts, value, boot_id, seq)"
    " VALUES ($1, 'cw-1', 'packs_total', $2, 1, 'b1', 1)",
    "INSERT INTO gauge_samples (tenant, machine, name, ts, value, unit)"
    " VALUES ($1, 'cw-1', 'speed', $2, 118.5, 'ppm')",
    "INSERT INTO state_changes (tenant, machine, ts, name, model, mode)"
    " VALUES ($1, 'cw-1', $2, 'Execute', 'packml', 'production')",
    "INSERT INTO weighings (tenant, machine, ts, article, net_g, accepted, zone)"
    " VALUES ($1, 'cw-1', $2, 'salami-100', 101.5, true, 2)",
    "INSERT INTO alarms (tenant, machine, ts, code, raised, category, first_out)"
    " VALUES ($1, 'cw-1', $2, 'E17', true, 'equipment', true)",
    "INSERT INTO context_events (tenant, machine, ts, event, article)"
    " VALUES ($1, 'cw-1', $2, 'article', 'salami-100')",
    "INSERT INTO rollup_machine_minutes (tenant, machine, minute, line, site, production_day,"
    " hour_start, hour_end, hour_label, packs_total, packs_good, packs_in_ppt, good_in_ppt, "
    "suspect_packs, ideal_seconds, planned_seconds, excluded_seconds, running_seconds, "
    "micro_seconds, micro_stops, no_data_seconds, no_data_planned_seconds, category, "
    "state_seconds, mode_seconds, category_seconds, losses) VALUES ($1, 'cw-1', "
    "date_trunc('minute', $2::timestamptz), 'l1', 'p1', CURRENT_DATE, date_trunc('hour', "
    "$2::timestamptz), date_trunc('hour', $2::timestamptz) + interval '1h', 'h', 2, 2, 2, 2, "
    "0, 1, 60, 0, 60, 0, 0, 0, 0, 'running', '{}', '{}', '{}', '{}')",
    "INSERT INTO rollup_machine_periods (tenant, machine, grain, period_start, period_end, "
    "production_day, label, line, site, packs_total, packs_good, packs_in_ppt, good_in_ppt, "
    "suspect_packs, ideal_seconds, planned_seconds, excluded_seconds, running_seconds, "
    "micro_seconds, micro_stops, no_data_seconds, no_data_planned_seconds, state_seconds, "
    "mode_seconds, category_seconds, losses) VALUES ($1, 'cw-1', 'hour', date_trunc('hour', "
    "$2::timestamptz), date_trunc('hour', $2::timestamptz) + interval '1h', CURRENT_DATE, "
    "'h', 'l1', 'p1', 2, 2, 2, 2, 0, 1, 60, 0, 60, 0, 0, 0, 0, '{}', '{}', '{}', '{}')",
    "INSERT INTO rollup_line_periods (tenant, line, grain, period_start, period_end, "
    "production_day, label, site, packs_total, packs_good, ppt_seconds, run_seconds, "
    "micro_seconds, ideal_seconds, planned_seconds, no_data_planned_seconds, losses) VALUES "
    "($1, 'l1', 'hour', date_trunc('hour', $2::timestamptz), date_trunc('hour', "
    "$2::timestamptz) + interval '1h', CURRENT_DATE, 'h', 'p1', 2, 2, 60, 60, 0, 1, 60, 0, "
    "'{}')",
    'INSERT INTO rollup_stops (tenant, machine, start, "end", production_day, line, seconds, '
    "planned_seconds, category) VALUES ($1, 'cw-1', $2, $2::timestamptz + interval '5 min', "
    "CURRENT_DATE, 'l1', 300, 300, 'equipment')",
    "INSERT INTO rollup_suspects (tenant, machine, counter, ts, previous_ts, amount) VALUES "
    "($1, 'cw-1', 'packs_total', $2, $2::timestamptz - interval '1 s', 100000)",
    "INSERT INTO weighing_lots (tenant, machine, article, hour_start, hour_end, local_hour, "
    "utc_offset_minutes, catch_weight, nominal_dg, t1_dg, t2_dg, packs, accepted, rejected, "
    "rejects_by_reason, net_dg, net_sq_dg, min_dg, max_dg, fixed_accepted, below_t1, "
    "below_t2, declared_dg, giveaway_dg, giveaway_micros, hist_bin_dg, hist_bins, "
    "hist_accepted, hist_rejected) VALUES ($1, 'cw-1', 'salami-100', date_trunc('hour', "
    "$2::timestamptz), date_trunc('hour', $2::timestamptz) + interval '1h', "
    "date_trunc('hour', $2::timestamptz)::timestamp, 0, false, 1000, 955, 910, 1, 1, 0, '{}',"
    " 1015, 1030225, 1015, 1015, 1, 0, 0, 1000, 15, 0, 5, '{1015}', '{1}', '{0}')",
    "INSERT INTO reports (tenant, site, line, day, version, produced_at, figures_digest,"
    " completeness, pdf, csv) VALUES ($1, 'p1', 'l1', DATE '2026-03-02', 1, $2,"
    " sha256('figures'), 1.0, '%PDF-', 'report')",
)

_TENANT_TABLES = """
SELECT c.relname AS name, c.relispartition AS partition, c.relrowsecurity AS enabled,
       c.relforcerowsecurity AS forced,
       EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid
               AND pg_get_expr(p.polqual, p.polrelid) LIKE '%tally.tenant%'
               AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%tally.tenant%') AS policed
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


@dataclass(frozen=True)
class Table:
    name: str
    partition: bool
    enabled: bool
    forced: bool
    policed: bool


@pytest.fixture
async def owner(fresh_database_url: str) -> AsyncIterator[Connection]:
    connection = await asyncpg.connect(fresh_database_url)
    yield connection
    await connection.close()


async def seeded(owner: Connection) -> tuple[str, str, list[Table]]:
    """Two tenants' rows in every tenant table (today's partitions included); the tables."""
    today = datetime.now(UTC).date()
    await owner.execute("SELECT tally_ensure_partitions($1::date - 1, $1::date + 1)", today)
    a, b = f"a{secrets.token_hex(4)}", f"b{secrets.token_hex(4)}"
    for tenant in (a, b):
        for statement in _SEED:
            arguments = (tenant, datetime.now(UTC)) if "$2" in statement else (tenant,)
            await owner.execute(statement, *arguments)
    tables = [Table(**dict(row)) for row in await owner.fetch(_TENANT_TABLES)]
    return a, b, tables


async def application_roles(owner: Connection) -> set[str]:
    rows = await owner.fetch(
        "SELECT rolname FROM pg_roles"
        " WHERE rolcanlogin AND NOT rolsuper AND rolname LIKE 'tally\\_%'"
    )
    return {row["rolname"] for row in rows}


async def test_every_tenant_table_and_partition_has_forced_row_level_security(
    owner: Connection,
) -> None:
    _, _, tables = await seeded(owner)
    assert {t.name for t in tables} >= RAW_TABLES | {"tenants", "machine_tokens"}
    assert any(t.partition for t in tables), "the test must see partitions"
    unprotected = [
        f"{t.name} (enabled={t.enabled}, forced={t.forced}, tenant policy={t.policed})"
        for t in tables
        if t.name not in EXEMPT_FROM_ROW_LEVEL_SECURITY
        and not (t.enabled and t.forced and t.policed)
    ]
    assert unprotected == []


async def test_a_new_table_is_private_until_a_migration_grants_it(owner: Connection) -> None:
    name = f"probe_{secrets.token_hex(4)}"
    await owner.execute(f"CREATE TABLE {name} (tenant text, id serial)")
    roles = await application_roles(owner)
    assert roles >= SERVICE_ROLES
    granted = await owner.fetch(
        """
        SELECT r.rolname, c.relname FROM pg_roles r, pg_class c
        WHERE r.rolname = ANY($1::text[]) AND c.relname IN ($2, $3)
          AND (has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE,
                                                  REFERENCES, TRIGGER')
               OR (c.relkind = 'S' AND has_sequence_privilege(r.oid, c.oid, 'USAGE, SELECT')))
        """,
        sorted(roles),
        name,
        f"{name}_id_seq",
    )
    assert [tuple(row) for row in granted] == []


async def test_no_application_role_reaches_another_tenants_rows(
    owner: Connection, fresh_database_url: str, login_url: LoginUrl
) -> None:
    a, b, tables = await seeded(owner)
    for table in tables:
        if not table.partition:
            held = await owner.fetchval(
                f"SELECT count(DISTINCT tenant) FROM {table.name} WHERE tenant IN ($1, $2)", a, b
            )
            assert held == 2, f"add rows of both tenants for {table.name} to _SEED"
    rows = {
        t.name: await owner.fetchval(
            f"SELECT row_to_json(x)::text FROM {t.name} x WHERE tenant = $1 LIMIT 1", a
        )
        for t in tables
    }
    roles = await application_roles(owner)
    assert roles >= SERVICE_ROLES
    breaches: list[str] = []
    for role in sorted(roles):
        connection = await asyncpg.connect(login_url(fresh_database_url, role))
        try:
            assert await connection.fetchval("SELECT session_user") == role
            for table in tables:
                for scope in (None, b):
                    breaches += await _breaches(connection, role, table, scope, a, rows[table.name])
        finally:
            await connection.close()
    assert breaches == []


_WRITABLE_COLUMNS = """
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
"""


async def _breaches(
    connection: Connection, role: str, table: Table, scope: str | None, a: str, row: str | None
) -> list[str]:
    """What `role` managed to do to tenant `a`'s rows of `table` with tenant `scope` set."""
    name = table.name
    attempts = {
        "SELECT": f"SELECT count(*) FROM {name} WHERE tenant = $1",
        "UPDATE": f"UPDATE {name} SET tenant = tenant WHERE tenant = $1",
        "DELETE": f"DELETE FROM {name} WHERE tenant = $1",
        "TRUNCATE": f"TRUNCATE {name}",
    }
    if row is not None and not (role == INGEST_ROLE and name in RAW_TABLES):
        # Generated columns (weighing_lots.compliant) take no value of their own.
        columns = await connection.fetchval(_WRITABLE_COLUMNS, name)
        attempts["INSERT"] = (
            f"INSERT INTO {name} ({columns}) SELECT {columns}"
            f" FROM json_populate_record(NULL::{name}, $1::json)"
        )
    found = []
    for operation, sql in attempts.items():
        outcome = await _attempt(connection, sql, scope, a, row)
        # At a partition, anything but a refusal is a breach: access goes through the parent.
        refused_only = table.partition or operation in ("INSERT", "TRUNCATE")
        if outcome != "refused" and (refused_only or outcome not in ("0", "UPDATE 0", "DELETE 0")):
            found.append(f"{role} (tenant {scope}) {operation} {name}: {outcome}")
    return found


async def _attempt(
    connection: Connection, sql: str, scope: str | None, a: str, row: str | None
) -> str:
    transaction = connection.transaction()
    await transaction.start()
    try:
        if scope is not None:
            await connection.execute("SELECT set_config('tally.tenant', $1, true)", scope)
        if sql.startswith("SELECT"):
            return str(await connection.fetchval(sql, a))
        if sql.startswith("TRUNCATE"):
            return await connection.execute(sql)
        return await connection.execute(sql, row if sql.startswith("INSERT") else a)
    except asyncpg.InsufficientPrivilegeError:
        return "refused"
    except asyncpg.PostgresError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await transaction.rollback()


async def test_the_login_limits_are_reached_only_through_their_functions(
    owner: Connection,
) -> None:
    # login_failures spans tenants (an address trying many), so it has no tenant column and no
    # policy: no application role may touch it but through 0011's SECURITY DEFINER functions.
    roles = await application_roles(owner)
    granted = await owner.fetch(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) AND has_table_privilege("
        "oid, 'login_failures', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')",
        sorted(roles),
    )
    assert [row["rolname"] for row in granted] == []
