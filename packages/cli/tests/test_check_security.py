"""Tenant isolation and least privilege: planted faults in a migration fail with the rule.

The faults go into one extra migration over db/migrations, migrated into a scratch database once
for the module; each test reads the errors about its own fault.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tally.cli.checks._grants import ROLE_GRANTS, Grants
from tally.cli.checks._outcome import Outcome
from tally.cli.checks._schema_facts import Policy, Relation, SchemaFacts
from tally.cli.checks._security import check_security
from tally.cli.checks._sql import inspect_on, read_sql_lock
from tally.sdk import Endpoints

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "db" / "migrations"
DECLARED = "packages/cli/src/tally/cli/checks/_grants.py"

PLANTED = """
-- A new tenant table, forgotten by row-level security.
CREATE TABLE shift_notes (tenant text NOT NULL, note text NOT NULL);
GRANT SELECT, INSERT ON shift_notes TO tally_app;

-- One that has it, but is not forced, and one whose policy lets every row through.
CREATE TABLE downtime_reasons (tenant text NOT NULL, reason text NOT NULL);
ALTER TABLE downtime_reasons ENABLE ROW LEVEL SECURITY;
CREATE POLICY everything ON downtime_reasons USING (true);
CREATE TABLE order_notes (tenant text NOT NULL, note text NOT NULL);
ALTER TABLE order_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY everything ON order_notes USING (true);

-- A grant nobody declared: the api may now delete raw data.
GRANT DELETE ON weighings TO tally_app;

-- A partition made by hand, and granted: queried directly it checks no policy of its parent.
CREATE TABLE alarms_19991231 PARTITION OF alarms
    FOR VALUES FROM ('1999-12-31 00:00+00') TO ('2000-01-01 00:00+00');
SELECT tally_secure_partition('alarms_19991231');
GRANT SELECT ON alarms_19991231 TO tally_app;

-- A view of tenant rows with its owner's rights, and a partitioned table nobody declared.
CREATE VIEW recent_alarms AS SELECT tenant, machine, ts FROM alarms;
CREATE TABLE rollups (tenant text NOT NULL, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT tally_tenant_policy('rollups');
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, tally_endpoints: Endpoints) -> SchemaFacts:
    migrations = tmp_path_factory.mktemp("planted") / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    number = len(list(migrations.glob("*.sql"))) + 1
    (migrations / f"{number:04d}_planted_faults.sql").write_text(PLANTED)
    return asyncio.run(inspect_on(tally_endpoints.database_url, [], migrations)).security


@pytest.fixture(scope="module")
def outcome(planted: SchemaFacts) -> Outcome:
    return check_security(ROOT, planted)


def errors_about(outcome: Outcome, text: str) -> list[str]:
    return [e for e in outcome.errors if text in e]


@pytest.mark.integration
def test_a_new_tenant_table_without_row_level_security_is_named(outcome: Outcome) -> None:
    assert errors_about(outcome, "table shift_notes has") == [
        "table shift_notes has a tenant column but row-level security is not enabled; not "
        "forced (its owner would skip the policy); it has no policy [rule: tenant tables have "
        "row-level security]; SELECT tally_tenant_policy('shift_notes') in a migration, or "
        "list it in RLS_EXEMPT with the reason"
    ]


@pytest.mark.integration
def test_row_level_security_must_be_forced_and_its_policies_compare_the_tenant(
    outcome: Outcome,
) -> None:
    [unforced] = errors_about(outcome, "table downtime_reasons has")
    assert "not forced" in unforced
    assert "policy everything lets rows through without comparing" in unforced
    [open_policy] = errors_about(outcome, "table order_notes has")
    assert "not forced" not in open_policy
    assert "policy everything lets rows through" in open_policy


@pytest.mark.integration
def test_a_grant_nobody_declared_fails(outcome: Outcome) -> None:
    assert errors_about(outcome, "table weighings grants") == [
        f"table weighings grants DELETE to tally_app, which ROLE_GRANTS ({DECLARED}) does not "
        "list [rule: no more grants than the roles need]; revoke it in a migration, or list "
        "it there if the role needs it"
    ]
    # The new tables' grants are undeclared too.
    assert errors_about(outcome, "table shift_notes grants INSERT, SELECT to tally_app")


