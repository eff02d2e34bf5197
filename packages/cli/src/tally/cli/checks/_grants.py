"""What each database role may do, object by object — the list a new GRANT must be added to.

`tally check` compares it with the privileges of the schema at the head of db/migrations: a
privilege the schema grants that is not listed here fails the check, and so does one listed
here that the schema does not grant. A new grant therefore shows in review twice, in its
migration and here, next to the reason the role needs it. Not listed, because rules cover them:
the owner of the schema (it owns everything), partitions (they grant nothing to anybody: roles
reach them through their parents), and trigger functions (nobody can call them directly).

Tables with a `tenant` column have row-level security, enabled and forced, with the tenant
policy; a table that may not is listed in `RLS_EXEMPT` with the reason, which the check prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Grants:
    """One role's privileges: `tables` and `functions` map a name (a function with its argument
    types, as `regprocedure` prints it) to its privileges ("SELECT, INSERT"); `columns` maps
    "table(column, ...)" to privileges on just those columns."""

    tables: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)


_REGISTRY = (
    "tenants",
    "sites",
    "lines",
    "machines",
    "articles",
    "machine_tokens",
    # The figures' inputs over time (0009).
    "site_plans",
    "figure_settings",
    "machine_lines",
    "article_versions",
    "registry_versions",
)
_RAW = (
    "telemetry_messages",
    "counter_samples",
    "gauge_samples",
    "state_changes",
    "weighings",
    "alarms",
    "context_events",
)
# The rollup's buckets (0012): replaced whole by the rollup, read by the api.
_ROLLUP = (
    "rollup_machine_minutes",
    "rollup_machine_periods",
    "rollup_line_periods",
    "rollup_stops",
    "rollup_suspects",
)
_SERIES_KEYS = ("tally_series_key(text,text,text)", "tally_machine_key(text,text)")
# The scheduler's claims and horizons (0010): platform bookkeeping of every service with a
# database, no tenant data; runs are inserted, renewed, finished and pruned.
# Users, sessions and API keys (0011): users and keys are disabled or revoked, never deleted;
# sessions end by deletion. The four functions answer what comes before the tenant is known
# (whose session, whose key) and keep the login limits, whose table nobody else may touch.
_ACCOUNTS = {
    "users": "SELECT, INSERT, UPDATE",
    "api_keys": "SELECT, INSERT, UPDATE",
    "user_sessions": "SELECT, INSERT, UPDATE, DELETE",
}
_ACCOUNT_FUNCTIONS = dict.fromkeys(
    (
        "tally_session(bytea,integer)",
        "tally_api_key(text)",
        "tally_login_wait(text[])",
        "tally_login_failed(text,integer,integer,integer)",
        "tally_login_succeeded(text)",
    ),
    "EXECUTE",
)
_SCHEDULES = dict.fromkeys(
    ("tally_schedule_runs", "tally_schedule_horizons"), "SELECT, INSERT, UPDATE, DELETE"
)
# The weighings' ℮ lots (0013): the api reads them; the rollup (tally_rollup, whose entry
# spreads this in) rewrites the lots a stored range touched — read, delete, insert, no update.
WEIGHING_LOTS_FOR_ROLLUP = {"weighing_lots": "SELECT, INSERT, DELETE"}

ROLE_GRANTS: Mapping[str, Grants] = {
    # The api and administration: the registry, and the raw data to read, under the policy.
    "tally_app": Grants(
        tables={
            **dict.fromkeys(_REGISTRY, "SELECT, INSERT, UPDATE, DELETE"),
            **dict.fromkeys(_RAW, "SELECT"),
            **dict.fromkeys(_ROLLUP, "SELECT"),
            **_SCHEDULES,
            **_ACCOUNTS,
            "weighing_lots": "SELECT",
            # The daily reports' versions (0014): read and added, never changed.
            "reports": "SELECT, INSERT",
        },
        functions={
            "tally_tenants()": "EXECUTE",
            **_ACCOUNT_FUNCTIONS,
            # Consumers with a ledger make the days of late data on demand (0010).
            "tally_ensure_partitions(date,date)": "EXECUTE",
            **dict.fromkeys(_SERIES_KEYS, "EXECUTE"),
        },
    ),
    # The recorder: adds raw rows (BYPASSRLS, for COPY), reads back only the identities its
    # ledger insert returns, and keeps the partitions.
    "tally_ingest": Grants(
        tables={**dict.fromkeys(_RAW, "INSERT"), **_SCHEDULES},
        columns={"telemetry_messages(machine, boot_id, seq)": "SELECT"},
        functions={
            "tally_ensure_partitions(date,date)": "EXECUTE",
            "tally_expire_datapoints(date)": "EXECUTE",
            **dict.fromkeys(_SERIES_KEYS, "EXECUTE"),
        },
    ),
    # The rollup: reads the raw rows it recomputes from (not gauges) and the registry, replaces
    # its buckets, makes the partitions of the days it writes; under the tenant policy.
    "tally_rollup": Grants(
        tables={
            **dict.fromkeys(tuple(t for t in _RAW if t != "gauge_samples"), "SELECT"),
            **dict.fromkeys(
                (
                    "tenants",
                    "sites",
                    "lines",
                    "machines",
                    "articles",
                    "site_plans",
                    "figure_settings",
                    "machine_lines",
                    "article_versions",
                    "registry_versions",
                ),
                "SELECT",
            ),
            **dict.fromkeys(_ROLLUP, "SELECT, INSERT, DELETE"),
            **WEIGHING_LOTS_FOR_ROLLUP,
            **_SCHEDULES,
        },
        functions={
            "tally_ensure_partitions(date,date)": "EXECUTE",
            "tally_tenants()": "EXECUTE",
            # Periods' seconds by state, mode, category and loss from their minutes'.
            "tally_jsonb_add(jsonb,jsonb)": "EXECUTE",
            "tally_jsonb_sum(jsonb)": "EXECUTE",
        },
    ),
    # The gateway: which machine has this token hash, nothing else.
    "tally_gateway": Grants(functions={"tally_authenticate(bytea)": "EXECUTE"}),
    # Everyone: PostgreSQL's default for a new function, left on two immutable hashes of names
    # that read no table.
    "PUBLIC": Grants(functions=dict.fromkeys(_SERIES_KEYS, "EXECUTE")),
}

# Tables (or views) with a `tenant` column that do not have row-level security, and why.
RLS_EXEMPT: Mapping[str, str] = {}
