"""The database: one asyncpg pool per process, and transactions that retry what is transient.

    async with await Database.connect(url) as db:           # once per process, at start-up
        async def work(tx: Tx) -> list[MachineRow]:
            return await tx.fetch(machines_of_site("acme", "plant-1"))   # typed statements
        rows = await db.transaction(work, tenant="acme")

After a serialization failure, a deadlock or a lost connection the whole `work` runs again on a
fresh connection, so it must have no effects outside the database; other errors propagate. No
client can tell whether a COMMIT cut off mid-way took effect, so a retry may repeat committed
work: tally's writers are idempotent by message identity, which makes that harmless.

Tenants are isolated by row-level security, set per transaction. Every tenant table follows::

    CREATE TABLE notes (tenant text NOT NULL, ...);
    ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
    ALTER TABLE notes FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON notes
        USING (tenant = current_setting('tally.tenant', true))
        WITH CHECK (tenant = current_setting('tally.tenant', true));
    GRANT SELECT, INSERT ON notes TO tally_app;   -- a new table is private until granted

(in a migration, `SELECT tally_tenant_policy('notes')` does the three statements before GRANT).

`transaction(..., tenant=...)` sets `tally.tenant` for that transaction only. Without a tenant,
`current_setting` yields NULL (or '' on a connection that had one before): no row matches, the
safe default. Superusers and BYPASSRLS roles skip all policies, hence a service logs in as a
role of its own (`tally_app` unless it declares another; db/migrations/0007_least_privilege.sql),
which `connect` checks is no superuser and cannot become one. Administration tools holding the
owner's URL connect with `switch_role=True` instead: each connection then acts as the role.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, NamedTuple, Self, TypeVar

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from tally.sdk._copies import Copy
from tally.sdk._errors import InfrastructureError, TallyError, TransactionFailed
from tally.sdk._logins import check_login
from tally.sdk._notifications import ChannelListener, Connect
from tally.sdk._queries import Bound, BoundCommand, Command
from tally.sdk._secrets import redact_url

T = TypeVar("T")
R = TypeVar("R", bound=msgspec.Struct)
C = TypeVar("C", bound=tuple[Any, ...])

Isolation = Literal["read_committed", "repeatable_read", "serializable"]

_COLLISIONS = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SET_TENANT = "SELECT set_config('tally.tenant', $1, true)"
_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 2.0
_PING_SECONDS = 2.0


class NoRowFound(TallyError):
    """`Tx.fetch_one` found no row."""


class PoolStats(NamedTuple):
    """The pool's connections right now, for metrics."""

    size: int  # open connections, busy or idle
    idle: int
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
        return None if record is None else bound.query.rows([record])[0]

    async def execute(self, bound: BoundCommand) -> str:
        """Run a command and return its status, such as ``"UPDATE 3"``."""
        return await self.connection.execute(bound.command.sql, *bound.args)

    async def execute_many(self, command: Command[Any], rows: Iterable[Sequence[object]]) -> None:
        """Run a command once per argument tuple, pipelined in one round trip."""
        await self.connection.executemany(command.sql, rows)

    async def copy_records(self, copy: Copy[C], records: Iterable[C]) -> int:
        """Bulk-load rows by binary COPY into the declared table; return how many.

        PostgreSQL refuses COPY FROM into tables under row-level security (all tenant tables)
        unless the role bypasses it, as the ingest role does: use `execute_many`, or INSERT ...
        SELECT FROM unnest($1::text[], ...), elsewhere.
        """
        schema, name = copy.schema_and_name
        status = await self.connection.copy_records_to_table(
            name, records=records, columns=copy.columns, schema_name=schema
        )
        return int(status.rpartition(" ")[2])  # status reads "COPY <n>"

    async def set_tenant(self, tenant: str) -> None:
        """Scope the rest of this transaction to `tenant` (for batches spanning tenants)."""
        await self.connection.execute(_SET_TENANT, _checked_tenant(tenant))


