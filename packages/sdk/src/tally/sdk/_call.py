"""One request to an endpoint, decoded and typed: who called, with which parameters and body.

    async def get_line(deps: Deps, call: Call[TenantCaller, LinePath]) -> LineDay:
        async def read(tx: Tx) -> LineDay: ...
        return await call.database().transaction(read)     # scoped to call.caller.tenant

`Call[C, P, Q, B]` carries the caller (C), the path parameters (P), the query parameters (Q)
and the body (B), each of the type its endpoint declares; parameters and body an endpoint does
not declare are `NoParams` and None. A tenant caller's transactions are scoped to its tenant
without the handler naming it, so row-level security holds even where a handler forgets a
filter; only an administrator names the tenant (`database_for`), and mypy refuses either method
to the other kind of caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic

import msgspec
from typing_extensions import TypeVar

from tally.sdk._callers import AdminCaller, TenantCaller
from tally.sdk._database import Database, Isolation, Tx
from tally.sdk._errors import ContractError


class NoParams(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The path or query parameters of an endpoint that declares none."""


C = TypeVar("C", covariant=True)
P = TypeVar("P", bound=msgspec.Struct, covariant=True, default=NoParams)
Q = TypeVar("Q", bound=msgspec.Struct, covariant=True, default=NoParams)
B = TypeVar("B", covariant=True, default=None)
T = TypeVar("T")


class ScopedDatabase:
    """The service's database, every transaction scoped to one tenant (or to none)."""

    __slots__ = ("_database", "tenant")

    def __init__(self, database: Database, tenant: str | None) -> None:
        self._database = database
        self.tenant = tenant

    async def transaction(
        self,
        work: Callable[[Tx], Awaitable[T]],
        *,
        readonly: bool = False,
        isolation: Isolation = "read_committed",
        max_retries: int = 3,
    ) -> T:
        """`Database.transaction` with `tally.tenant` set to this scope's tenant."""
        return await self._database.transaction(
            work,
            tenant=self.tenant,
            readonly=readonly,
            isolation=isolation,
            max_retries=max_retries,
        )


class Call(Generic[C, P, Q, B]):
    """A request to an endpoint; see the module docstring."""

    __slots__ = ("_database", "body", "caller", "client", "headers", "path", "query")

    def __init__(
        self,
        *,
        caller: C,
        path: P,
        query: Q,
        body: B,
        headers: Mapping[str, str],
        client: str | None = None,
        database: Database | None = None,
    ) -> None:
        self.caller = caller
        self.path = path
        self.query = query
        self.body = body
        # The request's headers, names in lower case (for what no declaration covers).
        self.headers = headers
        # The peer's address, as the server saw it.
        self.client = client
        self._database = database

    def database(self: Call[TenantCaller, Any, Any, Any]) -> ScopedDatabase:
        """The service's database, scoped to the caller's tenant."""
        return ScopedDatabase(self._require_database(), self.caller.tenant)

    def database_for(self: Call[AdminCaller, Any, Any, Any], tenant: str | None) -> ScopedDatabase:
        """The service's database scoped to `tenant` (an administrator names it: usually the
        tenant in the path); None scopes to no tenant, where row-level security shows no rows."""
        return ScopedDatabase(self._require_database(), tenant)

    def _require_database(self) -> Database:
        if self._database is None:
            raise ContractError("this service declares no database (Service(uses_database=True))")
        return self._database

    def __repr__(self) -> str:
        return f"Call(caller={self.caller!r}, path={self.path!r}, query={self.query!r})"
