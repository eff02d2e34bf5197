"""Who is calling an endpoint, as the endpoint's authentication scheme found out.

    Caller                  identity and role: what every caller has
    ├── TenantCaller        ... acting for one tenant: a machine, an API key, a user's session
    ├── AdminCaller         ... operating the platform: no tenant of its own
    └── Anonymous           ... nobody in particular (a public endpoint)

A scheme yields one of these (or a subclass a service defines, to carry more, such as a
machine's ingest budget); the handler reads it from `call.caller`, typed. A tenant caller's
database transactions are scoped to its tenant (`call.database()`); an administrator names the
tenant it works on (`call.database_for(tenant)`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    """Whoever sent the request: `identity` names them (a machine, a user, a key), `role` says
    what they may do (endpoints may require roles)."""

    identity: str
    role: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TenantCaller(Caller):
    """A caller acting for exactly one tenant; it never sees another tenant's rows."""

    tenant: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AdminCaller(Caller):
    """An operator of the platform: acts on any tenant, naming it each time."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Anonymous(Caller):
    """The caller of a public endpoint."""

    identity: str = ""
    role: str = "anonymous"
