"""The database: typed round trips, retried transactions, and tenant isolation by RLS."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import NamedTuple, assert_type

import asyncpg
import msgspec
import pytest

from tally.sdk._copies import copy_into
from tally.sdk._database import Database, NoRowFound, Tx
from tally.sdk._errors import InfrastructureError, TallyError, TransactionFailed
from tally.sdk._logins import role_url
from tally.sdk._migrations import migrate
from tally.sdk._queries import command, query

pytestmark = pytest.mark.integration

_ROLES = Path(__file__).parents[3] / "db" / "migrations" / "0001_roles.sql"


class CounterRow(msgspec.Struct, frozen=True):
    id: int
    n: int


class NoteRow(msgspec.Struct, frozen=True):
    tenant: str
    body: str


@query(CounterRow, "SELECT id, n FROM counters WHERE id = $1")
def counter(counter_id: int) -> None: ...


@query(CounterRow, "SELECT id, n FROM counters ORDER BY id")
def all_counters() -> None: ...


@command("INSERT INTO counters (id, n) VALUES ($1, $2)")
def add_counter(counter_id: int, n: int) -> None: ...


@command("UPDATE counters SET n = n + 1 WHERE id = $1")
def bump(counter_id: int) -> None: ...


@command("DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END $$")
def fail_serialization() -> None: ...


class Counted(NamedTuple):
    id: int
    n: int


class Note(NamedTuple):
    tenant: str
    body: str


COUNTERS = copy_into("public.counters", Counted)
NOTES = copy_into("notes", Note)


@query(NoteRow, "SELECT * FROM notes ORDER BY body")
def all_notes() -> None: ...


@command("INSERT INTO notes (tenant, body) VALUES ($1, $2)")
def add_note(tenant: str, body: str) -> None: ...


async def admin_execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def db(scratch_database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    # Only the roles migration: later files in db/migrations are other modules' business.
    shutil.copy(_ROLES, tmp_path / _ROLES.name)
    await migrate(scratch_database_url, tmp_path)
    await admin_execute(
        scratch_database_url,
        "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL);"
        "INSERT INTO counters VALUES (1, 0), (2, 0);",
    )
    # The owner's URL, acting as tally_app: these tests are about the pool, not the logins.
    async with await Database.connect(
        scratch_database_url, max_size=4, switch_role=True
    ) as database:
        yield database


async def test_typed_round_trip(db: Database) -> None:
    async def work(tx: Tx) -> tuple[list[CounterRow], CounterRow, CounterRow | None, str, str]:
        status = await tx.execute(add_counter(3, 30))
        await tx.execute_many(add_counter, [(4, 40), (5, 50)])
        rows = await tx.fetch(all_counters())
        one = await tx.fetch_one(counter(3))
        none = await tx.fetch_optional(counter(99))
        role = await tx.connection.fetchval("SELECT current_user")
        return rows, one, none, status, str(role)

    rows, one, none, status, role = await db.transaction(work)
    assert_type(rows, list[CounterRow])
    assert [row.id for row in rows] == [1, 2, 3, 4, 5]
    assert one == CounterRow(id=3, n=30)
    assert none is None
    assert status == "INSERT 0 1"
    assert role == "tally_app"


async def test_fetch_one_without_row_says_which_query(db: Database) -> None:
    async def work(tx: Tx) -> CounterRow:
        return await tx.fetch_one(counter(99))

    with pytest.raises(NoRowFound, match=r"query counter .* no row for arguments \(99,\)"):
        await db.transaction(work)


async def test_copy_records_returns_count(db: Database) -> None:
    async def work(tx: Tx) -> int:
        return await tx.copy_records(COUNTERS, [Counted(10, 1), Counted(11, 2)])

    assert await db.transaction(work) == 2

    async def read(tx: Tx) -> list[CounterRow]:
        return await tx.fetch(all_counters())

    assert [(r.id, r.n) for r in await db.transaction(read)][-2:] == [(10, 1), (11, 2)]


async def test_role_survives_the_pool_reset(db: Database) -> None:
    async def whoami(tx: Tx) -> str:
        # Not even RESET ROLE falls back to the (superuser) login user.
        await tx.connection.execute("RESET ROLE")
        return str(await tx.connection.fetchval("SELECT current_user"))

    # asyncpg runs RESET ALL on release; the role must still hold on the reused connection.
    for _ in range(3):
        assert await db.transaction(whoami) == "tally_app"
    assert db.pool_stats.size <= 4


async def test_tx_is_unusable_after_its_transaction(db: Database) -> None:
    async def leak(tx: Tx) -> Tx:
        return tx

    tx = await db.transaction(leak)
    with pytest.raises(TallyError, match="this Tx is finished"):
        await tx.fetch(all_counters())


async def test_serialization_failure_is_retried(db: Database) -> None:
    attempts = 0

    async def work(tx: Tx) -> list[CounterRow]:
        nonlocal attempts
        attempts += 1
        await tx.execute(bump(1))
        if attempts == 1:
            await tx.execute(fail_serialization())
        return await tx.fetch(counter(1))

    assert await db.transaction(work, isolation="serializable") == [CounterRow(id=1, n=1)]
    assert attempts == 2  # and the first attempt's bump was rolled back


async def test_deadlock_is_retried_until_both_succeed(db: Database) -> None:
    locked = {1: asyncio.Event(), 2: asyncio.Event()}
    attempts = 0

    def crossing(first: int, second: int) -> Callable[[Tx], Awaitable[None]]:
        async def work(tx: Tx) -> None:
            nonlocal attempts
            attempts += 1
            await tx.execute(bump(first))
            locked[first].set()
            await locked[second].wait()  # both now hold one row and want the other's
            await tx.execute(bump(second))

        return work

    await asyncio.gather(db.transaction(crossing(1, 2)), db.transaction(crossing(2, 1)))

    async def read(tx: Tx) -> list[CounterRow]:
        return await tx.fetch(all_counters())

    assert await db.transaction(read) == [CounterRow(id=1, n=2), CounterRow(id=2, n=2)]
    assert attempts == 3  # PostgreSQL aborted exactly one of the two once


async def terminate(url: str, pid: int, *, after: float = 0.0) -> None:
    await asyncio.sleep(after)  # the scenario: the backend dies `after` seconds into the work
    admin = await asyncpg.connect(url)
    try:
        # The timeout makes it wait until the backend is gone.
        await admin.execute("SELECT pg_terminate_backend($1, 5000)", pid)
    finally:
        await admin.close()


@pytest.mark.parametrize("busy", [False, True], ids=["between-statements", "mid-statement"])
async def test_killed_backend_is_retried_on_a_fresh_connection(
    db: Database, scratch_database_url: str, busy: bool
) -> None:
    pids: list[int] = []

    async def work(tx: Tx) -> CounterRow:
        pids.append(int(await tx.connection.fetchval("SELECT pg_backend_pid()")))
        await tx.execute(bump(1))
        if len(pids) == 1 and busy:
            killer = asyncio.create_task(terminate(scratch_database_url, pids[0], after=0.2))
            try:
                await tx.connection.execute("SELECT pg_sleep(30)")
            finally:
                await killer
        elif len(pids) == 1:
            await terminate(scratch_database_url, pids[0])
        return await tx.fetch_one(counter(1))

    assert await db.transaction(work) == CounterRow(id=1, n=1)
    assert len(pids) == 2
    assert pids[0] != pids[1]

    async def read(tx: Tx) -> CounterRow:
        return await tx.fetch_one(counter(1))

    # The pool dropped the dead connection and keeps serving.
    for _ in range(5):
        assert await db.transaction(read) == CounterRow(id=1, n=1)
    assert await db.ping()


async def test_gives_up_after_max_retries(db: Database) -> None:
    attempts = 0

    async def work(tx: Tx) -> None:
        nonlocal attempts
        attempts += 1
        await tx.execute(fail_serialization())

    with pytest.raises(TransactionFailed, match=r"after 3 attempt.*SerializationError") as error:
        await db.transaction(work, max_retries=2)
    assert attempts == 3
    assert isinstance(error.value.__cause__, asyncpg.SerializationError)


async def test_other_errors_propagate_without_retry(db: Database) -> None:
    attempts = 0

    async def work(tx: Tx) -> None:
        nonlocal attempts
        attempts += 1
        await tx.execute(add_counter(1, 0))

    with pytest.raises(asyncpg.UniqueViolationError):
        await db.transaction(work)
    assert attempts == 1


async def test_empty_tenant_is_refused(db: Database) -> None:
    async def work(tx: Tx) -> None:
        raise AssertionError("not reached")

    with pytest.raises(ValueError, match="non-empty"):
        await db.transaction(work, tenant="")


async def test_unknown_role_fails_clearly(scratch_database_url: str) -> None:
    with pytest.raises(InfrastructureError, match="SET ROLE tally_no_such_role"):
        await Database.connect(scratch_database_url, role="tally_no_such_role", switch_role=True)


@pytest.fixture
async def probe_role(scratch_database_url: str) -> AsyncIterator[str]:
    """A login role of the test's own (roles are shared by every database of the server)."""
    role = f"probe_{secrets.token_hex(4)}"
    await admin_execute(scratch_database_url, f"CREATE ROLE {role} LOGIN")
    yield role
    await admin_execute(scratch_database_url, f"DROP ROLE {role}")


