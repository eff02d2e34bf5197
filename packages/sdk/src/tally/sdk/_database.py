"""The database: one asyncpg pool per process, and transactions that retry what is transient.

A service builds one `Database` at start-up and runs all its SQL through `Database.transaction`,
whose `work` function receives a `Tx` and uses typed statements from `tally.sdk._queries`::

    async def record(tx: Tx) -> list[MachineRow]:
        await tx.execute(forget_machine("acme", "slicer-7"))
        return await tx.fetch(machines_of_site("acme", "plant-1"))

    async with await Database.connect(url) as db:
        rows = await db.transaction(record, tenant="acme")

The whole `work` function is run again (on a fresh connection and transaction) after a
serialization failure, a deadlock or a lost connection, so it must not have side effects outside
the database; anything else it raises propagates at once. One caveat no client can remove: when
the connection drops during COMMIT the transaction may have committed, so the retry may apply
the work twice. tally's writers are idempotent by message identity, which makes that harmless.

Tenant isolation is PostgreSQL row-level security, set per transaction. The convention for every
tenant table (in its migration)::

    CREATE TABLE notes (tenant text NOT NULL, ...);
    ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
    ALTER TABLE notes FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON notes
        USING (tenant = current_setting('tally.tenant', true))
        WITH CHECK (tenant = current_setting('tally.tenant', true));

`transaction(..., tenant=...)` sets `tally.tenant` for that transaction only. Without a tenant,
`current_setting` yields NULL (or '' on a connection that had one set before), which matches no
row: the safe default. Superusers and roles with BYPASSRLS ignore every policy, which is why each
pooled connection runs `SET ROLE tally_app` (created by db/migrations/0001_roles.sql) first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, TypeVar

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from tally.sdk._errors import InfrastructureError, TallyError, TransactionFailed
from tally.sdk._queries import Bound, BoundCommand, Command

T = TypeVar("T")
R = TypeVar("R", bound=msgspec.Struct)

Isolation = Literal["read_committed", "repeatable_read", "serializable"]

# serialization_failure, deadlock_detected, and the server shutting down or restarting.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
_SET_TENANT = "SELECT set_config('tally.tenant', $1, true)"
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 2.0
_PING_SECONDS = 2.0


class NoRowFound(TallyError):
    """`Tx.fetch_one` found no row."""


class PoolStats(NamedTuple):
    """The pool's connections right now, for metrics."""

    size: int
    idle: int
    min_size: int
    max_size: int


