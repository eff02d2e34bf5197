"""The API's settings, read once at start-up from TALLY_API_*."""

from __future__ import annotations

from typing import Annotated

import msgspec

from tally.sdk import Secret

_SHORTEST_TOKEN = 24


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """`admin_token` has no default: without it the service refuses to start."""

    # The platform administrators' bearer token (TALLY_API_ADMIN_TOKEN), long enough not to be
    # guessed: `python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one.
    admin_token: Secret
    # Registry entries are a few hundred bytes; anything this large is a mistake.
    max_body_bytes: Annotated[int, msgspec.Meta(gt=0)] = 64 * 1024

    def __post_init__(self) -> None:
        if len(self.admin_token) < _SHORTEST_TOKEN:
            raise ValueError(
                f"TALLY_API_ADMIN_TOKEN must be at least {_SHORTEST_TOKEN} characters long"
            )