async def test_a_least_privileged_login_connects_as_itself(
    scratch_database_url: str, probe_role: str
) -> None:
    url = role_url(scratch_database_url, probe_role)
    async with await Database.connect(url, role=probe_role, min_size=0) as database:

        async def whoami(tx: Tx) -> str:
            return str(await tx.connection.fetchval("SELECT session_user"))

        assert await database.transaction(whoami) == probe_role


async def test_a_login_as_another_role_is_refused(
    scratch_database_url: str, probe_role: str
) -> None:
    url = role_url(scratch_database_url, probe_role)
    with pytest.raises(InfrastructureError, match=f"logs in as {probe_role}, another role"):
        await Database.connect(url, role="tally_app", application_name="api")


async def test_a_superuser_login_is_refused(scratch_database_url: str) -> None:
    # The owner's URL of the embedded server logs in as its superuser.
    conn = await asyncpg.connect(scratch_database_url)
    try:
        owner = await conn.fetchval("SELECT session_user")
        superuser = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1", owner)
    finally:
        await conn.close()
    if not superuser:
        pytest.skip("TALLY_OWNER_DATABASE_URL logs in as no superuser")
    with pytest.raises(
        InfrastructureError, match=rf"gateway must log in as {owner}\b.* a superuser"
    ):
        await Database.connect(scratch_database_url, role=owner, application_name="gateway")