class Tx:
    """One transaction on one connection; valid only inside the `work` function it was given to."""

    __slots__ = ("_conn",)

    def __init__(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = conn

    @property
    def connection(self) -> PoolConnectionProxy[asyncpg.Record]:
        """The underlying asyncpg connection, for what the typed methods do not cover."""
        if self._conn is None:
            raise TallyError("this Tx is finished; use it only inside its transaction's work")
        return self._conn

    async def fetch(self, bound: Bound[R]) -> list[R]:
        """Run a query and return all its rows."""
        records = await self.connection.fetch(bound.query.sql, *bound.args)
        return bound.query.rows(records)

    async def fetch_one(self, bound: Bound[R]) -> R:
        """Run a query and return its first row; raise `NoRowFound` when there is none."""
        row = await self.fetch_optional(bound)
        if row is None:
            raise NoRowFound(
                f"query {bound.query.name} ({bound.query.source}) returned no row for "
                f"arguments {bound.args!r}"
            )
        return row

    async def fetch_optional(self, bound: Bound[R]) -> R | None:
        """Run a query and return its first row, or None when there is none."""
        record = await self.connection.fetchrow(bound.query.sql, *bound.args)
        if record is None:
            return None
        return bound.query.rows([record])[0]

    async def execute(self, bound: BoundCommand) -> str:
        """Run a command and return its status, such as ``"UPDATE 3"``."""
        return await self.connection.execute(bound.command.sql, *bound.args)

    async def execute_many(self, command: Command[Any], rows: Iterable[Sequence[object]]) -> None:
        """Run a command once per argument tuple, pipelined in one round trip."""
        await self.connection.executemany(command.sql, rows)

    async def copy_records(
        self, table: str, columns: Sequence[str], records: Iterable[Sequence[object]]
    ) -> int:
        """Bulk-load records with binary COPY; return how many were copied.

        `table` may be schema-qualified (``"raw.datapoints"``). PostgreSQL refuses COPY FROM
        into a table whose row-level security applies to the current role, so for tenant tables
        use `execute_many` or an INSERT ... SELECT FROM unnest($1::text[], ...) instead.
        """
        schema, _, name = table.rpartition(".")
        status = await self.connection.copy_records_to_table(
            name, records=records, columns=columns, schema_name=schema or None
        )
        return int(status.rpartition(" ")[2])  # status reads "COPY <n>"

    async def set_tenant(self, tenant: str) -> None:
        """Scope the rest of this transaction to `tenant` (for batches spanning tenants)."""
        await self.connection.execute(_SET_TENANT, _checked_tenant(tenant))


class Database:
    """The process's connection pool and the one way to run transactions on it.

    Build it once at start-up (`await Database.connect(url)`) and share it; never open a
    connection per message.
    """

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        """Wrap a ready pool; use `Database.connect` instead."""
        self._pool = pool

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        role: str | None = "tally_app",
        application_name: str = "tally",
    ) -> Database:
        """Open the pool. Each connection switches to `role` so row-level security applies.

        Pass `role=None` only for tools that must act as the URL's user (e.g. administration).
        """
        init = None if role is None else _set_role(role)
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                init=init,
                server_settings={"application_name": application_name},
            )
        except (asyncpg.InvalidParameterValueError, asyncpg.InsufficientPrivilegeError) as exc:
            raise InfrastructureError(
                f"cannot SET ROLE {role} on the database: {exc}. Run `tally migrate` (its "
                f"0001_roles.sql creates the role and grants it), or pass role=None."
            ) from exc
        return cls(pool)

    async def close(self, *, grace: float = 10.0) -> None:
        """Close the pool, waiting up to `grace` seconds for running transactions to finish."""
        try:
            await asyncio.wait_for(self._pool.close(), grace)
        except TimeoutError:
            self._pool.terminate()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def ping(self) -> bool:
        """Whether a pooled connection answers within two seconds (for readiness probes)."""
        try:
            async with asyncio.timeout(_PING_SECONDS), self._pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False  # TimeoutError is an OSError
        return True

    @property
    def pool_stats(self) -> PoolStats:
        """How many connections the pool holds and how many of them are idle."""
        pool = self._pool
        return PoolStats(
            size=pool.get_size(),
            idle=pool.get_idle_size(),
            min_size=pool.get_min_size(),
            max_size=pool.get_max_size(),
        )

    async def transaction(
        self,
        work: Callable[[Tx], Awaitable[T]],
        *,
        tenant: str | None = None,
        max_retries: int = 3,
        isolation: Isolation = "read_committed",
        readonly: bool = False,
    ) -> T:
        """Run `work` in one transaction and commit; return what `work` returned.

        With `tenant`, row-level security shows and accepts only that tenant's rows. After a
        serialization failure, a deadlock or a lost connection the whole of `work` runs again,
        at most `max_retries` times with growing, jittered pauses; then `TransactionFailed`.
        Any other exception rolls back and propagates at once.
        """
        if tenant is not None:
            _checked_tenant(tenant)
        attempt = 0
        while True:
            try:
                return await self._attempt(work, tenant, isolation, readonly)
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                if attempt >= max_retries:
                    raise TransactionFailed(
                        f"transaction {getattr(work, '__qualname__', work)!s} gave up after "
                        f"{attempt + 1} attempt(s); last error: {type(exc).__name__}: {exc}"
                    ) from exc
                await asyncio.sleep(_backoff(attempt))
                attempt += 1

    async def _attempt(
        self,
        work: Callable[[Tx], Awaitable[T]],
        tenant: str | None,
        isolation: Isolation,
        readonly: bool,
    ) -> T:
        conn = await self._pool.acquire()
        tx = Tx(conn)
        try:
            async with conn.transaction(isolation=isolation, readonly=readonly):
                if tenant is not None:
                    await conn.execute(_SET_TENANT, tenant)
                return await work(tx)
        except Exception as exc:
            if _in_chain(exc, _connection_lost):
                # Never hand a half-dead connection to the next transaction. When asyncpg saw
                # the socket close it has already returned the connection to the pool, and
                # every call on the proxy raises InterfaceError.
                with contextlib.suppress(asyncpg.InterfaceError):
                    conn.terminate()
            raise
        finally:
            tx._conn = None
            await self._pool.release(conn)


def is_retryable(exc: BaseException) -> bool:
    """Whether running the transaction again may succeed (the error is transient).

    Looks through the exception's cause and context too: asyncpg reports a connection that
    died mid-transaction as an `InterfaceError` raised while rolling back, with the real
    failure as its context.
    """
    return _in_chain(exc, _retryable_itself)


def _in_chain(exc: BaseException, predicate: Callable[[BaseException], bool]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if predicate(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _retryable_itself(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = exc.sqlstate
        # Class 08 covers asyncpg's own ConnectionDoesNotExistError.
        return sqlstate in _RETRYABLE_SQLSTATES or sqlstate.startswith("08")
    return _connection_lost(exc)


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate.startswith("08") or exc.sqlstate.startswith("57P")
    if isinstance(exc, asyncpg.InterfaceError):
        # asyncpg's words when the socket closed under a running transaction.
        message = str(exc)
        return "connection is closed" in message or "released back to the pool" in message
    # A timeout is an OSError too, but says nothing about the connection being gone.
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)


def _backoff(attempt: int) -> float:
    delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0**attempt)
    # Jitter keeps transactions that collided once from colliding again in lockstep.
    return delay / 2 + random.uniform(0, delay / 2)


def _checked_tenant(tenant: str) -> str:
    # '' is what current_setting yields on a connection whose tenant was reset: never a tenant.
    if not tenant:
        raise ValueError("tenant must be a non-empty string")
    return tenant


def _set_role(
    role: str,
) -> Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]]:
    statement = 'SET ROLE "{}"'.format(role.replace('"', '""'))

    async def init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        # Session-level on purpose: asyncpg's reset on release runs RESET ALL, which does not
        # reset the role, so the role holds for the connection's life.
        await conn.execute(statement)

    return init
