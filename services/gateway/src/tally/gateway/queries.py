"""The gateway's one statement: which machine a token belongs to (never on the hot path when
the token is cached)."""

from __future__ import annotations

import msgspec

from tally.sdk import query


class MachineIdentity(msgspec.Struct, frozen=True):
    """The machine a token authenticates, and its tenant's ingest budget."""

    tenant: str
    machine: str
    rate_per_second: int


# The channel on which PostgreSQL announces every change to a machine token (0008), with the
# token's SHA-256 in hex.
TOKEN_CHANGES = "tally_machine_tokens"


# tally_authenticate runs with its owner's rights: the gateway does not know the tenant before
# it has looked the token up, so row-level security could not show it the row.
@query(
    MachineIdentity,
    "SELECT tenant, machine, rate_per_second FROM tally_authenticate($1)",
)
def machine_of_token(token_sha256: bytes) -> None: ...
