"""A tenant caller's database is scoped to its tenant and it cannot name another; only an
administrator names the tenant it works on."""

from __future__ import annotations

from tally.sdk import AdminCaller, Call, TenantCaller


async def as_tenant(call: Call[TenantCaller]) -> None:
    call.database()
    call.database_for("another-tenant")  # E: misc Invalid self argument


async def as_admin(call: Call[AdminCaller]) -> None:
    call.database_for("acme")
    call.database()  # E: misc Invalid self argument
