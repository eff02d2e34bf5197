"""A typed query called with arguments of the wrong type or number is a type error."""

from __future__ import annotations

import msgspec

from tally.sdk import query


class MachineRow(msgspec.Struct, frozen=True):
    machine: str


@query(MachineRow, "SELECT machine FROM machines WHERE tenant = $1 AND line = $2")
def machines_of_line(tenant: str, line: int) -> None: ...


machines_of_line("acme", "l1")  # E: arg-type
machines_of_line("acme")  # E: call-arg
