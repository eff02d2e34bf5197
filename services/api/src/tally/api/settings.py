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
    # Session cookies are `Secure` (sent over HTTPS only). Off only for a demo over plain HTTP
    # on the loopback interface (TALLY_API_COOKIE_SECURE=false), which browsers trust.
    cookie_secure: bool = True
    # A session lasts at most this long, and ends sooner when unused for the idle time.
    session_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 12
    session_idle_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 30
    # Failed logins per user and per source address within the window, then a lockout.
    login_user_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    login_address_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    login_window_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 15
    login_lock_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 15
    # How often an open dashboard's event stream looks for new figures (a read of the rollup's
    # latest minute per line): pages update within this plus the rollup's own delay.
    live_seconds: Annotated[float, msgspec.Meta(ge=0.2, le=60)] = 2.0
    # A site's production day is closed (its daily reports stored as version 1) this long
    # after it ends; closed days this recent are checked for late data every 30 minutes.
    report_grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 30
    report_recheck_days: Annotated[int, msgspec.Meta(ge=1, le=31)] = 2
    # False: this process serves reports but never produces closed days on its schedule
    # (`tally report` starts such an api for one report).
    report_schedules: bool = True

    def __post_init__(self) -> None:
        if len(self.admin_token) < _SHORTEST_TOKEN:
            raise ValueError(
                f"TALLY_API_ADMIN_TOKEN must be at least {_SHORTEST_TOKEN} characters long"
            )