class Database:
    """The process's connection pool: build one at start-up and share it, never one per message."""

    def __init__(
        self, pool: asyncpg.Pool[asyncpg.Record], *, dedicated: Connect | None = None
    ) -> None:
        """Wrap a ready pool; use `Database.connect` instead. `dedicated` opens a connection
        outside the pool, as the pool's are opened (for `listen`)."""
        self._pool = pool
        self._dedicated = dedicated

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        role: str = "tally_app",
        switch_role: bool = False,
        application_name: str = "tally",
    ) -> Database:
        """Open the pool for `role`, so that row-level security applies.

        A service's `url` logs in as `role` itself: the login is checked to be that role, no
        superuser and unable to become one, or `InfrastructureError` says what is wrong.
        With `switch_role=True` (administration tools holding the owner's URL) each connection
        switches to `role` at session start instead, and the login is not checked.
        """
        settings = {"application_name": application_name}
        # Named apart, so that an operator (or a test) can tell it from the pool's.
        listener_settings = {**settings, "application_name": f"{application_name}-listen"}
        if switch_role:
            # The `role` startup parameter is SET ROLE at session start, without a round trip;
            # it is also the session's reset value, so neither asyncpg's RESET ALL on release
            # nor a stray RESET ROLE falls back to the owner.
            settings["role"] = listener_settings["role"] = role
        try:
            pool = await asyncpg.create_pool(
                url, min_size=min_size, max_size=max_size, server_settings=settings
            )
        except (asyncpg.InvalidParameterValueError, asyncpg.InsufficientPrivilegeError) as exc:
            raise InfrastructureError(
                f"cannot SET ROLE {role} on the database at {redact_url(url)}: {exc}. Run "
                "`tally migrate` (it creates the role and grants it)."
            ) from exc
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise InfrastructureError(
                f"{application_name} cannot log in to {redact_url(url)}: {exc}. Run `tally "
                f"migrate`, which makes the services' login roles such as {role}."
            ) from exc
        if not switch_role:
            try:
                async with pool.acquire() as conn:
                    await check_login(conn, role, application_name)
            except BaseException:
                pool.terminate()
                raise
        dedicated = functools.partial(
            asyncpg.connect, url, timeout=10.0, server_settings=listener_settings
        )
        return cls(pool, dedicated=dedicated)

    async def close(self, *, grace: float = 10.0) -> None:
        """Close the pool, waiting up to `grace` seconds for running transactions to finish."""
        try:
            await asyncio.wait_for(self._pool.close(), grace)
        except TimeoutError:
            self._pool.terminate()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def listen(
        self,
        channel: str,
        *,
        on_notify: Callable[[str], None],
        on_listening: Callable[[], None],
    ) -> AsyncIterator[ChannelListener]:
        """LISTEN on `channel` over a connection of its own for as long as the block runs:
        `on_notify(payload)` for every notification, `on_listening()` after every (re)connect
        (notifications may have been missed before it). See `tally.sdk._notifications`."""
        if self._dedicated is None:
            raise TallyError("this Database wraps a bare pool; open it with Database.connect")
        listener = ChannelListener(
            self._dedicated, channel, on_notify=on_notify, on_listening=on_listening
        )
        task = asyncio.create_task(listener.run())
        try:
            yield listener
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def ping(self) -> bool:
        """Whether a pooled connection answers within two seconds (for readiness probes)."""
        try:
            async with asyncio.timeout(_PING_SECONDS), self._pool.acquire() as conn:
                return bool(await conn.fetchval("SELECT true"))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):  # TimeoutError: OSError
            return False

    @property
    def pool_stats(self) -> PoolStats:
        """How many connections the pool holds and how many of them are idle."""
        pool = self._pool
        return PoolStats(pool.get_size(), pool.get_idle_size(), pool.get_max_size())

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
        self, work: Callable[[Tx], Awaitable[T]], tenant: str | None, isolation: Isolation, ro: bool
    ) -> T:
        conn = await self._pool.acquire()
        tx = Tx(conn)
        try:
            async with conn.transaction(isolation=isolation, readonly=ro):
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
    """Whether running the transaction again may succeed: a collision or a lost connection.

    Looks at causes and contexts too: asyncpg reports a connection that died mid-transaction as
    an `InterfaceError` from the rollback, with the real failure as its context.
    """
    return _in_chain(exc, lambda e: _collided(e) or _connection_lost(e))


def _in_chain(exc: BaseException, predicate: Callable[[BaseException], bool]) -> bool:
    current: BaseException | None = exc
    for _ in range(8):  # bounded: a chain may loop
        if current is None:
            return False
        if predicate(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _collided(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.PostgresError) and exc.sqlstate in _COLLISIONS


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg.PostgresError):
        # Class 08 (asyncpg's ConnectionDoesNotExistError too) and 57P0x: server shut down,
        # crashed or still starting; pg_terminate_backend gives 57P01.
        return exc.sqlstate.startswith(("08", "57P"))
    if isinstance(exc, asyncpg.InterfaceError):
        # asyncpg's words when the socket closed under a running transaction.
        message = str(exc)
        return "connection is closed" in message or "released back to the pool" in message
    # Socket errors only: OSError subclasses such as FileNotFoundError or TimeoutError raised by
    # `work` say nothing about the connection. asyncio reports failed connects as plain OSError.
    return isinstance(exc, ConnectionError | socket.gaierror) or type(exc) is OSError


def _backoff(attempt: int) -> float:
    delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0**attempt)
    # Jitter keeps transactions that collided once from colliding again in lockstep.
    return delay / 2 + random.uniform(0, delay / 2)


def _checked_tenant(tenant: str) -> str:
    # '' is what current_setting yields on a connection whose tenant was reset: never a tenant.
    if not tenant:
        raise ValueError("tenant must be a non-empty string")
    return tenant