@pytest.mark.parametrize("grant", ["a superuser role", "pg_execute_server_program", "CREATEROLE"])
async def test_a_login_that_can_become_a_superuser_is_refused(
    scratch_database_url: str, probe_role: str, grant: str
) -> None:
    boss = f"{probe_role}_boss"
    if grant == "CREATEROLE":
        await admin_execute(scratch_database_url, f"ALTER ROLE {probe_role} CREATEROLE")
    elif grant == "a superuser role":
        await admin_execute(scratch_database_url, f"CREATE ROLE {boss} SUPERUSER NOLOGIN")
        await admin_execute(scratch_database_url, f"GRANT {boss} TO {probe_role}")
    else:
        await admin_execute(scratch_database_url, f"GRANT {grant} TO {probe_role}")
    try:
        url = role_url(scratch_database_url, probe_role)
        with pytest.raises(
            InfrastructureError, match=f"must log in as {probe_role}.* {probe_role}"
        ):
            await Database.connect(url, role=probe_role, min_size=0)
    finally:
        await admin_execute(
            scratch_database_url,
            f"REVOKE pg_execute_server_program FROM {probe_role}; DROP ROLE IF EXISTS {boss}",
        )


async def test_row_level_security_scopes_each_transaction(
    db: Database, scratch_database_url: str
) -> None:
    await admin_execute(
        scratch_database_url,
        """
        CREATE TABLE notes (tenant text NOT NULL, body text NOT NULL);
        ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notes FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON notes
            USING (tenant = current_setting('tally.tenant', true))
            WITH CHECK (tenant = current_setting('tally.tenant', true));
        """,
    )
    for tenant, body in [("a", "a1"), ("a", "a2"), ("b", "b1")]:

        async def insert(tx: Tx, tenant: str = tenant, body: str = body) -> None:
            await tx.execute(add_note(tenant, body))

        await db.transaction(insert, tenant=tenant)

    async def read(tx: Tx) -> list[NoteRow]:
        return await tx.fetch(all_notes())

    assert [n.body for n in await db.transaction(read, tenant="a")] == ["a1", "a2"]
    assert [n.body for n in await db.transaction(read, tenant="b")] == ["b1"]
    assert await db.transaction(read) == []

    async def smuggle(tx: Tx) -> None:
        await tx.execute(add_note("b", "from a"))

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await db.transaction(smuggle, tenant="a")

    async def copy(tx: Tx) -> int:
        return await tx.copy_records(NOTES, [Note("a", "a3")])

    # PostgreSQL has no COPY FROM for tables under row-level security: tenant tables need INSERTs.
    with pytest.raises(asyncpg.FeatureNotSupportedError, match="row-level security"):
        await db.transaction(copy, tenant="a")

    async def switch(tx: Tx) -> list[NoteRow]:
        await tx.set_tenant("b")
        await tx.execute(add_note("b", "b2"))
        return await tx.fetch(all_notes())

    assert [n.body for n in await db.transaction(switch, tenant="a")] == ["b1", "b2"]