@pytest.mark.integration
def test_a_granted_partition_fails(outcome: Outcome) -> None:
    assert errors_about(outcome, "partition alarms_19991231") == [
        "partition alarms_19991231 of alarms grants privileges to tally_app [rule: partitions "
        "are private]; roles reach it through its parent, where PostgreSQL checks privileges "
        "and the policy"
    ]
    # The partitions the upkeep makes are checked too, and pass.
    assert not errors_about(outcome, "alarms_20000101")


@pytest.mark.integration
def test_a_view_of_tenant_rows_must_run_with_its_callers_rights(outcome: Outcome) -> None:
    [error] = errors_about(outcome, "view recent_alarms")
    assert "runs with its owner's rights" in error
    assert "ALTER VIEW recent_alarms SET (security_invoker = true)" in error


@pytest.mark.integration
def test_a_partitioned_tenant_table_gets_its_partitions_from_the_upkeep(outcome: Outcome) -> None:
    [error] = errors_about(outcome, "partitioned table rollups")
    assert "[rule: partitions are made]" in error
    assert "tally_declare_partitioned('rollups')" in error


@pytest.mark.integration
def test_an_exemption_is_named_with_its_reason(planted: SchemaFacts) -> None:
    exempt = {"shift_notes": "free text the operators share across tenants (planted)"}
    outcome = check_security(ROOT, planted, exempt=exempt)
    assert not errors_about(outcome, "table shift_notes has")
    assert outcome.notes == [
        "shift_notes has no row-level security: free text the operators share across tenants "
        "(planted)"
    ]


def test_the_committed_schema_passes_and_so_declares_every_grant() -> None:
    lock = read_sql_lock(ROOT / "sql.lock.json")
    assert lock is not None
    assert lock.security is not None
    assert check_security(ROOT, lock.security).errors == []


def test_a_declared_grant_the_schema_lacks_fails() -> None:
    facts = SchemaFacts(relations={}, functions={})
    grants = {"tally_app": Grants(columns={"tenants(name, retention_days)": "SELECT"})}
    assert check_security(ROOT, facts, grants=grants).errors == [
        f"ROLE_GRANTS ({DECLARED}) lists SELECT on column tenants.{column} for tally_app, which "
        "the schema does not grant [rule: the declared grants are the schema's]; grant it in a "
        "migration, or remove it there"
        for column in ("name", "retention_days")
    ]


def test_a_stale_exemption_fails() -> None:
    lock = read_sql_lock(ROOT / "sql.lock.json")
    assert lock is not None
    assert lock.security is not None
    outcome = check_security(ROOT, lock.security, exempt={"tenants": "planted", "gone": "x"})
    assert [e.split(" is listed")[0] for e in outcome.errors] == ["gone", "tenants"]
    assert all("[rule: exemptions are current]" in e for e in outcome.errors)


@pytest.mark.parametrize(
    ("command", "using", "check", "isolates"),
    [
        ("*", "(tenant = current_setting('tally.tenant'::text, true))", None, True),
        ("*", "(tenant = current_setting('tally.tenant'::text, true))", "true", False),
        ("r", "(tenant = current_setting('tally.tenant'::text, true))", None, True),
        ("a", None, "true", False),
        ("w", "true", "(tenant = current_setting('tally.tenant'::text, true))", False),
    ],
)
def test_every_permissive_policy_compares_the_tenant_where_postgresql_applies_it(
    command: str, using: str | None, check: str | None, isolates: bool
) -> None:
    policy = Policy(name="p", command=command, permissive=True, using=using, check=check)
    table = Relation(kind="r", tenant=True, rls=True, forced=True, policies=[policy])
    facts = SchemaFacts(relations={"notes": table}, functions={})
    errors = check_security(ROOT, facts, grants={}).errors
    assert (errors == []) is isolates, errors


def test_the_declaration_names_only_roles_the_migrations_make() -> None:
    made = {"tally_app", "tally_ingest", "tally_gateway", "tally_rollup"}
    assert set(ROLE_GRANTS) == {*made, "PUBLIC"}
    text = "".join(path.read_text() for path in MIGRATIONS.glob("*.sql"))
    assert all(role in text for role in made)
