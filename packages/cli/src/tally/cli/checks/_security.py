"""Tenant isolation and least privilege, proven on the migrated schema's catalogue.

Rules, each named in its error:
- tenant tables have row-level security: every table and partition with a `tenant` column has
  it enabled and forced, and a policy; every permissive policy compares with the
  `tally.tenant` setting (one that does not would let every row through). A view with a
  `tenant` column runs with its caller's rights (`security_invoker`), so the tables' policies
  apply. Anything else with a `tenant` column must be listed in `RLS_EXEMPT` with the reason.
- no more grants than the roles need: the privileges the schema grants (tables, columns,
  functions; to anyone but the owner) are exactly `ROLE_GRANTS`;
- partitions are private: a partition grants nothing to anybody;
- partitions are made: a partitioned table with a `tenant` column gets partitions from the
  declared upkeep (otherwise theirs would go unchecked, and unwritten).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from pathlib import Path

from tally.cli.checks import _grants
from tally.cli.checks._grants import Grants
from tally.cli.checks._outcome import Outcome
from tally.cli.checks._schema_facts import Policy, Relation, SchemaFacts

# (object, grantee) → privileges; an object is "table x", "column x.c" or "function f(t)".
Privileges = dict[tuple[str, str], set[str]]

_TENANT_SETTING = "current_setting('tally.tenant'"
_TABLES = ("r", "p")
_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}


def check_security(
    root: Path,
    facts: SchemaFacts,
    grants: Mapping[str, Grants] = _grants.ROLE_GRANTS,
    exempt: Mapping[str, str] = _grants.RLS_EXEMPT,
) -> Outcome:
    """The schema's security against the rules and the declared grants."""
    declared = _declaration(root)
    outcome = Outcome(summary=f"{len(facts.relations)} relations, {len(facts.functions)} functions")
    for name, relation in facts.relations.items():
        outcome.errors.extend(_isolation(name, relation, exempt))
        if relation.partition_of is not None:
            outcome.errors.extend(_private_partition(name, relation))
    outcome.errors.extend(_unmade_partitions(facts))
    for name, reason in sorted(exempt.items()):
        listed = facts.relations.get(name)
        if listed is None or not listed.tenant or _isolated(listed):
            outcome.errors.append(
                f"{name} is listed in RLS_EXEMPT ({declared}) but is no table with a tenant "
                "column lacking row-level security [rule: exemptions are current]; remove it"
            )
        else:
            outcome.notes.append(f"{name} has no row-level security: {reason}")
    outcome.errors.extend(_compare(_granted(facts), _expected(grants), declared))
    return outcome


def _isolation(name: str, relation: Relation, exempt: Mapping[str, str]) -> list[str]:
    if not relation.tenant or name in exempt or _isolated(relation):
        return []
    kind = "partition" if relation.partition_of else _KINDS.get(relation.kind, "relation")
    fix = "list it in RLS_EXEMPT with the reason"
    if relation.kind in _TABLES:
        missing = [
            *(["row-level security is not enabled"] if not relation.rls else []),
            *(["not forced (its owner would skip the policy)"] if not relation.forced else []),
            *([] if relation.policies else ["it has no policy"]),
            *(f"policy {p.name} lets rows through without comparing with the tally.tenant "
              "setting" for p in relation.policies if not _tenant_policy(p)),
        ]  # fmt: skip
        what = "; ".join(missing)
        fix = f"SELECT tally_tenant_policy('{name}') in a migration, or {fix}"
    elif relation.kind == "v":
        what = "it runs with its owner's rights, past the tables' policies"
        fix = f"ALTER VIEW {name} SET (security_invoker = true), or {fix}"
    else:
        what = "it cannot have row-level security"
    return [
        f"{kind} {name} has a tenant column but {what} [rule: tenant tables have row-level "
        f"security]; {fix}"
    ]


def _isolated(relation: Relation) -> bool:
    if relation.kind == "v":
        return relation.security_invoker
    return (
        relation.kind in _TABLES
        and relation.rls
        and relation.forced
        and bool(relation.policies)
        and all(_tenant_policy(p) for p in relation.policies)
    )


def _tenant_policy(policy: Policy) -> bool:
    """A restrictive policy only narrows; a permissive one must compare with the tenant in
    what PostgreSQL applies: USING to rows read, changed or deleted, WITH CHECK (USING when
    omitted) to rows written."""
    if not policy.permissive:
        return True
    written = policy.check if policy.check is not None else policy.using
    applied = {"r": [policy.using], "d": [policy.using], "a": [policy.check]}.get(
        policy.command, [policy.using, written]
    )
    return all(text is not None and _TENANT_SETTING in text for text in applied)


def _private_partition(name: str, relation: Relation) -> list[str]:
    grantees = sorted({*relation.grants, *(g for c in relation.column_grants.values() for g in c)})
    if not grantees:
        return []
    return [
        f"partition {name} of {relation.partition_of} grants privileges to "
        f"{', '.join(grantees)} [rule: partitions are private]; roles reach it through "
        "its parent, where PostgreSQL checks privileges and the policy"
    ]


def _unmade_partitions(facts: SchemaFacts) -> list[str]:
    parents = {r.partition_of for r in facts.relations.values()}
    return [
        f"partitioned table {name} has a tenant column but no partitions after the declared "
        "upkeep ran [rule: partitions are made]; SELECT tally_declare_partitioned("
        f"'{name}') in a migration"
        for name, relation in facts.relations.items()
        if relation.kind == "p" and relation.tenant and name not in parents
    ]


def _granted(facts: SchemaFacts) -> Privileges:
    found: Privileges = {}
    for name, relation in facts.relations.items():
        if relation.partition_of is not None:
            continue  # their own rule
        kind = "sequence" if relation.kind == "S" else "table"
        for grantee, privileges in relation.grants.items():
            found.setdefault((f"{kind} {name}", grantee), set()).update(privileges)
        for column, by_grantee in relation.column_grants.items():
            for grantee, privileges in by_grantee.items():
                found.setdefault((f"column {name}.{column}", grantee), set()).update(privileges)
    for signature, function in facts.functions.items():
        if function.trigger:
            continue  # PostgreSQL lets nobody call a trigger function directly
        for grantee, privileges in function.grants.items():
            found.setdefault((f"function {signature}", grantee), set()).update(privileges)
    return found


def _expected(grants: Mapping[str, Grants]) -> Privileges:
    expected: Privileges = {}
    for grantee, declared in grants.items():
        for kind, name, privileges in _entries(declared):
            listed = {p.strip().upper() for p in privileges.split(",") if p.strip()}
            expected.setdefault((f"{kind} {name}", grantee), set()).update(listed)
    return expected


def _entries(declared: Grants) -> Iterator[tuple[str, str, str]]:
    for table, privileges in declared.tables.items():
        yield "table", table, privileges
    for spec, privileges in declared.columns.items():
        table, _, columns = spec.partition("(")
        for column in columns.rstrip(")").split(","):
            yield "column", f"{table.strip()}.{column.strip()}", privileges
    for signature, privileges in declared.functions.items():
        yield "function", signature.replace(" ", ""), privileges


def _compare(granted: Privileges, expected: Privileges, declared: str) -> list[str]:
    errors = []
    for (thing, grantee), privileges in sorted(granted.items()):
        extra = privileges - expected.get((thing, grantee), set())
        if extra:
            errors.append(
                f"{thing} grants {', '.join(sorted(extra))} to {grantee}, which ROLE_GRANTS "
                f"({declared}) does not list [rule: no more grants than the roles need]; revoke "
                "it in a migration, or list it there if the role needs it"
            )
    for (thing, grantee), privileges in sorted(expected.items()):
        missing = privileges - granted.get((thing, grantee), set())
        if missing:
            errors.append(
                f"ROLE_GRANTS ({declared}) lists {', '.join(sorted(missing))} on {thing} for "
                f"{grantee}, which the schema does not grant [rule: the declared grants are "
                "the schema's]; grant it in a migration, or remove it there"
            )
    return errors


def _declaration(root: Path) -> str:
    file = Path(inspect.getfile(_grants)).resolve()
    try:
        return file.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)
